// The reporter's client, as the page runs it: the same steps as
// src/client/reporter.rs, over the same /v1 API. No DOM here, so node runs
// it in the tests too. Problems carry a catalog key and parameters, so the
// page can say them in the reporter's language.

import {
  CONTENT_VERSION,
  FROM_DESK,
  FROM_REPORTER,
  Token,
  b64,
  b64url,
  bytesEqual,
  checkRecipients,
  fingerprint,
  fromPadded,
  hex,
  open,
  parseCard,
  verifyShare,
  sealWithProgress,
  sha256,
  toPadded,
  verifyEnvelope,
  wipe,
} from "./crypto.js";
import {
  Frontier,
  bundlePath,
  caseCommitment,
  decodeBundle,
  decodeLeaf,
  deskCommitment,
  leafHash,
  messageCommitment,
  openCheckpoint,
  parseVerifier,
  readersCommitment,
  recipientCommitment,
  reporterCommitment,
  verifyConsistency,
  verifyInclusion,
  verifyPromise,
} from "./tlog.js";

/** The version of the receipt files this page writes (src/client/receipt_file.rs). */
export const RECEIPT_FILE_VERSION = 2;

/** A problem to show the reporter: a catalog key and its parameters. */
export class Problem extends Error {
  constructor(key, params = {}) {
    super(`${key} ${JSON.stringify(params)}`);
    this.key = key;
    this.params = params;
  }
}

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
    const res = await this.#fetch(path, init);
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

  reporterStatus(handle) {
    return this.json("/v1/reporter/case", { headers: { "sotto-handle": handle } });
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

// ---- Receipts ----

/** The size of the latest published checkpoint, 0 before the first. */
async function publishedSize(api, verifier) {
  try {
    return openCheckpoint(await api.text("/log/checkpoint"), verifier).size;
  } catch (e) {
    if (e.status === 404) return 0;
    throw e;
  }
}

/**
 * Checks a receipt file on its own (src/client/receipt_file.rs): the
 * promise's signature (version 2), the receipt's checkpoint and proof if
 * there is one, both for the same leaf, which opens this case. Returns
 * `{verifier, leaf, hash, checkpoint, entry, published}` (checkpoint and
 * entry null while the file holds only the promise).
 */
export function verifyReceipt(file) {
  const verifier = parseVerifier(file.log_key);
  const p = file.promise ?? null;
  const r = file.receipt ?? null;
  let leafBytes;
  if (file.version === 1 && !p && r) {
    leafBytes = b64.decode(r.leaf);
  } else if (file.version === 2 && p) {
    leafBytes = b64.decode(p.leaf);
    try {
      verifyPromise(verifier, leafBytes, p.signature);
    } catch {
      throw new Problem("receipt.bad_promise");
    }
    if (r && !bytesEqual(b64.decode(r.leaf), leafBytes)) throw new Problem("receipt.other_promise");
  } else {
    throw new Problem("receipt.malformed");
  }
  const leaf = decodeLeaf(leafBytes);
  if (
    !leaf ||
    leaf.kind !== "case-opened" ||
    !bytesEqual(leaf.hashes[0], deskCommitment(file.desk)) ||
    !bytesEqual(leaf.hashes[1], caseCommitment(file.case))
  ) {
    throw new Problem("receipt.not_this_case");
  }
  const hash = leafHash(leafBytes);
  if (!r) return { verifier, leaf, hash, checkpoint: null, entry: null, published: false };
  const cp = openCheckpoint(r.checkpoint, verifier);
  const proof = r.inclusion_proof.map((h) => b64.decode(h));
  if (!verifyInclusion(r.leaf_index, cp.size, hash, proof, cp.root)) {
    throw new Problem("receipt.bad_proof");
  }
  return { verifier, leaf, hash, checkpoint: cp, entry: r.leaf_index, published: file.version >= 2 };
}

function checkOwnReceipt(file, envelopeHash, readers, keys) {
  try {
    const v = verifyReceipt(file);
    const [, , report, loggedReaders, reporter] = v.leaf.hashes;
    if (!bytesEqual(report, messageCommitment(file.case, 0, FROM_REPORTER, envelopeHash))) {
      return new Problem("receipt.other_report");
    }
    if (!bytesEqual(loggedReaders, readersCommitment(readers))) return new Problem("receipt.other_readers");
    if (!bytesEqual(reporter, reporterCommitment(keys.x25519, b64url.decode(keys.ed25519)))) {
      return new Problem("receipt.other_keys");
    }
    if (v.leaf.day !== file.opened) return new Problem("receipt.other_day");
    return null;
  } catch (e) {
    return e instanceof Problem ? e : new Problem("receipt.malformed");
  }
}

/** Where a verified receipt with its checkpoint stands against today's log. */
async function standing(api, v) {
  const now = openCheckpoint(await api.text("/log/checkpoint"), v.verifier);
  const old = v.checkpoint;
  const entry = v.entry;
  if (now.size < old.size && !v.published) {
    return { standing: { published: false, entry, size: now.size } };
  }
  if (now.size < old.size) return { problem: new Problem("receipt.rolled_back", { size: old.size }) };
  let consistent = bytesEqual(now.root, old.root) && now.size === old.size;
  if (now.size > old.size) {
    const p = await api.json(`/v1/log/consistency?from=${old.size}&to=${now.size}`);
    consistent = verifyConsistency(old.size, now.size, old.root, now.root, p.proof.map((h) => b64.decode(h)));
  }
  if (!consistent) return { problem: new Problem("receipt.rewritten", { size: old.size }) };
  const p = await api.json(`/v1/log/inclusion?index=${entry}&size=${now.size}`);
  if (!verifyInclusion(entry, now.size, v.hash, p.proof.map((h) => b64.decode(h)), now.root)) {
    return { problem: new Problem("receipt.no_longer_included", { entry }) };
  }
  return { standing: { published: true, entry, size: now.size } };
}

/**
 * Checks a receipt against today's log: still included, the log only
 * grown, and the served report the logged one. A file holding only the
 * promise is completed with the receipt once the batch is published
 * (`upgraded`, to save instead); a promise the published log passed
 * without keeping it is a problem. Returns problems to show (an empty
 * list when all is well), the standing and the completed file if any.
 */
export async function checkReceipt(api, token, file, status) {
  let v;
  try {
    v = verifyReceipt(file);
  } catch (e) {
    return { problems: [e instanceof Problem ? e : new Problem("receipt.malformed")] };
  }
  const keys = reporterCommitment(await token.recipient(), b64url.decode(token.verifyingKey()));
  if (!bytesEqual(v.leaf.hashes[4], keys)) return { problems: [new Problem("receipt.other_token")] };
  let upgraded = null;
  let result;
  if (v.checkpoint) {
    result = await standing(api, v);
  } else {
    // Only the promise. The published size is read before the server is
    // asked: a checkpoint it shows has been published by then.
    const published = await publishedSize(api, v.verifier);
    // Any checkpoint larger than the one seen just after the promise was
    // published later, and must hold the promised leaf.
    const passed = Number.isSafeInteger(file.published_at_promise) && published > file.published_at_promise;
    if (!status) return { problems: [new Problem("receipt.deleted_promised", { day: v.leaf.day })] };
    let answer;
    try {
      answer = await api.json("/v1/reporter/case/receipt", { headers: { "sotto-handle": token.handle() } });
    } catch (e) {
      // The batch was published and the server cannot give the receipt.
      if (passed && e.status) {
        return { problems: [new Problem("receipt.promise_broken", { day: v.leaf.day, size: published })] };
      }
      throw e;
    }
    if (answer.receipt) {
      const full = { ...file, receipt: answer.receipt };
      try {
        v = verifyReceipt(full);
      } catch (e) {
        return { problems: [e instanceof Problem ? e : new Problem("receipt.malformed")] };
      }
      upgraded = full;
      result = await standing(api, v);
    } else if (passed) {
      result = { problem: new Problem("receipt.promise_broken", { day: v.leaf.day, size: published }) };
    } else {
      result = {
        standing: { published: false, entry: null, size: published, seconds: answer.receipt_after_seconds },
      };
    }
  }
  if (result.problem) return { problems: [result.problem] };
  const entry = v.entry;
  const problems = [];
  if (!status) {
    problems.push(new Problem("receipt.deleted", { day: v.leaf.day, entry }));
  } else if (!status.erased) {
    const first = status.messages[0];
    const served = first && messageCommitment(file.case, 0, FROM_REPORTER, sha256(b64.decode(first.envelope)));
    if (status.case !== file.case) problems.push(new Problem("receipt.other_case"));
    else if (!served || !bytesEqual(served, v.leaf.hashes[2])) problems.push(new Problem("receipt.replaced"));
  }
  return { problems, standing: result.standing, upgraded };
}

/**
 * The promise for the token's case, with its receipt if the batch was
 * published: a receipt file for a reporter who kept none, to check like a
 * kept one.
 */
export async function fetchReceipt(api, token, status) {
  const handle = token.handle();
  const answer = await api.json("/v1/reporter/case/receipt", { headers: { "sotto-handle": handle } });
  const log = await api.json("/v1/log");
  const published = await publishedSize(api, parseVerifier(log.key));
  return {
    version: RECEIPT_FILE_VERSION,
    server: api.base,
    case: status.case,
    desk: status.desk,
    opened: status.opened,
    log_key: log.key,
    promise: answer.promise,
    published_at_promise: published,
    receipt: answer.receipt,
  };
}

// ---- Reading the thread ----

/**
 * Reads the case: message 0 must be the reporter's own report; every later
 * message is checked against the cards sealed in it. A message that fails
 * is kept with the reason (never dropped).
 */
export async function readCase(token, status) {
  const identity = token.identity();
  const ownKey = token.verifyingKey();
  if (status.erased && status.messages.length === 0) return { messages: [], cards: [] };
  const first = await readOne(status.case, 0, status.messages[0], identity, ownKey, []);
  if (!first) throw new Problem("status.no_report");
  if (first.problem || first.content.kind !== "report") {
    throw new Problem("status.own_report_bad", { why: first.problem?.key ?? "" });
  }
  const cards = [];
  for (const line of first.content.recipients) {
    try {
      const c = parseCard(line);
      cards.push({ ...c, id: fingerprint(c).id });
    } catch {
      // A card the reporter's own client sealed always parses; skip junk.
    }
  }
  // Readers the case was shared with: each share must be signed by the
  // reporter or a reader trusted before it; any other is ignored.
  for (const s of status.shares ?? []) {
    let card;
    let envelope;
    try {
      card = parseCard(s.reader.card);
      card = { ...card, id: fingerprint(card).id };
      envelope = b64.decode(s.envelope);
    } catch {
      continue;
    }
    if (card.id !== s.reader.id) continue;
    const sharer = s.shared_by == null ? null : cards.find((c) => c.id === s.shared_by);
    const key = s.shared_by == null ? ownKey : sharer?.ed25519;
    if (!key || !verifyShare(key, status.case, s.reader.id, s.upto, envelope, s.signature)) continue;
    cards.push({ ...card, sharedOn: s.on, sharedBy: sharer ? sharer.name : null });
  }
  const messages = [first];
  for (let i = 1; i < status.messages.length; i++) {
    messages.push(await readOne(status.case, i, status.messages[i], identity, ownKey, cards));
  }
  return { messages, cards };
}

async function readOne(caseId, expected, m, identity, ownKey, cards) {
  if (!m) return null;
  const out = { seq: m.seq, direction: m.direction, on: m.on, author: null, content: null, problem: null };
  const direction = m.direction === "reporter" ? FROM_REPORTER : m.direction === "desk" ? FROM_DESK : 0;
  if (!direction) {
    out.problem = new Problem("thread.unknown_direction");
    return out;
  }
  if (m.seq !== expected) {
    out.problem = new Problem("thread.out_of_place", { got: m.seq, want: expected });
    return out;
  }
  let key = ownKey;
  if (direction === FROM_DESK) {
    const card = cards.find((c) => c.id === m.author);
    if (!card) {
      out.problem = new Problem("thread.not_a_recipient");
      return out;
    }
    out.author = card.name;
    key = card.ed25519;
  }
  let envelope;
  try {
    envelope = b64.decode(m.envelope);
  } catch {
    out.problem = new Problem("thread.bad_signature");
    return out;
  }
  if (!verifyEnvelope(key, caseId, m.seq, direction, envelope, m.signature)) {
    out.problem = new Problem("thread.bad_signature");
    return out;
  }
  try {
    const padded = await open(identity, envelope);
    out.content = fromPadded(padded);
    wipe(padded);
  } catch {
    out.problem = new Problem("thread.cannot_decrypt");
  }
  return out;
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
  const seq = status.messages.length;
  const signature = token.signEnvelope(status.case, seq, envelope);
  return api.json("/v1/reporter/case/messages", {
    method: "POST",
    headers: { "content-type": "application/json", "sotto-handle": token.handle() },
    body: JSON.stringify({ seq, envelope: b64.encode(envelope), signature }),
  });
}

/**
 * Escalates the case to readers of another desk, once nobody acknowledged
 * it in time: the thread as read here (every message must have been read),
 * sealed to each chosen reader and the reporter, one share each, signed
 * with the token's key. `chosen` are checked cards of that desk.
 */
export async function escalateCase(api, token, status, read, desk, chosen, hooks = {}) {
  if (chosen.length === 0) throw new Problem("report.nobody");
  if (read.messages.some((m) => m.problem || !m.content)) throw new Problem("escalate.unreadable");
  const messages = status.messages.map((m, i) => ({
    seq: m.seq,
    direction: m.direction,
    author: m.author ?? null,
    envelope_sha256: hex(sha256(b64.decode(m.envelope))),
    signature: m.signature,
    content: read.messages[i].content,
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
