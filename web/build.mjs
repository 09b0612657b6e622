// Builds dist/sotto.js from src/ with esbuild: one classic script that is
// both the page's code and its proof-of-work Worker. The output depends
// only on the sources and package-lock.json, so anyone can rebuild it and
// compare: `node build.mjs --check` fails if the committed bundle differs.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { createHash } from "node:crypto";
import { build } from "esbuild";

const OUT = "dist/sotto.js";
const check = process.argv.includes("--check");

const result = await build({
  entryPoints: ["src/app.js"],
  bundle: true,
  format: "iife",
  target: ["es2022"],
  platform: "browser",
  charset: "utf8",
  legalComments: "eof",
  minify: false,
  write: false,
  logLevel: "warning",
});
const bytes = result.outputFiles[0].contents;
const hash = createHash("sha256").update(bytes).digest("hex");

if (check) {
  let committed;
  try {
    committed = readFileSync(OUT);
  } catch {
    committed = Buffer.alloc(0);
  }
  if (!committed.equals(Buffer.from(bytes))) {
    const was = createHash("sha256").update(committed).digest("hex");
    console.error(
      `web/${OUT} is not what its sources build: committed ${was}, built ${hash}.\n` +
        "Run `npm run build` in web/ and commit the result.",
    );
    process.exit(1);
  }
  console.log(`web/${OUT} is reproducible: sha256 ${hash}`);
} else {
  mkdirSync("dist", { recursive: true });
  writeFileSync(OUT, bytes);
  console.log(`wrote web/${OUT} (${bytes.length} bytes), sha256 ${hash}`);
}
