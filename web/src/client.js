// The reporter's client, as the page runs it: the same steps as
// src/client/reporter.rs, over the same /v1 API. No DOM here, so node runs
// it in the tests too. Problems carry a catalog key and parameters, so the
// page can say them in the reporter's language.

import {
  CONTENT_VERSION,
  Token,
  b64,
  bytesEqual,
  checkRecipients,
  hex,
  sealWithProgress,
  sha256,
  toPadded,
  wipe,
} from "./crypto.js";
import {
  Frontier,
  bundlePath,
  decodeBundle,
  decodeLeaf,
  deskCommitment,
  leafHash,
  openCheckpoint,
  parseVerifier,
  recipientCommitment,
} from "./tlog.js";
import { Problem } from "./problem.js";
import { RECEIPT_FILE_VERSION, checkOwnReceipt, publishedSize } from "./receipt.js";

export { Problem } from "./problem.js";
export { checkReceipt, fetchReceipt, verifyReceipt } from "./receipt.js";
export { joinPages, mergeCase, openThread, readCase, receiptView, refreshThread } from "./thread.js";


const hexOf = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The /v1 API of one server. `base` is "" in the page (same origin). */
export class Api {
  constructor(base = "") {
    this.base = base;
  }

  async #fetch(path, init = {}) {
    let res;
    try {
      res = await fetch(this.base + path, { cache: "no-store", credentials: "omit", ...init });
    } catch {
      throw new Problem("error.network");
    }
    return res;
  }

  async json(path, init = {}) {
    return this.#body(await this.#fetch(path, init));
  }

  async #body(res) {
    let body = null;
    try {
      body = await res.json();
    } catch {
      body = null;
    }
    if (!res.ok) {
      const e = new Problem("error.server", {
        status: res.status,
        message: body?.message ?? res.statusText,
      });
      e.status = res.status;
      e.code = body?.error;
      throw e;
    }
    return body;
  }

  async bytes(path) {
    const res = await this.#fetch(path);
    if (!res.ok) throw new Problem("error.server", { status: res.status, message: res.statusText });
    return new Uint8Array(await res.arrayBuffer());
  }

  async text(path) {
    const res = await this.#fetch(path);
    if (!res.ok) {
      const e = new Problem("error.server", { status: res.status, message: res.statusText });
      e.status = res.status;
      throw e;
    }
    return res.text();
  }

  desk(name) {
    return this.json(`/v1/desks/${encodeURIComponent(name)}`);
  }

  /** The case with the first page of its thread. */
  reporterStatus(handle) {
    return this.json("/v1/reporter/case", { headers: { "sotto-handle": handle } });
  }

  /**
   * One page of the case: the messages after `after` (from the report
   * without it). With `etag`, the tag of a case the caller holds whole,
   * an unchanged case answers `{notModified: true, etag}` and no body.
   * Otherwise `{status, etag}`.
   */
  async reporterPage(handle, { after, etag } = {}) {
    const headers = { "sotto-handle": handle };
    if (etag) headers["if-none-match"] = etag;
    const query = after === undefined ? "" : `?after=${encodeURIComponent(after)}`;
    const res = await this.#fetch(`/v1/reporter/case${query}`, { headers });
    if (res.status === 304) return { notModified: true, etag: res.headers.get("etag") ?? etag };
    const status = await this.#body(res);
    return { status, etag: res.headers.get("etag") };
  }
}

// ---- The log ----

/**
 * Follows the log from a remembered state (or from the start), hashing
 * every new entry in. Returns the new state, and the readers of each desk
 * the log shows: `rosters[deskHex][recipientHex] = day added`.
 */
export async function followLog(api, remembered) {
  const info = await api.json("/v1/log");
  const keyText = remembered?.key ?? info.key;
  if (remembered && remembered.key !== info.key) {
    throw new Problem("log.key_changed", { was: remembered.key, now: info.key });
  }
  const verifier = parseVerifier(keyText);
  const note = await api.text("/log/checkpoint");
  let cp;
  try {
    cp = openCheckpoint(note, verifier);
  } catch {
    throw new Problem("log.bad_checkpoint");
  }
  const frontier = new Frontier();
  let rosters = {};
  if (remembered) {
    if (cp.size < remembered.size) {
      throw new Problem("log.shrank", { was: remembered.size, now: cp.size });
    }
    frontier.size = remembered.size;
    frontier.stack = remembered.frontier.map(([h, x]) => [h, b64.decode(x)]);
    rosters = structuredClone(remembered.rosters);
    if (!bytesEqual(frontier.root(), b64.decode(remembered.root))) {
      throw new Problem("log.damaged_memory");
    }
  }
  const start = frontier.size;
  for (let n = Math.floor(start / 256); n * 256 < cp.size; n++) {
    const width = Math.min(256, cp.size - n * 256);
    const entries = decodeBundle(await api.bytes(`/log/${bundlePath(n, width)}`));
    if (!entries || entries.length !== width) throw new Problem("log.bad_bundle");
    entries.forEach((e, i) => {
      const index = n * 256 + i;
      if (index < start) return;
      frontier.push(leafHash(e));
      const leaf = decodeLeaf(e);
      if (leaf && (leaf.kind === "recipient-added" || leaf.kind === "recipient-removed")) {
        const desk = hexOf(leaf.hashes[0]);
        const r = hexOf(leaf.hashes[1]);
        rosters[desk] ??= {};
        if (leaf.kind === "recipient-added") rosters[desk][r] = leaf.day;
        else delete rosters[desk][r];
      }
    });
  }
  const root = frontier.root();
  if (frontier.size !== cp.size || !bytesEqual(root, cp.root)) {
    throw new Problem("log.rewritten");
  }
  return {
    key: keyText,
    size: cp.size,
    root: b64.encode(root),
    frontier: frontier.stack.map(([h, x]) => [h, b64.encode(x)]),
    rosters,
    seen: { ...(remembered?.seen ?? {}) },
  };
}

/**
 * The reader check before encrypting: who the server offers that the log
 * does not show, and who was added since this browser last saw the desk.
 */
export function checkReaders(state, deskName, offered) {
  const roster = state.rosters[hexOf(deskCommitment(deskName))] ?? {};
  const seen = state.seen[deskName];
  const unlogged = [];
  const added = [];
  for (const r of offered) {
    const day = roster[hexOf(recipientCommitment(r.id))];
    if (!day) unlogged.push(r);
    else if (seen && !seen.includes(r.id)) added.push({ ...r, day });
  }
  return { unlogged, added, remembered: Boolean(seen) };
}

// ---- Submitting ----

/**
 * Submits a report. `form` holds the fields; `chosen` the desk's checked
 * recipients to encrypt to. `hooks.solve(challenge, hash, difficulty)`
 * finds the proof of work (a Worker in the page); `hooks.progress(stage,
 * done, total)` is told how far each stage is.
 */
export async function submitReport(api, desk, chosen, form, hooks = {}) {
  if (chosen.length === 0) throw new Problem("report.nobody");
  const token = Token.generate();
  const reporterX25519 = await token.recipient();
  const reporterEd25519 = token.verifyingKey();
  const content = {
    kind: "report",
    v: CONTENT_VERSION,
    desk: desk.name,
    text: form.text,
    urgent: Boolean(form.urgent),
    record_only: Boolean(form.recordOnly),
    links: form.links ?? [],
    attachments: form.attachments ?? [],
    recipients: chosen.map((r) => r.card),
    reporter_x25519: reporterX25519,
    reporter_ed25519: reporterEd25519,
  };
  if (form.when) content.when = form.when;
  if (form.involved) content.involved = form.involved;
  if (form.category) content.category = form.category;
  if (form.lang) content.lang = form.lang;
  const padded = toPadded(content);
  const envelope = await sealWithProgress(
    [...chosen.map((r) => r.parsed.recipient), reporterX25519],
    padded,
    (done, total) => hooks.progress?.("encrypt", done, total),
  );
  wipe(padded);
  if (envelope.length > desk.limits.max_envelope_bytes) {
    throw new Problem("report.too_large", {
      size: envelope.length,
      limit: desk.limits.max_envelope_bytes,
    });
  }
  const challenge = await api.json(`/v1/desks/${encodeURIComponent(desk.name)}/challenge`, {
    method: "POST",
  });
  const signature = token.signEnvelope(challenge.case, 0, envelope);
  const envelopeHash = sha256(envelope);
  const nonce = await hooks.solve(challenge.challenge, envelopeHash, challenge.difficulty);
  const body = JSON.stringify({
    desk: desk.name,
    challenge: challenge.challenge,
    pow_nonce: nonce,
    reporter_x25519: reporterX25519,
    reporter_ed25519: reporterEd25519,
    recipients: chosen.map((r) => r.id),
    envelope: b64.encode(envelope),
    signature,
    record_only: Boolean(form.recordOnly),
  });
  let opened;
  try {
    opened = await upload(api, token.handle(), body, hooks);
  } catch (e) {
    // The upload may have landed although its answer was lost: ask by
    // handle before giving up, so no token of a stored case is thrown away.
    if (e.key === "error.network" || (e.status ?? 0) >= 500) {
      opened = await recover(api, token, challenge.case).catch(() => {
        throw e;
      });
    } else {
      throw e;
    }
  }
  if (opened.case !== challenge.case) throw new Problem("report.other_case");
  // The case is open: from here on nothing may throw, or the token is lost.
  const warnings = [];
  let logKey = hooks.logKey;
  let published = null;
  try {
    logKey ??= (await api.json("/v1/log")).key;
    // Read after the promise: every checkpoint published later holds it.
    published = await publishedSize(api, parseVerifier(logKey));
  } catch {
    warnings.push(new Problem("log.unreachable"));
  }
  const receipt = {
    version: RECEIPT_FILE_VERSION,
    server: hooks.server ?? api.base,
    case: opened.case,
    desk: desk.name,
    opened: opened.opened,
    log_key: logKey ?? "",
    promise: opened.promise,
    published_at_promise: published,
    receipt: null,
  };
  const problem = checkOwnReceipt(receipt, envelopeHash, chosen.map((r) => r.id), {
    x25519: reporterX25519,
    ed25519: reporterEd25519,
  });
  if (problem) warnings.push(problem);
  return { token, opened, receipt, warnings };
}

/** POSTs the case with upload progress (XMLHttpRequest where there is one). */
function upload(api, handle, body, hooks) {
  if (typeof XMLHttpRequest === "undefined") {
    return api.json("/v1/cases", {
      method: "POST",
      headers: { "content-type": "application/json", "sotto-handle": handle },
      body,
    });
  }
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${api.base}/v1/cases`);
    xhr.setRequestHeader("content-type", "application/json");
    xhr.setRequestHeader("sotto-handle", handle);
    xhr.upload.onprogress = (ev) => hooks.progress?.("upload", ev.loaded, ev.total || body.length);
    xhr.onerror = () => reject(new Problem("error.network"));
    xhr.onload = () => {
      let parsed = null;
      try {
        parsed = JSON.parse(xhr.responseText);
      } catch {
        parsed = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && parsed) return resolve(parsed);
      const e = new Problem("error.server", { status: xhr.status, message: parsed?.message ?? "" });
      e.status = xhr.status;
      e.code = parsed?.error;
      reject(e);
    };
    xhr.send(body);
  });
}

async function recover(api, token, caseId) {
  const handle = token.handle();
  const s = await api.reporterStatus(handle);
  if (s.case !== caseId) throw new Problem("report.other_case");
  const answer = await api.json("/v1/reporter/case/receipt", { headers: { "sotto-handle": handle } });
  return {
    case: s.case,
    state: s.state,
    opened: s.opened,
    next_update_due: s.next_update_due,
    promise: answer.promise,
    receipt_after_seconds: answer.receipt_after_seconds ?? 0,
  };
}

/** Posts a follow-up, encrypted to the sealed cards, the readers shared with since, and the reporter's own key. */
export async function postFollowUp(api, token, status, cards, text, attachments = [], hooks = {}) {
  if (status.erased) throw new Problem("status.erased.write", { day: status.erased.on });
  const padded = toPadded({ kind: "message", v: CONTENT_VERSION, text, attachments });
  const envelope = await sealWithProgress(
    [...cards.map((c) => c.recipient), await token.recipient()],
    padded,
    (done, total) => hooks.progress?.("encrypt", done, total),
  );
  wipe(padded);
  // The next message's place: the thread's length, not the page's.
  const seq = status.message_count;
  const signature = token.signEnvelope(status.case, seq, envelope);
  return api.json("/v1/reporter/case/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "sotto-handle": token.handle() },
    body: JSON.stringify({ seq, envelope: b64.encode(envelope), signature }),
  });
}

/**
 * Escalates the case to readers of another desk, once nobody acknowledged
 * it in time: the whole thread as read and held here (every message must
 * have been read), sealed to each chosen reader and the reporter, one
 * share each, signed with the token's key. `chosen` are checked cards of
 * that desk.
 */
export async function escalateCase(api, token, status, read, desk, chosen, hooks = {}) {
  if (chosen.length === 0) throw new Problem("report.nobody");
  if (read.messages.some((m) => m.problem || !m.content)) throw new Problem("escalate.unreadable");
  const messages = read.messages.map((m) => ({
    seq: m.seq,
    direction: m.direction,
    author: m.authorId,
    envelope_sha256: hex(m.envelopeSha256),
    signature: m.signature,
    content: m.content,
  }));
  const padded = toPadded({ kind: "shared-thread", v: CONTENT_VERSION, messages });
  const upto = messages.length;
  const own = await token.recipient();
  const shares = [];
  let total = 0;
  for (const [i, r] of chosen.entries()) {
    const envelope = await sealWithProgress([r.parsed.recipient, own], padded, (done, all) =>
      hooks.progress?.("encrypt", (i + done / all) / chosen.length, 1),
    );
    total += envelope.length;
    shares.push({
      reader: r.id,
      desk: desk.name,
      upto,
      envelope: b64.encode(envelope),
      signature: token.signShare(status.case, r.id, upto, envelope),
    });
  }
  wipe(padded);
  if (total > desk.limits.max_envelope_bytes) throw new Problem("escalate.too_large");
  return api.json("/v1/reporter/case/escalate", {
    method: "POST",
    headers: { "content-type": "application/json", "sotto-handle": token.handle() },
    body: JSON.stringify({ desk: desk.name, shares }),
  });
}

export { Token, checkRecipients };
