// The reporter's cryptography, byte for byte the Rust client's
// (docs/protocol.md). Every primitive comes from an audited library:
// age-encryption for envelopes, @noble/curves for Ed25519, @noble/hashes
// for SHA-256 and HKDF, @scure/base for Bech32 and base64. This file only
// arranges bytes and labels; the shared vectors (testdata/web/) prove it
// agrees with crates/envelope.

import { Decrypter, Encrypter, identityToRecipient } from "age-encryption";
import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64, base64urlnopad, bech32, bech32m } from "@scure/base";

const enc = new TextEncoder();
const dec = new TextDecoder("utf-8", { fatal: true });

// Labels: crates/envelope/src/labels.rs. Each derivation and signature has
// its own versioned label.
export const LABELS = {
  tokenHandle: "sotto/v1/token/handle",
  tokenX25519: "sotto/v1/token/x25519",
  tokenEd25519: "sotto/v1/token/ed25519",
  tokenHrp: "sotto-token-v1",
  fingerprint: "sotto/v1/recipient/fingerprint",
  sigEnvelope: "sotto/v1/sig/envelope",
  sigShare: "sotto/v1/sig/share",
  sigLogPromise: "sotto/v1/sig/log-promise",
  pow: "sotto/v1/pow",
  padded: "sotto/v1/padded\n",
  logLeaf: "sotto/v1/log/leaf",
  logDesk: "sotto/v1/log/desk",
  logRecipient: "sotto/v1/log/recipient",
  logCase: "sotto/v1/log/case",
  logMessage: "sotto/v1/log/message",
  logReaders: "sotto/v1/log/readers",
  logReporter: "sotto/v1/log/reporter",
};

export const TOKEN_BYTES = 16;
const TOKEN_CHARS = 32;
const TOKEN_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
export const MIN_PADDED = 1024;
export const CONTENT_VERSION = 1;

/** Concatenates byte arrays. */
export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** `n` as 8 bytes, big-endian. `n` is a non-negative safe integer. */
export function u64be(n) {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

function u32be(n) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Constant-time equality of two byte arrays of public length. */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Overwrites a secret buffer. JavaScript cannot promise more than this. */
export function wipe(bytes) {
  if (bytes) bytes.fill(0);
}

export { sha256 };
export const b64 = {
  encode: (bytes) => base64.encode(bytes),
  decode: (s) => base64.decode(s),
};
export const b64url = {
  encode: (bytes) => base64urlnopad.encode(bytes),
  decode: (s) => base64urlnopad.decode(s),
};

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(s) {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new Error("not lower-case hex");
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function derive(secret, label) {
  return hkdf(sha256, secret, new Uint8Array(0), enc.encode(label), 32);
}

/** A token error, with a key into the message catalogs. */
export class TokenError extends Error {
  constructor(key) {
    super(key);
    this.key = key;
  }
}

/**
 * The reporter's token: 16 secret bytes, and what derives from them. The
 * bytes stay in this object; `forget()` overwrites them.
 */
export class Token {
  #bytes;

  constructor(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== TOKEN_BYTES) {
      throw new TokenError("token.length");
    }
    this.#bytes = Uint8Array.from(bytes);
  }

  static generate() {
    return new Token(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)));
  }

  /** Reads a typed token: case, spaces and dashes do not matter. */
  static parse(typed) {
    let compact = "";
    for (const c of String(typed)) {
      if (/\s/.test(c) || c === "-") continue;
      const l = c.toLowerCase();
      if (!TOKEN_ALPHABET.includes(l) || l.length !== 1) throw new TokenError("token.character");
      compact += l;
      if (compact.length > TOKEN_CHARS) throw new TokenError("token.length");
    }
    if (compact.length !== TOKEN_CHARS) throw new TokenError("token.length");
    let words;
    try {
      const d = bech32m.decode(`${LABELS.tokenHrp}1${compact}`);
      if (d.prefix !== LABELS.tokenHrp) throw new Error("prefix");
      words = d.words;
    } catch {
      throw new TokenError("token.checksum");
    }
    let bytes;
    try {
      bytes = bech32m.fromWords(words);
    } catch {
      throw new TokenError("token.checksum");
    }
    if (bytes.length !== TOKEN_BYTES) throw new TokenError("token.length");
    const t = new Token(bytes);
    wipe(bytes);
    return t;
  }

  /** The written form: eight groups of four, lower case. */
  display() {
    const full = bech32m.encode(LABELS.tokenHrp, bech32m.toWords(this.#bytes));
    const compact = full.slice(LABELS.tokenHrp.length + 1);
    return compact.match(/.{4}/g).join("-");
  }

  /** The handle, base64url: the only value the server finds a case by. */
  handle() {
    return b64url.encode(derive(this.#bytes, LABELS.tokenHandle));
  }

  /** The reporter's age identity (`AGE-SECRET-KEY-1…`). */
  identity() {
    const secret = derive(this.#bytes, LABELS.tokenX25519);
    const s = bech32.encode("age-secret-key-", bech32.toWords(secret), false).toUpperCase();
    wipe(secret);
    return s;
  }

  /** The reporter's `age1…` recipient. */
  async recipient() {
    return identityToRecipient(this.identity());
  }

  /** The Ed25519 seed; the caller wipes it. */
  signingSeed() {
    return derive(this.#bytes, LABELS.tokenEd25519);
  }

  /** The Ed25519 public key, base64url. */
  verifyingKey() {
    const seed = this.signingSeed();
    const pk = ed25519.getPublicKey(seed);
    wipe(seed);
    return b64url.encode(pk);
  }

  /** Signs `message` with the token's Ed25519 key; the seed is wiped at once. */
  #sign(message) {
    const seed = this.signingSeed();
    const sig = ed25519.sign(message, seed);
    wipe(seed);
    return b64url.encode(sig);
  }

  /** Signs a share of the case with one more reader (protocol §7). */
  signShare(caseId, reader, upto, envelope) {
    return this.#sign(shareMessage(caseId, reader, upto, envelope));
  }

  /** Signs an envelope's place in the thread, as the reporter. */
  signEnvelope(caseId, seq, envelope) {
    return this.#sign(envelopeMessage(caseId, seq, FROM_REPORTER, envelope));
  }

  forget() {
    wipe(this.#bytes);
  }
}

export const FROM_REPORTER = 1;
export const FROM_DESK = 2;

/** The 79-byte message an envelope signature covers (protocol §7). */
export function envelopeMessage(caseId, seq, direction, envelope) {
  return envelopeDigestMessage(caseId, seq, direction, sha256(envelope));
}

/** The same message from the envelope's SHA-256, for a reader who hashed it already. */
export function envelopeDigestMessage(caseId, seq, direction, envelopeSha256) {
  const id = typeof caseId === "string" ? fromHex(caseId) : caseId;
  if (id.length !== 16) throw new Error("a case id is 16 bytes");
  if (envelopeSha256.length !== 32) throw new Error("a SHA-256 is 32 bytes");
  return concat(
    enc.encode(LABELS.sigEnvelope),
    Uint8Array.of(0),
    id,
    u64be(seq),
    Uint8Array.of(direction),
    envelopeSha256,
  );
}

/**
 * Checks a base64url signature over the message `build()` makes, with a
 * key given raw or as base64url: strict RFC 8032, as ring checks it. Any
 * malformed input is a failed check.
 */
function verifyStrict(publicKey, build, signature) {
  try {
    const pk = typeof publicKey === "string" ? b64url.decode(publicKey) : publicKey;
    const sig = b64url.decode(signature);
    if (pk.length !== 32 || sig.length !== 64) return false;
    return ed25519.verify(sig, build(), pk, { zip215: false });
  } catch {
    return false;
  }
}

/** Checks an envelope signature. */
export function verifyEnvelope(publicKey, caseId, seq, direction, envelope, signature) {
  return verifyStrict(publicKey, () => envelopeMessage(caseId, seq, direction, envelope), signature);
}

/** Checks an envelope signature given the envelope's SHA-256. */
export function verifyEnvelopeDigest(publicKey, caseId, seq, direction, envelopeSha256, signature) {
  return verifyStrict(publicKey, () => envelopeDigestMessage(caseId, seq, direction, envelopeSha256), signature);
}

/** The message a share signature covers (protocol §7): case, reader id, upto, SHA-256 of the age file. */
export function shareMessage(caseId, reader, upto, envelope) {
  return shareDigestMessage(caseId, reader, upto, sha256(envelope));
}

/**
 * The same message from the age file's SHA-256 (raw, or base64url as the
 * server sends it in `envelope_sha256`): the reporter is sent the digest
 * of a share, not the share, which is sealed to its reader
 * (`share_digest_message` in crates/envelope/src/sign.rs).
 */
export function shareDigestMessage(caseId, reader, upto, envelopeSha256) {
  const id = typeof caseId === "string" ? fromHex(caseId) : caseId;
  if (id.length !== 16) throw new Error("a case id is 16 bytes");
  const digest = typeof envelopeSha256 === "string" ? b64url.decode(envelopeSha256) : envelopeSha256;
  if (digest.length !== 32) throw new Error("a SHA-256 is 32 bytes");
  return concat(enc.encode(LABELS.sigShare), Uint8Array.of(0), id, enc.encode(reader), u64be(upto), digest);
}

/** Checks a share signature over the share's age file. */
export function verifyShare(publicKey, caseId, reader, upto, envelope, signature) {
  return verifyStrict(publicKey, () => shareMessage(caseId, reader, upto, envelope), signature);
}

/** Checks a share signature given the age file's SHA-256 (raw or base64url); malformed is false. */
export function verifyShareDigest(publicKey, caseId, reader, upto, envelopeSha256, signature) {
  return verifyStrict(publicKey, () => shareDigestMessage(caseId, reader, upto, envelopeSha256), signature);
}

// ---- Recipient cards (protocol §4) ----

/** Parses a card line; throws on anything but the one form. */
export function parseCard(line) {
  const parts = String(line).trim().split(" ");
  if (parts.length < 4 || parts[0] !== "sotto-card-v1") throw new Error("not a recipient card");
  const [, age, ed] = parts;
  const name = parts.slice(3).join(" ");
  let x25519;
  try {
    const d = bech32.decode(age, 90);
    if (d.prefix !== "age" || age !== age.toLowerCase()) throw new Error();
    x25519 = bech32.fromWords(d.words);
  } catch {
    throw new Error("the card's age recipient is malformed");
  }
  if (x25519.length !== 32 || !ed.startsWith("ed25519:")) throw new Error("not a recipient card");
  const edKey = b64url.decode(ed.slice("ed25519:".length));
  if (edKey.length !== 32) throw new Error("the card's Ed25519 key is malformed");
  const chars = [...name];
  if (chars.length === 0 || chars.length > 64 || name.trim() !== name || /\p{Cc}/u.test(name)) {
    throw new Error("the card's name is malformed");
  }
  return { line: String(line).trim(), recipient: age, x25519, ed25519: edKey, name };
}

/** A card's fingerprint: five groups of five digits, and its id. */
export function fingerprint(card) {
  const d = sha256(concat(enc.encode(LABELS.fingerprint), card.x25519, card.ed25519));
  const groups = [];
  for (let i = 0; i < 5; i++) {
    let v = 0n;
    for (const b of d.subarray(5 * i, 5 * i + 5)) v = (v << 8n) | BigInt(b);
    groups.push((v % 100000n).toString().padStart(5, "0"));
  }
  return { text: groups.join(" "), id: groups.join("") };
}

/**
 * Checks the desk's recipients as the server sent them: every card must
 * hash to the id and fingerprint beside it. Returns them with parsed cards.
 */
export function checkRecipients(listed) {
  return listed.map((r) => {
    const card = parseCard(r.card);
    const fp = fingerprint(card);
    if (fp.id !== r.id || fp.text !== r.fingerprint) {
      const e = new Error(`the server's fingerprint for ${r.name} does not match the card`);
      e.key = "report.bad_fingerprint";
      e.params = { name: r.name };
      throw e;
    }
    return { ...r, parsed: card };
  });
}

// ---- Padding (protocol §6) ----

/** Padmé: the length rounded so only about log log L bits remain. */
export function padme(len) {
  if (len < 2) return len;
  const e = Math.floor(Math.log2(len));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.floor((len + mask) / (mask + 1)) * (mask + 1);
}

export function paddedLen(len) {
  return padme(Math.max(LABELS.padded.length + 4 + len, MIN_PADDED));
}

export function pad(message) {
  if (message.length > 2 ** 32 - 1 - 64) throw new Error("the message is too large");
  const out = new Uint8Array(paddedLen(message.length));
  out.set(enc.encode(LABELS.padded), 0);
  out.set(u32be(message.length), 16);
  out.set(message, 20);
  return out;
}

export function unpad(padded) {
  const magic = enc.encode(LABELS.padded);
  if (padded.length < 20 || !bytesEqual(padded.subarray(0, 16), magic)) {
    throw new Error("the message is not correctly padded");
  }
  const len = new DataView(padded.buffer, padded.byteOffset + 16, 4).getUint32(0);
  if (len > padded.length - 20 || padded.length !== paddedLen(len)) {
    throw new Error("the message is not correctly padded");
  }
  for (let i = 20 + len; i < padded.length; i++) {
    if (padded[i] !== 0) throw new Error("the message is not correctly padded");
  }
  return padded.subarray(20, 20 + len);
}

// ---- Content (protocol §6) ----

/** The padded plaintext of a content object. */
export function toPadded(content) {
  const json = enc.encode(JSON.stringify(content));
  const out = pad(json);
  wipe(json);
  return out;
}

/** Reads a padded plaintext into content; throws on anything malformed. */
export function fromPadded(padded) {
  const c = JSON.parse(dec.decode(unpad(padded)));
  if (!c || typeof c !== "object" || typeof c.text !== "string") {
    throw new Error("the message is not valid Sotto content");
  }
  if (c.kind === "report") {
    if (!Array.isArray(c.recipients) || typeof c.reporter_ed25519 !== "string") {
      throw new Error("the message is not valid Sotto content");
    }
  } else if (c.kind !== "message") {
    throw new Error("the message is not valid Sotto content");
  }
  c.attachments = Array.isArray(c.attachments) ? c.attachments : [];
  for (const a of c.attachments) {
    if (typeof a?.name !== "string" || typeof a?.data !== "string") {
      throw new Error("the message is not valid Sotto content");
    }
  }
  return c;
}

// ---- Envelopes (protocol §5) ----

/** Seals a padded plaintext to `age1…` recipients: a binary age v1 file. */
export async function seal(recipients, padded) {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return e.encrypt(padded);
}

/**
 * Seals with progress: `onProgress(done, total)` in plaintext bytes, as
 * age's STREAM chunks go by.
 */
export async function sealWithProgress(recipients, padded, onProgress) {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  const chunk = 64 * 1024;
  let at = 0;
  const source = new ReadableStream({
    pull(ctl) {
      if (at >= padded.length) {
        ctl.close();
        return;
      }
      const end = Math.min(at + 16 * chunk, padded.length);
      ctl.enqueue(padded.slice(at, end));
      at = end;
      onProgress?.(at, padded.length);
    },
  });
  const out = await e.encrypt(source);
  const parts = [];
  const reader = out.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concat(...parts);
}

/** Opens an envelope with an `AGE-SECRET-KEY-1…` identity. */
export async function open(identity, envelope) {
  const d = new Decrypter();
  d.addIdentity(identity);
  return d.decrypt(envelope);
}

// ---- Proof of work (protocol §8) ----

function leadingZeroBits(d) {
  let bits = 0;
  for (const b of d) {
    if (b === 0) {
      bits += 8;
      continue;
    }
    bits += Math.clz32(b) - 24;
    break;
  }
  return bits;
}

/** The hash of one attempt. */
export function powAttempt(challenge, envelopeHash, nonce) {
  return sha256(
    concat(enc.encode(LABELS.pow), Uint8Array.of(0), enc.encode(challenge), envelopeHash, u64be(nonce)),
  );
}

/**
 * Finds a nonce; calls `onProgress(tried)` every 2^14 attempts. The prefix
 * is hashed once and cloned for every attempt.
 */
export function solvePow(challenge, envelopeHash, difficulty, onProgress) {
  if (difficulty > 32) throw new Error("the server asks for an impossible proof of work");
  const prefix = sha256.create().update(
    concat(enc.encode(LABELS.pow), Uint8Array.of(0), enc.encode(challenge), envelopeHash),
  );
  const nonce = new Uint8Array(8);
  const view = new DataView(nonce.buffer);
  for (let n = 0; n < Number.MAX_SAFE_INTEGER; n++) {
    view.setUint32(0, Math.floor(n / 2 ** 32));
    view.setUint32(4, n >>> 0);
    const d = prefix.clone().update(nonce).digest();
    if (leadingZeroBits(d) >= difficulty) return n;
    if ((n & 0x3fff) === 0x3fff) onProgress?.(n + 1);
  }
  throw new Error("no proof of work found");
}

export function powValid(challenge, envelopeHash, difficulty, nonce) {
  return leadingZeroBits(powAttempt(challenge, envelopeHash, nonce)) >= difficulty;
}
