// What the benchmark measures: the page's own code, the same in node and
// in Chromium (see bench.mjs).

import { Token, open, seal, sha256, solvePow, toPadded } from "../src/crypto.js";
import { Frontier, decodeLeaf, leafHash } from "../src/tlog.js";

async function perCall(f, reps) {
  const start = performance.now();
  for (let i = 0; i < reps; i++) await f();
  return (performance.now() - start) / reps;
}

export async function measure() {
  const out = {};
  const token = Token.generate();
  out["derive a token's handle and Ed25519 key (ms)"] = await perCall(() => {
    token.handle();
    token.verifyingKey();
  }, 50);
  out["derive a token's age recipient (ms)"] = await perCall(() => token.recipient(), 20);
  const recipients = [];
  for (let i = 0; i < 3; i++) recipients.push(await Token.generate().recipient());
  recipients.push(await token.recipient());
  for (const [label, size, reps] of [
    ["1 KiB", 1024, 20],
    ["1 MiB", 1 << 20, 5],
    ["10 MiB", 10 << 20, 2],
  ]) {
    const padded = toPadded({ kind: "message", v: 1, text: "x".repeat(size), attachments: [] });
    let envelope;
    out[`seal ${label} to 3 readers and the reporter (ms)`] = await perCall(async () => {
      envelope = await seal(recipients, padded);
    }, reps);
    out[`open ${label} (ms)`] = await perCall(() => open(token.identity(), envelope), reps);
  }
  // Proof of work: attempts per second, stopped after 2^17 attempts.
  const hash = sha256(new TextEncoder().encode("envelope"));
  let tried = 0;
  const start = performance.now();
  try {
    solvePow("bench-challenge", hash, 32, (n) => {
      tried = n;
      if (n >= 1 << 17) throw new Error("enough");
    });
  } catch {
    // stopped on purpose
  }
  const rate = tried / ((performance.now() - start) / 1000);
  out["proof of work: attempts per second"] = Math.round(rate);
  out["proof of work: expected seconds at difficulty 18"] = 2 ** 18 / rate;
  // Following the log: hash a leaf into the tree and decode it.
  const leaf = new Uint8Array(17 + 1 + 1 + 10 + 64);
  leaf.set(new TextEncoder().encode("sotto/v1/log/leaf"), 0);
  leaf[18] = 2;
  leaf.set(new TextEncoder().encode("2026-11-22"), 19);
  const f = new Frontier();
  out["follow the log: per entry, hash and decode (µs)"] =
    (await perCall(() => {
      f.push(leafHash(leaf));
      decodeLeaf(leaf);
    }, 30000)) * 1000;
  return out;
}
