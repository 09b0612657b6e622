// The values the JavaScript code makes for the Rust tests to check.

import {
  CONTENT_VERSION,
  FROM_REPORTER,
  Token,
  b64,
  b64url,
  fromHex,
  hex,
  pad,
  parseCard,
  seal,
  sha256,
  solvePow,
  toPadded,
} from "../src/crypto.js";
import { readFileSync } from "node:fs";
import { ed25519 } from "@noble/curves/ed25519.js";
import { leafHash, promiseMessage } from "../src/tlog.js";

export const TOKENS = [
  new TextEncoder().encode("sotto test token"),
  new Uint8Array(16),
  new Uint8Array(16).fill(0xff),
  Uint8Array.from({ length: 16 }, (_, i) => i),
  Uint8Array.from({ length: 16 }, (_, i) => 200 - i * 7),
];

const rust = JSON.parse(readFileSync(new URL("../../testdata/web/rust-vectors.json", import.meta.url), "utf8"));

/** Everything but the sealed report: deterministic. */
export async function deterministic() {
  const tokens = [];
  for (const bytes of TOKENS) {
    const t = new Token(bytes);
    tokens.push({
      bytes: hex(bytes),
      display: t.display(),
      handle: t.handle(),
      recipient: await t.recipient(),
      ed25519: t.verifyingKey(),
    });
  }
  const token = new Token(TOKENS[3]);
  const envelope = new TextEncoder().encode("bytes the browser signed");
  const sample = '{"kind":"message","v":1,"text":"from the browser: ñ ü ع","attachments":[]}';
  const challenge = "sotto-js-vector-challenge";
  const envelopeHash = sha256(new TextEncoder().encode("a browser envelope"));
  return {
    about: "Made by the JavaScript code (web/test/make-vectors.mjs); checked by tests/api/web_vectors.rs.",
    tokens,
    signature: {
      token: hex(TOKENS[3]),
      case: "0f0e0d0c0b0a09080706050403020100",
      seq: 5,
      direction: FROM_REPORTER,
      envelope: b64.encode(envelope),
      signature: token.signEnvelope("0f0e0d0c0b0a09080706050403020100", 5, envelope),
    },
    padded_sample: { json: sample, padded: b64.encode(pad(new TextEncoder().encode(sample))) },
    pow: { challenge, envelope_hash: hex(envelopeHash), difficulty: 10, nonce: solvePow(challenge, envelopeHash, 10) },
    promise: promiseVector(),
  };
}

/**
 * A log promise signed with the browser's message framing and a test key
 * (only the server's log signs promises; this proves the bytes agree).
 */
function promiseVector() {
  const seed = new Uint8Array(32).fill(0x5a);
  const origin = "reports.example.org/sotto";
  const leaf = b64.decode(rust.log.leaves[3]);
  const signature = ed25519.sign(promiseMessage(origin, leafHash(leaf)), seed);
  return { seed: hex(seed), origin, leaf: b64.encode(leaf), signature: b64url.encode(signature) };
}

/** A report sealed and signed by the browser's code, as the page does it. */
export async function report() {
  const token = new Token(TOKENS[3]);
  const card = parseCard(rust.card.line);
  const content = {
    kind: "report",
    v: CONTENT_VERSION,
    desk: "default",
    text: "sealed in the browser's code",
    urgent: true,
    record_only: false,
    links: ["https://example.org/post/1"],
    attachments: [{ name: "x.bin", data: b64.encode(Uint8Array.of(0, 1, 2, 253, 254, 255)) }],
    recipients: [card.line],
    reporter_x25519: await token.recipient(),
    reporter_ed25519: token.verifyingKey(),
    when: "last Tuesday",
  };
  const envelope = await seal([card.recipient, await token.recipient()], toPadded(content));
  const caseId = "00112233445566778899aabbccddeeff";
  return {
    desk_identity: rust.envelope.desk_identity,
    token: hex(TOKENS[3]),
    text: content.text,
    case: caseId,
    envelope: b64.encode(envelope),
    signature: token.signEnvelope(fromHex(caseId), 0, envelope),
  };
}

export async function vectors() {
  return { ...(await deterministic()), report: await report() };
}
