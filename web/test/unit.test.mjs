// The browser's cryptography checked against the vectors the Rust code
// made (testdata/web/rust-vectors.json), and the JavaScript vectors
// (testdata/web/js-vectors.json) checked to be what this code still makes.
// Run: node --test test/ (from web/).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import {
  Token,
  TokenError,
  b64,
  b64url,
  fingerprint,
  fromHex,
  fromPadded,
  hex,
  open,
  pad,
  paddedLen,
  parseCard,
  solvePow,
  powValid,
  unpad,
  sha256,
  verifyEnvelope,
  verifyShare,
  verifyShareDigest,
} from "../src/crypto.js";
import { Api, Problem, escalateCase, openThread, postFollowUp, refreshThread } from "../src/client.js";
import {
  caseCommitment,
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
  Frontier,
  bundlePath,
} from "../src/tlog.js";
import { verifyReceipt } from "../src/receipt.js";
import { deterministic } from "./vectors.mjs";
import { CASE, CaseServer, reader } from "./case-server.mjs";

const read = (name) => JSON.parse(readFileSync(new URL(`../../testdata/web/${name}`, import.meta.url), "utf8"));
const rust = read("rust-vectors.json");
const js = read("js-vectors.json");

test("tokens: written form, handle and keys are the Rust client's", async () => {
  assert.ok(rust.tokens.length >= 4);
  for (const v of rust.tokens) {
    const t = new Token(fromHex(v.bytes));
    assert.equal(t.display(), v.display);
    assert.equal(t.handle(), v.handle);
    assert.equal(t.identity(), v.identity);
    assert.equal(await t.recipient(), v.recipient);
    assert.equal(t.verifyingKey(), v.ed25519);
    assert.equal(Token.parse(v.display.toUpperCase().replaceAll("-", " ")).handle(), v.handle);
  }
});

test("a token with a typo, a wrong length or a foreign character is refused with its reason", () => {
  const shown = rust.tokens[0].display.replaceAll("-", "");
  const errorKey = (typed) => {
    try {
      Token.parse(typed);
      return null;
    } catch (e) {
      assert.ok(e instanceof TokenError);
      return e.key;
    }
  };
  assert.equal(errorKey(shown.slice(0, 31)), "token.length");
  assert.equal(errorKey(`${shown}q`), "token.length");
  assert.equal(errorKey(`b${shown.slice(1)}`), "token.character");
  let typos = 0;
  for (let i = 0; i < shown.length; i++) {
    const c = shown[i] === "q" ? "p" : "q";
    if (errorKey(shown.slice(0, i) + c + shown.slice(i + 1)) === "token.checksum") typos += 1;
  }
  assert.equal(typos, shown.length, "every single wrong character is caught");
});

test("a Rust signature verifies, and this code makes the same one", () => {
  const s = rust.signature;
  const t = new Token(fromHex(s.token));
  const envelope = b64.decode(s.envelope);
  assert.equal(t.signEnvelope(s.case, s.seq, envelope), s.signature);
  assert.ok(verifyEnvelope(t.verifyingKey(), s.case, s.seq, s.direction, envelope, s.signature));
  assert.ok(!verifyEnvelope(t.verifyingKey(), s.case, s.seq + 1, s.direction, envelope, s.signature));
  assert.ok(!verifyEnvelope(t.verifyingKey(), s.case, s.seq, 2, envelope, s.signature));
  // A share signature by the same key over the same bytes: bound to its reader and length.
  const sh = rust.share;
  assert.ok(verifyShare(t.verifyingKey(), s.case, sh.reader, sh.upto, envelope, sh.signature));
  assert.ok(!verifyShare(t.verifyingKey(), s.case, sh.reader, sh.upto + 1, envelope, sh.signature));
  assert.ok(!verifyShare(t.verifyingKey(), s.case, "1234512345123451234512346", sh.upto, envelope, sh.signature));
  assert.ok(!verifyEnvelope(t.verifyingKey(), s.case, sh.upto, 2, envelope, sh.signature));
});

test("padding: the same lengths and the same bytes", () => {
  for (const p of rust.padding) assert.equal(paddedLen(p.len), p.padded, `length ${p.len}`);
  const sample = new TextEncoder().encode(rust.padded_sample.json);
  const padded = pad(sample);
  assert.equal(b64.encode(padded), rust.padded_sample.padded);
  assert.deepEqual(unpad(padded), sample);
  const bad = padded.slice();
  bad[bad.length - 1] = 1;
  assert.throws(() => unpad(bad));
});

test("a recipient card's fingerprint and id", () => {
  const card = parseCard(rust.card.line);
  assert.equal(card.name, "Alice Ombud");
  assert.deepEqual(fingerprint(card), { text: rust.card.fingerprint, id: rust.card.id });
  assert.throws(() => parseCard(rust.card.line.replace("sotto-card-v1", "sotto-card-v2")));
});

test("proof of work: the first nonce is the Rust client's", () => {
  const p = rust.pow;
  const hash = fromHex(p.envelope_hash);
  assert.equal(solvePow(p.challenge, hash, p.difficulty), p.nonce);
  assert.ok(powValid(p.challenge, hash, p.difficulty, p.nonce));
});

test("an envelope the Rust code sealed opens here, with the desk's identity and the token's", async () => {
  const e = rust.envelope;
  const envelope = b64.decode(e.envelope);
  for (const identity of [e.desk_identity, new Token(fromHex(e.token)).identity()]) {
    const content = fromPadded(await open(identity, envelope));
    assert.equal(content.text, e.text);
    assert.deepEqual(b64.decode(content.attachments[0].data), Uint8Array.of(0, 1, 2));
  }
  const other = new Token(fromHex(rust.tokens[1].bytes));
  await assert.rejects(open(other.identity(), envelope));
});

test("log commitments and leaves are the Rust code's", () => {
  const l = rust.log;
  assert.equal(hex(deskCommitment(l.desk.name)), l.desk.commitment);
  assert.equal(hex(recipientCommitment(l.recipient.id)), l.recipient.commitment);
  assert.equal(hex(caseCommitment(l.case.case)), l.case.commitment);
  const m = l.message;
  assert.equal(hex(messageCommitment(m.case, m.seq, m.direction, fromHex(m.envelope_hash))), m.commitment);
  assert.equal(hex(readersCommitment(l.readers.ids)), l.readers.commitment);
  assert.equal(hex(reporterCommitment(l.reporter.x25519, b64url.decode(l.reporter.ed25519))), l.reporter.commitment);
  const opened = decodeLeaf(b64.decode(l.leaves[3]));
  assert.equal(opened.kind, "case-opened");
  assert.equal(opened.day, "2026-11-22");
  assert.equal(hex(opened.hashes[0]), l.desk.commitment);
  const added = decodeLeaf(b64.decode(l.leaves[1]));
  assert.equal(added.kind, "recipient-added");
  assert.equal(hex(added.hashes[1]), l.recipient.commitment);
  assert.equal(decodeLeaf(b64.decode(l.leaves[0])), null);
});

test("checkpoints, inclusion and consistency proofs verify, and tampering is caught", () => {
  const l = rust.log;
  const v = parseVerifier(l.verifier);
  const cp3 = openCheckpoint(l.checkpoint3, v);
  const cp5 = openCheckpoint(l.checkpoint5, v);
  assert.equal(cp5.size, 5);
  const f = new Frontier();
  for (const leaf of l.leaves) f.push(leafHash(b64.decode(leaf)));
  assert.deepEqual(f.root(), cp5.root);
  const hash = leafHash(b64.decode(l.leaves[3]));
  const proof = l.inclusion.proof.map((h) => b64.decode(h));
  assert.ok(verifyInclusion(3, 5, hash, proof, cp5.root));
  assert.ok(!verifyInclusion(2, 5, hash, proof, cp5.root));
  assert.ok(!verifyInclusion(3, 5, leafHash(b64.decode(l.leaves[2])), proof, cp5.root));
  const cproof = l.consistency.proof.map((h) => b64.decode(h));
  assert.ok(verifyConsistency(3, 5, cp3.root, cp5.root, cproof));
  assert.ok(!verifyConsistency(3, 5, cp5.root, cp5.root, cproof));
  assert.throws(() => openCheckpoint(l.checkpoint5.replace("\n5\n", "\n6\n"), v));
  assert.throws(() => parseVerifier(l.verifier.replace(/\+[0-9a-f]{8}\+/, "+00000000+")));
});

test("a log promise the Rust code signed verifies, for its leaf and origin only", () => {
  const l = rust.log;
  const v = parseVerifier(l.verifier);
  const leaf = b64.decode(l.promise.leaf);
  assert.deepEqual(verifyPromise(v, leaf, l.promise.signature), leafHash(leaf));
  const other = Uint8Array.from(leaf);
  other[other.length - 1] ^= 1;
  assert.throws(() => verifyPromise(v, other, l.promise.signature));
  assert.throws(() => verifyPromise({ ...v, name: "elsewhere.example/sotto" }, leaf, l.promise.signature));
  assert.throws(() => verifyPromise(v, leaf, "not a signature"));
});

test("a receipt file holding only the promise verifies and names no entry; a receipt for another leaf is refused", () => {
  const l = rust.log;
  const file = {
    version: 2,
    server: "http://127.0.0.1:1",
    case: l.case.case,
    desk: "default",
    opened: "2026-11-22",
    log_key: l.verifier,
    promise: l.promise,
    published_at_promise: 3,
    receipt: null,
  };
  const v = verifyReceipt(file);
  assert.equal(v.entry, null);
  assert.equal(v.checkpoint, null);
  assert.equal(v.leaf.kind, "case-opened");
  // Completed with its receipt: the leaf at index 3 of the tree of 5.
  const full = {
    ...file,
    receipt: { leaf_index: 3, leaf: l.leaves[3], checkpoint: l.checkpoint5, inclusion_proof: l.inclusion.proof },
  };
  const fv = verifyReceipt(full);
  assert.equal(fv.entry, 3);
  assert.equal(fv.published, true);
  // A receipt for another leaf than the promised one.
  const swapped = { ...full, receipt: { ...full.receipt, leaf: l.leaves[2] } };
  assert.throws(() => verifyReceipt(swapped), (e) => e.key === "receipt.other_promise");
  // A promise that does not verify.
  const forged = { ...file, promise: { ...l.promise, signature: l.promise.signature.replace(/^./, (c) => (c === "A" ? "B" : "A")) } };
  assert.throws(() => verifyReceipt(forged), (e) => e.key === "receipt.bad_promise");
  // An old (version 1) file is still read.
  const { promise, published_at_promise, ...v1 } = full;
  assert.equal(verifyReceipt({ ...v1, version: 1 }).published, false);
});

test("entry bundle paths are C2SP's", () => {
  assert.equal(bundlePath(0, 256), "tile/entries/000");
  assert.equal(bundlePath(1, 5), "tile/entries/001.p/5");
  assert.equal(bundlePath(1234067, 256), "tile/entries/x001/x234/067");
});

test("the JavaScript vectors are what this code still makes", async () => {
  const { report, ...committed } = js;
  assert.deepEqual(await deterministic(), committed);
  assert.ok(report.envelope.length > 100);
});

// ---- Share signatures over the envelope's digest ----

test("a share the Rust code signed verifies from its envelope's SHA-256, as the server now sends it", () => {
  const s = rust.signature;
  const sh = rust.share;
  const key = new Token(fromHex(s.token)).verifyingKey();
  const digest = sha256(b64.decode(s.envelope));
  assert.ok(verifyShareDigest(key, s.case, sh.reader, sh.upto, digest, sh.signature));
  assert.ok(verifyShareDigest(key, s.case, sh.reader, sh.upto, b64url.encode(digest), sh.signature));
  const flipped = Uint8Array.from(digest);
  flipped[31] ^= 1;
  assert.ok(!verifyShareDigest(key, s.case, sh.reader, sh.upto, flipped, sh.signature), "another envelope");
  assert.ok(!verifyShareDigest(key, s.case, sh.reader, sh.upto + 1, digest, sh.signature), "another length");
  assert.ok(!verifyShareDigest(key, s.case, sh.reader, sh.upto, digest.subarray(1), sh.signature), "a short digest");
  assert.ok(!verifyShareDigest(key, s.case, sh.reader, sh.upto, "not base64url!", sh.signature), "junk");
});

// ---- The thread in pages, and what changed since ----

/** A case on a real HTTP server: a report to Alice and Bob, and `replies` replies from Alice. */
async function servedCase({ replies = 0, pageBytes } = {}) {
  const token = Token.generate();
  const alice = await reader("Alice Ombud");
  const bob = await reader("Bob Team");
  const server = new CaseServer(token, [alice, bob], { pageBytes });
  await server.report("The report: a moderator keeps messaging me.");
  for (let i = 1; i <= replies; i++) await server.reply(alice, `Reply ${i} from Alice.`);
  const api = new Api(await server.listen());
  return { token, alice, bob, server, api };
}

const texts = (held) => held.read.messages.map((m) => m.content?.text ?? `NOT SHOWN: ${m.problem?.key}`);
const problemOf = async (promise) => {
  try {
    await promise;
  } catch (e) {
    assert.ok(e instanceof Problem, String(e));
    return { key: e.key, ...e.params };
  }
  assert.fail("expected a problem");
};

test("a thread longer than a page is read whole: every page joined, every message decrypted in order", async (t) => {
  // A page holds one envelope: five messages come in five pages.
  const { token, server, api } = await servedCase({ replies: 4, pageBytes: 1 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  assert.deepEqual(texts(held), [
    "The report: a moderator keeps messaging me.",
    "Reply 1 from Alice.",
    "Reply 2 from Alice.",
    "Reply 3 from Alice.",
    "Reply 4 from Alice.",
  ]);
  assert.deepEqual(held.read.messages.map((m) => m.author), [null, "Alice Ombud", "Alice Ombud", "Alice Ombud", "Alice Ombud"]);
  assert.deepEqual(held.read.cards.map((c) => c.name), ["Alice Ombud", "Bob Team"]);
  assert.deepEqual(server.asked.map((a) => a.after), [null, "0", "1", "2", "3"]);
  assert.ok(server.asked.every((a) => a.ifNoneMatch === null), "no ETag is sent while paging");
  assert.equal(held.status.message_count, 5);
  assert.equal(held.status.messages, undefined, "no envelope is kept");
});

test("a page that skips, repeats or withholds a message fails the read with the out-of-place problem", async (t) => {
  const { token, server, api } = await servedCase({ replies: 3, pageBytes: 1 });
  t.after(() => server.close());
  // The second page skips message 1.
  server.tamper = (page, after) => (after === 0 ? server.page(1) : page);
  assert.deepEqual(await problemOf(openThread(api, token)), { key: "thread.out_of_place", got: 2, want: 1 });
  // The third page repeats message 1.
  server.tamper = (page, after) => (after === 1 ? server.page(0) : page);
  assert.deepEqual(await problemOf(openThread(api, token)), { key: "thread.out_of_place", got: 1, want: 2 });
  // The server counts four messages and sends three.
  server.tamper = (page, after) => (after === 2 ? [] : page);
  assert.deepEqual(await problemOf(openThread(api, token)), { key: "thread.out_of_place", got: "—", want: 3 });
  // No message at all, while the count says there is one.
  server.tamper = () => [];
  assert.deepEqual(await problemOf(openThread(api, token)), { key: "status.no_report" });
});

test("an unchanged case costs a 304: the thread stays on the page and no envelope is downloaded again", async (t) => {
  const { token, server, api } = await servedCase({ replies: 2 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  server.asked.length = 0;
  const again = await refreshThread(api, token, held);
  assert.equal(again.changed, false);
  assert.deepEqual(texts(again), texts(held));
  assert.deepEqual(server.asked, [{ after: "2", ifNoneMatch: held.etag, code: 304, envelopeBytes: 0 }]);
});

test("a new reply is read by itself: only its envelope is downloaded, and the held messages stay as read", async (t) => {
  const { token, alice, server, api } = await servedCase({ replies: 1, pageBytes: 1 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  await server.reply(alice, "A new reply while the page was open.");
  await server.reply(alice, "And another, on a page of its own.");
  server.asked.length = 0;
  const next = await refreshThread(api, token, held);
  assert.equal(next.changed, true);
  assert.deepEqual(texts(next), [...texts(held), "A new reply while the page was open.", "And another, on a page of its own."]);
  assert.equal(next.read.messages[0], held.read.messages[0], "the report is not decrypted again");
  assert.equal(next.read.messages[1], held.read.messages[1]);
  assert.deepEqual(
    server.asked.map((a) => [a.after, a.ifNoneMatch, a.code]),
    [["1", held.etag, 200], ["2", null, 200]],
    "the ETag goes with the first delta read only",
  );
  const sizes = server.messages.map((m) => m.size);
  assert.equal(server.asked.reduce((n, a) => n + a.envelopeBytes, 0), sizes[2] + sizes[3]);
  assert.equal(next.status.message_count, 4);
  assert.notEqual(next.etag, held.etag);
  // Then nothing changed: a 304.
  assert.equal((await refreshThread(api, token, next)).changed, false);
});

test("a delta page that does not go on from the last message held is the out-of-place problem", async (t) => {
  const { token, alice, server, api } = await servedCase({ replies: 1 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  await server.reply(alice, "New.");
  server.tamper = (page, after) => (after === 1 ? server.page(0) : page);
  assert.deepEqual(await problemOf(refreshThread(api, token, held)), { key: "thread.out_of_place", got: 1, want: 2 });
});

test("a reader the case was shared with is trusted from the share's digest, and their reply shows; a share over another digest is not", async (t) => {
  const { token, server, api } = await servedCase({ replies: 1 });
  t.after(() => server.close());
  const carol = await reader("Carol Independent");
  const mallory = await reader("Mallory Added");
  const held = await openThread(api, token);
  const shareEnvelope = new TextEncoder().encode("the thread, sealed to Carol");
  server.share(carol, shareEnvelope);
  // The server swaps the digest of a share the reporter signed for another envelope.
  server.share(mallory, shareEnvelope, { digestOf: new TextEncoder().encode("something else") });
  await server.reply(carol, "Carol here: I read your case.", { to: [...server.readers, carol] });
  await server.reply(mallory, "Mallory here.", { to: [...server.readers, mallory] });
  const next = await refreshThread(api, token, held);
  assert.deepEqual(next.read.cards.map((c) => c.name), ["Alice Ombud", "Bob Team", "Carol Independent"]);
  assert.equal(next.read.messages[2].content.text, "Carol here: I read your case.");
  assert.equal(next.read.messages[2].author, "Carol Independent");
  assert.equal(next.read.messages[3].problem.key, "thread.not_a_recipient");
  // A first read trusts the same readers.
  assert.deepEqual((await openThread(api, token)).read.cards.map((c) => c.name), ["Alice Ombud", "Bob Team", "Carol Independent"]);
});

test("a reply after a paged read takes the thread's next place and shows after the refresh", async (t) => {
  const { token, alice, server, api } = await servedCase({ replies: 2, pageBytes: 1 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  await postFollowUp(api, token, held.status, held.read.cards, "My answer from the page.");
  const next = await refreshThread(api, token, held);
  assert.deepEqual(texts(next).slice(-1), ["My answer from the page."]);
  assert.equal(next.read.messages[3].direction, "reporter");
  assert.equal(next.read.messages[3].problem, null);
  // Alice reads it: it was sealed to the report's readers.
  const alicesCopy = await open(alice.identity, b64.decode(server.messages[3].envelope));
  assert.equal(fromPadded(alicesCopy).text, "My answer from the page.");
});

test("an escalation seals the whole thread as held, and the new reader opens every message of it", async (t) => {
  const { token, server, api } = await servedCase({ replies: 2, pageBytes: 1 });
  t.after(() => server.close());
  const carol = await reader("Carol Independent");
  const held = await openThread(api, token);
  let posted;
  const recorder = { json: async (_path, init) => ((posted = JSON.parse(init.body)), { desk: "independent" }) };
  const desk = { name: "independent", limits: { max_envelope_bytes: 1 << 24 } };
  await escalateCase(recorder, token, held.status, held.read, desk, [{ id: carol.id, parsed: carol.card }]);
  const [share] = posted.shares;
  assert.equal(share.upto, 3);
  const envelope = b64.decode(share.envelope);
  assert.ok(verifyShareDigest(token.verifyingKey(), CASE, carol.id, 3, sha256(envelope), share.signature));
  // A shared thread is not a message the page shows: read its JSON as a desk's client does.
  const thread = JSON.parse(new TextDecoder().decode(unpad(await open(carol.identity, envelope))));
  assert.equal(thread.kind, "shared-thread");
  assert.deepEqual(
    thread.messages.map((m) => m.content.text),
    ["The report: a moderator keeps messaging me.", "Reply 1 from Alice.", "Reply 2 from Alice."],
  );
  for (const [i, m] of thread.messages.entries()) {
    assert.equal(m.envelope_sha256, hex(sha256(b64.decode(server.messages[i].envelope))), `message ${i}'s hash`);
    assert.equal(m.signature, server.messages[i].signature);
  }
});

test("a case erased while the page is open shows as erased, with nothing left of the thread", async (t) => {
  const { token, server, api } = await servedCase({ replies: 1 });
  t.after(() => server.close());
  const held = await openThread(api, token);
  server.erase();
  const next = await refreshThread(api, token, held);
  assert.deepEqual(next.status.erased, { on: "2026-12-03" });
  assert.deepEqual(next.read.messages, []);
  assert.equal((await refreshThread(api, token, next)).changed, false);
});
