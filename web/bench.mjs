// Speed of the page's cryptography, in node and in Chromium (same V8, but
// the browser's WebCrypto and Worker-less main thread). Not a test: run by
// hand, numbers go to docs/benchmarks.md.
//   cd web && node bench.mjs            (SOTTO_CHROMIUM=/usr/bin/chromium)

import { createServer } from "node:http";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { measure } from "./bench/measure.js";

const node = await measure();
const bundled = await build({
  stdin: {
    contents: 'import { measure } from "./bench/measure.js"; globalThis.sottoBench = measure;',
    resolveDir: import.meta.dirname,
  },
  bundle: true,
  format: "iife",
  write: false,
});
const browser = await chromium.launch({
  executablePath: process.env.SOTTO_CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});
// A page on loopback: a secure context, where WebCrypto is available.
const server = createServer((_, res) => res.end("<title>bench</title>"));
await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
await page.evaluate(bundled.outputFiles[0].text);
const chrome = await page.evaluate(() => globalThis.sottoBench());
const version = browser.version();
await browser.close();
server.close();

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString("en") : x.toFixed(x >= 10 ? 1 : 2));
console.log("| measure | node " + process.versions.node + ` | Chromium ${version} |`);
console.log("|---|---:|---:|");
for (const k of Object.keys(node)) console.log(`| ${k} | ${fmt(node[k])} | ${fmt(chrome[k])} |`);
