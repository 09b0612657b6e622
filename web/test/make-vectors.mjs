// Writes testdata/web/js-vectors.json with the browser's own code, for the
// Rust tests (tests/api/web_vectors.rs) to check. Run from web/:
//   node test/make-vectors.mjs
// The envelope is sealed afresh each run; everything else is deterministic.

import { writeFileSync } from "node:fs";
import { vectors } from "./vectors.mjs";

const out = await vectors();
writeFileSync(new URL("../../testdata/web/js-vectors.json", import.meta.url), `${JSON.stringify(out, null, 2)}\n`);
console.log("wrote testdata/web/js-vectors.json");
