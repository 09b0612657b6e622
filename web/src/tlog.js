// The transparency log, as the reporter's page checks it: signed notes and
// checkpoints (C2SP), RFC 9162 inclusion and consistency proofs, entry
// bundles, and the leaves that commit to a case opening or a desk's
// readers (docs/transparency.md). The same rules as crates/tlog.

import { ed25519 } from "@noble/curves/ed25519.js";
import { LABELS, b64, b64url, bytesEqual, concat, fromHex, sha256, u64be } from "./crypto.js";

const enc = new TextEncoder();

function commit(label, ...parts) {
  return sha256(concat(enc.encode(label), Uint8Array.of(0), ...parts));
}

export const deskCommitment = (name) => commit(LABELS.logDesk, enc.encode(name));
export const recipientCommitment = (id) => commit(LABELS.logRecipient, enc.encode(id));
export const caseCommitment = (caseHex) => commit(LABELS.logCase, fromHex(caseHex));

export function messageCommitment(caseHex, seq, direction, envelopeHash) {
  return commit(LABELS.logMessage, fromHex(caseHex), u64be(seq), Uint8Array.of(direction), envelopeHash);
}

export function readersCommitment(ids) {
  const sorted = [...new Set(ids)].sort();
  const count = new Uint8Array(4);
  new DataView(count.buffer).setUint32(0, sorted.length);
  return commit(LABELS.logReaders, count, ...sorted.map((s) => enc.encode(s)));
}

export function reporterCommitment(x25519, ed25519Key) {
  return commit(LABELS.logReporter, enc.encode(x25519), ed25519Key);
}

// ---- Leaves ----

const KINDS = {
  1: "desk-created",
  2: "recipient-added",
  3: "recipient-removed",
  4: "case-opened",
  5: "message-posted",
  6: "state-changed",
  7: "case-shared",
  8: "case-erased",
};
const HASHES = { 1: 1, 2: 2, 3: 2, 4: 5, 5: 2, 6: 1, 7: 2, 8: 1 };

/** Decodes a leaf; returns null for anything but the one form. */
export function decodeLeaf(bytes) {
  const label = enc.encode(LABELS.logLeaf);
  const head = label.length + 1 + 1 + 10;
  if (bytes.length < head || !bytesEqual(bytes.subarray(0, label.length), label)) return null;
  if (bytes[label.length] !== 0) return null;
  const kindByte = bytes[label.length + 1];
  const kind = KINDS[kindByte];
  if (!kind) return null;
  const day = new TextDecoder().decode(bytes.subarray(label.length + 2, head));
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  const n = HASHES[kindByte];
  const extra = kind === "state-changed" ? 1 : 0;
  if (bytes.length !== head + 32 * n + extra) return null;
  const hashes = [];
  for (let i = 0; i < n; i++) hashes.push(bytes.subarray(head + 32 * i, head + 32 * (i + 1)));
  const leaf = { kind, day, hashes };
  if (extra) leaf.state = bytes[bytes.length - 1];
  return leaf;
}

// ---- Merkle tree (RFC 9162, section 2.1) ----

export const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
const nodeHash = (l, r) => sha256(concat(Uint8Array.of(1), l, r));

/** RFC 9162 2.1.3.2: whether `proof` puts `hash` at `index` under `root`. */
export function verifyInclusion(index, size, hash, proof, root) {
  if (index >= size) return false;
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = hash;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(r, root);
}

/** RFC 9162 2.1.4.2: whether the tree of `size1` is a prefix of `size2`. */
export function verifyConsistency(size1, size2, root1, root2, proof) {
  if (size1 > size2) return false;
  if (size1 === size2) return proof.length === 0 && bytesEqual(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  let path = proof;
  const first = BigInt(size1);
  if ((first & (first - 1n)) === 0n) {
    path = [root1, ...proof];
  }
  let fn = BigInt(size1 - 1);
  let sn = BigInt(size2 - 1);
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(fr, root1) && bytesEqual(sr, root2);
}

/** The root of a tree, built leaf by leaf from a frontier of perfect subtrees. */
export class Frontier {
  constructor() {
    this.size = 0;
    this.stack = []; // [height, hash], largest first
  }

  push(hash) {
    let h = 0;
    let node = hash;
    while (this.stack.length && this.stack[this.stack.length - 1][0] === h) {
      const [, left] = this.stack.pop();
      node = nodeHash(left, node);
      h += 1;
    }
    this.stack.push([h, node]);
    this.size += 1;
  }

  root() {
    if (this.stack.length === 0) return sha256(new Uint8Array(0));
    let r = this.stack[this.stack.length - 1][1];
    for (let i = this.stack.length - 2; i >= 0; i--) r = nodeHash(this.stack[i][1], r);
    return r;
  }
}

// ---- Signed notes and checkpoints (C2SP) ----

function keyId(name, key) {
  const d = sha256(concat(enc.encode(`${name}\n`), Uint8Array.of(1), key));
  return new DataView(d.buffer, d.byteOffset, 4).getUint32(0);
}

/** Parses a verifier key `name+id+base64(0x01 ‖ key)`. */
export function parseVerifier(vkey) {
  // The key's base64 may itself hold "+": split on the first two only.
  const text = String(vkey).trim();
  const first = text.indexOf("+");
  const second = first < 0 ? -1 : text.indexOf("+", first + 1);
  if (second < 0) throw new Error("malformed log key");
  const [name, id, key] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  if (!name || /[\s+]/.test(name) || !/^[0-9a-f]{8}$/.test(id ?? "")) throw new Error("malformed log key");
  const raw = b64.decode(key);
  if (raw.length !== 33 || raw[0] !== 1) throw new Error("malformed log key");
  const pk = raw.subarray(1);
  if (keyId(name, pk) !== parseInt(id, 16)) throw new Error("malformed log key");
  return { name, id: parseInt(id, 16), key: pk, text };
}

/** Opens a checkpoint signed by `verifier`: `{origin, size, root}`, or throws. */
export function openCheckpoint(note, verifier) {
  if (typeof note !== "string" || note.length > 65536 || !note.endsWith("\n")) {
    throw new Error("malformed signed note");
  }
  const blank = note.lastIndexOf("\n\n");
  if (blank < 0) throw new Error("malformed signed note");
  const text = note.slice(0, blank + 1);
  const sigs = note.slice(blank + 2, -1).split("\n");
  let ok = false;
  for (const line of sigs) {
    if (!line.startsWith("\u2014 ")) throw new Error("malformed signed note");
    const [name, sig64] = line.slice(2).split(" ");
    if (name !== verifier.name) continue;
    const raw = b64.decode(sig64);
    if (raw.length !== 68) continue;
    if (new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0) !== verifier.id) continue;
    if (!ed25519.verify(raw.subarray(4), enc.encode(text), verifier.key, { zip215: false })) {
      throw new Error("the note's signature does not verify");
    }
    ok = true;
  }
  if (!ok) throw new Error("the note carries no signature by the log's key");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3 || lines[0] !== verifier.name || !/^(0|[1-9]\d*)$/.test(lines[1])) {
    throw new Error("malformed checkpoint");
  }
  const size = Number(lines[1]);
  const root = b64.decode(lines[2]);
  if (!Number.isSafeInteger(size) || root.length !== 32) throw new Error("malformed checkpoint");
  return { origin: lines[0], size, root };
}

// ---- Promises ----

/**
 * The message a log promise signs (crates/envelope/src/sign.rs):
 * "sotto/v1/sig/log-promise" ‖ 0x00 ‖ len(origin) (u16 BE) ‖ origin ‖ leaf hash.
 */
export function promiseMessage(origin, hash) {
  const name = enc.encode(origin);
  const len = Math.min(name.length, 0xffff);
  return concat(enc.encode(LABELS.sigLogPromise), Uint8Array.of(0, len >> 8, len & 0xff), name, hash);
}

/**
 * Checks the log's promise to publish `leaf` (bytes), signed (base64url)
 * by `verifier`'s key under its name, the origin. Returns the leaf's hash,
 * or throws.
 */
export function verifyPromise(verifier, leaf, signature) {
  const hash = leafHash(leaf);
  let ok = false;
  try {
    const sig = b64url.decode(signature);
    ok = sig.length === 64 && ed25519.verify(sig, promiseMessage(verifier.name, hash), verifier.key, { zip215: false });
  } catch {
    ok = false;
  }
  if (!ok) throw new Error("the log's promise does not verify");
  return hash;
}

// ---- Tiles (C2SP tlog-tiles) ----

/** The path of entry bundle `n` holding `width` entries. */
export function bundlePath(n, width) {
  const groups = [];
  let x = n;
  do {
    groups.push(String(x % 1000).padStart(3, "0"));
    x = Math.floor(x / 1000);
  } while (x > 0);
  const digits = groups.reverse().map((g, i, all) => (i + 1 < all.length ? `x${g}` : g)).join("/");
  return `tile/entries/${digits}${width === 256 ? "" : `.p/${width}`}`;
}

/** Splits an entry bundle into its entries (u16 BE length, bytes). */
export function decodeBundle(data) {
  const out = [];
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) return null;
    const len = (data[at] << 8) | data[at + 1];
    if (at + 2 + len > data.length) return null;
    out.push(data.subarray(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}
