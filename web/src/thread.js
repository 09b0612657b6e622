// Reading the reporter's case, as src/client/paged.rs and reporter.rs do.
// The server sends the thread in pages (`?after=SEQ`); they are joined
// here and checked so that no message is skipped, repeated or reordered.
// Later reads ask only for the messages after the last one held, with the
// case's ETag, so a case that did not change costs a 304 and no envelope
// is downloaded twice. What is read is held in memory only, by the page
// that asked: never in localStorage, sessionStorage or IndexedDB.

import {
  FROM_DESK,
  FROM_REPORTER,
  b64,
  fingerprint,
  fromPadded,
  open,
  parseCard,
  sha256,
  verifyEnvelopeDigest,
  verifyShareDigest,
  wipe,
} from "./crypto.js";
import { Problem } from "./problem.js";

// ---- Pages ----

/** A page must go on from message `from`, one message after the other. */
export function checkPage(messages, from) {
  messages.forEach((m, i) => {
    if (m?.seq !== from + i) throw new Problem("thread.out_of_place", { got: m?.seq ?? "?", want: from + i });
  });
}

/**
 * The thread from message `from` on, whole. `page` is the first answer;
 * `fetchPage(after)` reads the next one (the case's ETag is not sent
 * while paging: only a client that holds everything may send it). The
 * answer is the last page's status with every message joined, so a
 * message posted while paging is read too.
 */
export async function joinPages(page, fetchPage, from = 0) {
  checkPage(page.messages, from);
  const messages = [...page.messages];
  let status = page;
  let last = page;
  while (from + messages.length < status.message_count) {
    if (last.messages.length === 0) {
      // The server counts more messages than it sends.
      const want = from + messages.length;
      throw want === 0 ? new Problem("status.no_report") : new Problem("thread.out_of_place", { got: "—", want });
    }
    last = await fetchPage(messages.at(-1).seq);
    checkPage(last.messages, from + messages.length);
    messages.push(...last.messages);
    status = last;
  }
  return { ...status, messages };
}

// ---- Messages ----

/**
 * Reads one message at its expected place: checked, then decrypted. A
 * message that fails is kept with the reason (never dropped). The
 * envelope's hash and signature are kept for an escalation, which seals
 * the thread as read here; the envelope itself is not.
 */
async function readOne(caseId, expected, m, identity, ownKey, cards) {
  if (!m) return null;
  const out = {
    seq: m.seq,
    direction: m.direction,
    on: m.on,
    author: null,
    authorId: m.author ?? null,
    envelopeSha256: null,
    signature: m.signature,
    content: null,
    problem: null,
  };
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
  out.envelopeSha256 = sha256(envelope);
  if (!verifyEnvelopeDigest(key, caseId, m.seq, direction, out.envelopeSha256, m.signature)) {
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

async function readMessages(caseId, messages, from, identity, ownKey, cards) {
  const out = [];
  for (const [i, m] of messages.entries()) out.push(await readOne(caseId, from + i, m, identity, ownKey, cards));
  return out;
}

/** The cards sealed in the report: whom the reporter chose. */
function sealedCards(report) {
  const cards = [];
  for (const line of report.recipients) {
    try {
      const c = parseCard(line);
      cards.push({ ...c, id: fingerprint(c).id });
    } catch {
      // A card the reporter's own client sealed always parses; skip junk.
    }
  }
  return cards;
}

/**
 * The sealed cards and the readers the case was shared with: each share
 * must be signed by the reporter or a reader trusted before it, over the
 * SHA-256 of the share's envelope (the reporter is sent only that); any
 * other is ignored.
 */
function trustedCards(caseId, sealed, shares, ownKey) {
  const cards = [...sealed];
  for (const s of shares ?? []) {
    let card;
    try {
      card = parseCard(s.reader.card);
      card = { ...card, id: fingerprint(card).id };
    } catch {
      continue;
    }
    if (card.id !== s.reader.id) continue;
    const sharer = s.shared_by == null ? null : cards.find((c) => c.id === s.shared_by);
    const key = s.shared_by == null ? ownKey : sharer?.ed25519;
    if (!key || !verifyShareDigest(key, caseId, s.reader.id, s.upto, s.envelope_sha256, s.signature)) continue;
    cards.push({ ...card, sharedOn: s.on, sharedBy: sharer ? sharer.name : null });
  }
  return cards;
}

/**
 * Reads a whole thread: message 0 must be the reporter's own report;
 * every later message is checked against the cards sealed in it and the
 * readers shared with since. Returns `{messages, cards, sealed}`.
 */
export async function readCase(token, status) {
  if (status.erased && status.messages.length === 0) return { messages: [], cards: [], sealed: [] };
  const identity = token.identity();
  const ownKey = token.verifyingKey();
  const first = await readOne(status.case, 0, status.messages[0], identity, ownKey, []);
  if (!first) throw new Problem("status.no_report");
  if (first.problem || first.content.kind !== "report") {
    throw new Problem("status.own_report_bad", { why: first.problem?.key ?? "" });
  }
  const sealed = sealedCards(first.content);
  const cards = trustedCards(status.case, sealed, status.shares, ownKey);
  const rest = await readMessages(status.case, status.messages.slice(1), 1, identity, ownKey, cards);
  return { messages: [first, ...rest], cards, sealed };
}

/**
 * What a delta read adds to what is held: `status.messages` are the
 * messages after the last one held. Only they are decrypted; the report's
 * cards are kept from the first read, and the shares are checked again
 * (a case may have been escalated since).
 */
export async function mergeCase(token, held, status) {
  const ownKey = token.verifyingKey();
  const cards = trustedCards(status.case, held.sealed, status.shares, ownKey);
  const from = held.messages.length;
  const fresh = await readMessages(status.case, status.messages, from, token.identity(), ownKey, cards);
  return { messages: [...held.messages, ...fresh], cards, sealed: held.sealed };
}

// ---- The case as the page holds it ----

/** The status without its messages: their envelopes are not kept. */
function withoutMessages(status) {
  const { messages: _, ...rest } = status;
  return rest;
}

/** Pages of the thread read unconditionally, the latest ETag remembered in `tag`. */
function pager(api, handle, tag) {
  return async (after) => {
    const answer = await api.reporterPage(handle, { after });
    if (answer.notModified) throw new Problem("error.server", { status: 304, message: "Not Modified" });
    tag.etag = answer.etag;
    return answer.status;
  };
}

/**
 * Opens the case: every page of the thread, joined, checked and read.
 * Returns what the page holds, in memory only: `{status, read, etag}`,
 * where `status` is the case without envelopes and `read` the messages
 * as decrypted and the cards.
 */
export async function openThread(api, token) {
  const handle = token.handle();
  const first = await api.reporterPage(handle);
  const tag = { etag: first.etag };
  const status = await joinPages(first.status, pager(api, handle, tag));
  const read = await readCase(token, status);
  return { status: withoutMessages(status), read, etag: tag.etag, changed: true };
}

/**
 * Reads what changed since `held`: the messages after the last one held,
 * with its ETag, so that an unchanged case costs a 304 (`changed` false,
 * `held` as it was). A thread shorter than the one held (erased, or cut
 * by the server) is read again from the start, as a first read would.
 */
export async function refreshThread(api, token, held) {
  const count = held.read.messages.length;
  const handle = token.handle();
  const after = count > 0 ? held.read.messages[count - 1].seq : undefined;
  const answer = await api.reporterPage(handle, { after, etag: held.etag ?? undefined });
  if (answer.notModified) return { ...held, etag: answer.etag ?? held.etag, changed: false };
  if (!(answer.status.message_count >= count)) return openThread(api, token);
  const tag = { etag: answer.etag };
  const status = await joinPages(answer.status, pager(api, handle, tag), count);
  // Nothing is held only of an erased case: read as a first read would.
  const read = count === 0 ? await readCase(token, status) : await mergeCase(token, held.read, status);
  return { status: withoutMessages(status), read, etag: tag.etag, changed: true };
}

/**
 * The status as the receipt check reads it: message 0 by its envelope's
 * hash, from the first read (receipt.js compares it with the logged one).
 */
export function receiptView(held) {
  const first = held.read.messages[0];
  return { ...held.status, messages: first ? [{ seq: first.seq, envelopeSha256: first.envelopeSha256 }] : [] };
}
