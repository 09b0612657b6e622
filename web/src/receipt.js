// The reporter's receipt file, as the page keeps and checks it: the log's
// promise for a new case, completed into a receipt once the batch holding
// it is published (src/client/receipt_file.rs and receipt.rs are the Rust
// twins; docs/transparency.md, section 7).

import { FROM_REPORTER, b64, b64url, bytesEqual, sha256 } from "./crypto.js";
import { Problem } from "./problem.js";
import {
  caseCommitment,
  decodeLeaf,
  deskCommitment,
  leafHash,
  messageCommitment,
  openCheckpoint,
  parseVerifier,
  readersCommitment,
  reporterCommitment,
  verifyConsistency,
  verifyInclusion,
  verifyPromise,
} from "./tlog.js";

/** The version of the receipt files this page writes. */
export const RECEIPT_FILE_VERSION = 2;

/** The size of the latest published checkpoint, 0 before the first. */
export async function publishedSize(api, verifier) {
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

export function checkOwnReceipt(file, envelopeHash, readers, keys) {
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
    // Message 0 of the first page, or its envelope's hash as read from it
    // (thread.js receiptView: a page that holds the thread keeps no envelope).
    const first = status.messages?.[0];
    const servedHash = first && (first.envelopeSha256 ?? sha256(b64.decode(first.envelope)));
    const served = servedHash && messageCommitment(file.case, 0, FROM_REPORTER, servedHash);
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
