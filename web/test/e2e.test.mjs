// End to end, in a real browser: Debian's Chromium, headless, driven by
// playwright-core, against the real `sotto` binary and its CLI.
//
// Run by ./scripts/test.sh, which builds the binary, installs Chromium and
// the npm packages, and sets SOTTO_BIN and SOTTO_PYTHON (a Python with
// pyrage). Screenshots of every page go to target/screenshots/.

import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";

import axe from "axe-core";
import { chromium } from "playwright-core";

const ROOT = resolve(import.meta.dirname, "../..");
const BIN = process.env.SOTTO_BIN;
const PYTHON = process.env.SOTTO_PYTHON;
const CHROMIUM = process.env.SOTTO_CHROMIUM ?? "/usr/bin/chromium";
const SHOTS = join(ROOT, "target", "screenshots");
const LANGS = ["en", "es", "de", "ar"];

// What sits in front of the server: nothing (plain loopback), or Caddy
// with the deployed Caddyfile and its internal CA, at the root of a host
// ("https") or under /report/ ("https-prefix"). ./scripts/test.sh runs the
// report-and-reply tests again in both.
const FRONT = process.env.SOTTO_E2E_FRONT ?? "";
if (!["", "https", "https-prefix"].includes(FRONT)) {
  throw new Error(`SOTTO_E2E_FRONT must be https or https-prefix, not ${FRONT}`);
}

if (!BIN || !PYTHON) {
  throw new Error("SOTTO_BIN and SOTTO_PYTHON must be set: run ./scripts/test.sh");
}

let work;
let server;
let base;
let browser;
let caddy;
let caddyRoot;

function sotto(args, { input, env } = {}) {
  return execFileSync(BIN, args, {
    input,
    encoding: "utf8",
    env: {
      ...process.env,
      SOTTO_SERVER: base,
      SOTTO_KNOWN: join(work, "known.json"),
      ...(caddyRoot ? { SOTTO_CA: caddyRoot } : {}),
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
}

/** Runs the CLI expecting failure; returns its stderr and stdout. */
function sottoFails(args, opts) {
  try {
    sotto(args, opts);
  } catch (e) {
    return `${e.stdout}${e.stderr}`;
  }
  throw new Error(`sotto ${args.join(" ")} succeeded`);
}

function identity(name, file) {
  sotto(["desk", "keygen", "--name", name, "--identity", join(work, file)]);
  return join(work, file);
}

function addRecipient(key, desk = "default") {
  const card = sotto(["desk", "card", "--identity", key]).trim();
  sotto(["admin", "add-recipient", "--data", join(work, "data"), "--desk", desk, "--card", card]);
}

function python(script, ...args) {
  return execFileSync(PYTHON, ["-c", script, ...args], { encoding: "utf8" });
}

/** Decrypts the database's envelopes of a case with pyrage and an identity file. */
function pyrageOpen(caseHex, keyFile) {
  return JSON.parse(
    python(
      `
import sqlite3, sys, json, pyrage
ident = pyrage.x25519.Identity.from_str(
    [l for l in open(sys.argv[2]).read().splitlines() if l.startswith("AGE-SECRET-KEY-1")][0])
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
out = []
for (env,) in db.execute("SELECT envelope FROM messages WHERE hex(case_id) = upper(?) ORDER BY seq", (sys.argv[3],)):
    try:
        p = pyrage.decrypt(env, [ident])
    except Exception:
        out.append(None)
        continue
    n = int.from_bytes(p[16:20], "big")
    out.append(json.loads(p[20:20 + n]))
print(json.dumps(out))
`,
      join(work, "data", "sotto.db"),
      keyFile,
      caseHex,
    ),
  );
}

function inbox(key) {
  return JSON.parse(sotto(["desk", "inbox", "--identity", key, "--json"]));
}

let alice;
let bob;
let carol;

/** Starts `sotto serve` on `data` with extra environment; returns the process and its URL. */
async function serve(data, env = {}) {
  const proc = spawn(BIN, ["serve", "--data", data, "--listen", "127.0.0.1:0"], {
    env: {
      ...process.env,
      SOTTO_POW_DIFFICULTY: "12",
      SOTTO_CHECKPOINT_INTERVAL: "1",
      SOTTO_LOG: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = await new Promise((ok, fail) => {
    let out = "";
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/[^/\s]+)\//.exec(out);
      if (m) ok(m[1]);
    });
    proc.on("exit", (code) => fail(new Error(`sotto serve exited with ${code}`)));
    setTimeout(() => fail(new Error("sotto serve did not start")), 20000);
  });
  return { proc, url };
}

/** A free TCP port on loopback. */
function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/**
 * Caddy with deploy/`file`, changed only as a test needs (as
 * tests/api/field.rs does): its internal CA, free ports, no admin
 * endpoint, and the test server as the upstream.
 */
async function startCaddy(file, upstream, port) {
  const dir = mkdtempSync(join(tmpdir(), "sotto-caddy-"));
  const deployed = readFileSync(join(ROOT, "deploy", file), "utf8");
  assert.ok(deployed.includes("\n{\n\tlog default"), `deploy/${file} changed its global block`);
  const globals = `{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port ${await freePort()}\n\thttps_port ${port}\n`;
  const config = deployed.replace("\n{\n", `\n${globals}`).replaceAll("127.0.0.1:8080", `127.0.0.1:${upstream}`);
  writeFileSync(join(dir, "Caddyfile"), config);
  const proc = spawn("caddy", ["run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], {
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir, SOTTO_DOMAIN: `localhost:${port}` },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  proc.stderr.on("data", (d) => (log += d));
  const root = join(dir, "caddy", "pki", "authorities", "local", "root.crt");
  for (let i = 0; ; i++) {
    try {
      const ca = readFileSync(root);
      await new Promise((ok, fail) => {
        const req = httpsGet(`https://localhost:${port}/`, { ca }, (res) => {
          res.resume();
          ok(res.statusCode);
        });
        req.on("error", fail);
        req.setTimeout(5000, () => req.destroy(new Error("timed out")));
      });
      break;
    } catch {
      if (i > 300) throw new Error(`caddy did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { proc, root, dir };
}

before(async () => {
  work = mkdtempSync(join(tmpdir(), "sotto-e2e-"));
  if (FRONT) {
    const port = await freePort();
    const prefix = FRONT === "https-prefix" ? "/report" : "";
    const origin = `https://localhost:${port}`;
    const local = await serve(join(work, "data"), { SOTTO_PUBLIC_URL: `${origin}${prefix}/` });
    server = local.proc;
    caddy = await startCaddy(prefix ? "Caddyfile.prefix" : "Caddyfile", new URL(local.url).port, port);
    caddyRoot = caddy.root;
    base = `${origin}${prefix}`;
  } else {
    ({ proc: server, url: base } = await serve(join(work, "data")));
  }
  alice = identity("Alice Ombud", "alice.key");
  bob = identity("Bob Team", "bob.key");
  carol = identity("Carol Independent", "carol.key");
  addRecipient(alice);
  addRecipient(bob);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
  caddy?.proc.kill();
  if (caddy) rmSync(caddy.dir, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

/** A page that records script errors and everything it sends. */
async function newPage(options = {}) {
  // Behind Caddy, the browser meets Caddy's internal CA, which the
  // machine does not trust; the CLI is given it with SOTTO_CA.
  const context = await browser.newContext({ acceptDownloads: true, ignoreHTTPSErrors: Boolean(FRONT), ...options });
  const page = await context.newPage();
  page.noJs = options.javaScriptEnabled === false;
  page.errors = [];
  page.sent = [];
  page.on("pageerror", (e) => page.errors.push(e.message));
  page.on("request", (r) => {
    page.sent.push(`${r.url()}\n${JSON.stringify(r.headers())}\n${r.postData() ?? ""}`);
  });
  return page;
}

/** Asserts that no request of `page` carried the token, in any written form. */
function tokenNeverSent(page, token) {
  const forms = [token, token.replaceAll("-", ""), token.toUpperCase(), token.slice(0, 9)];
  for (const sent of page.sent) {
    for (const f of forms) assert.ok(!sent.includes(f), `the token left the browser: ${sent.slice(0, 200)}`);
  }
  assert.ok(page.sent.some((s) => s.includes("sotto-handle")), "requests with the handle were recorded");
}

async function waitForReaderCheck(page) {
  await page.waitForSelector("#reader-check p");
}

/** Fills the report form; unchecks the readers named in `exclude`. */
async function fillReport(page, text, { exclude = [], files = [] } = {}) {
  await page.fill("#text", text);
  await page.fill("#when", "last Tuesday evening");
  await page.fill("#links", "https://example.org/post/1\nhttps://example.org/post/2");
  await page.fill("#involved", "a moderator");
  await page.selectOption("#category", "harassment");
  for (const name of exclude) {
    await page.uncheck(`input[name=reader][data-name="${name}"]`);
  }
  if (files.length) await page.setInputFiles("#attachments", files);
}

async function submitInBrowser(page, text, opts) {
  await page.goto(`${base}/`);
  await waitForReaderCheck(page);
  await fillReport(page, text, opts);
  await page.click("#send");
  await page.waitForSelector("#done:not([hidden])", { timeout: 120000 });
  const token = (await page.textContent("#token")).trim();
  assert.match(token, /^([0-9a-z]{4}-){7}[0-9a-z]{4}$/);
  return token;
}

async function openStatus(page, token) {
  await page.goto(`${base}/status`);
  await page.fill("#token-input", token);
  await page.click("#status-form button[type=submit]");
  await page.waitForSelector("#case:not([hidden]) .thread", { timeout: 60000 });
}

function caseOf(text, key) {
  for (const c of inbox(key)) {
    const shown = sotto(["desk", "show", c.case, "--identity", key]);
    if (shown.includes(text)) return { id: c.case, shown };
  }
  return null;
}

let jsCase;
let jsToken;

// Behind Caddy (SOTTO_E2E_FRONT), the report-and-reply tests run, named
// for where they ran; the rest run once, in the plain run before.
const frontTest = (name, fn) => test(FRONT ? `${name} (behind Caddy, ${FRONT})` : name, fn);
const plainTest = FRONT ? () => {} : test;

frontTest("a report from the browser, one reader unchecked: only the chosen reader can open it", async () => {
  const page = await newPage();
  const text = "The browser wrote this: a moderator keeps messaging me.";
  jsToken = await submitInBrowser(page, text, { exclude: ["Bob Team"] });
  await page.screenshot({ path: join(SHOTS, "token-en-desktop.png"), fullPage: true });

  // Nobody leaves without the token: a wrong last group is refused.
  await page.fill("#confirm", "zzzz");
  await page.click("#confirm-form button");
  assert.match(await page.textContent("#confirm-result"), /not the last group/);
  await page.fill("#confirm", jsToken.split("-").pop());
  await page.click("#confirm-form button");
  assert.ok(await page.isVisible("#status-link"));
  // No entry and no size yet: the log's promise, and when it is kept.
  assert.match(await page.textContent("#receipt-note"), /promise to publish your report with its next batch, within \d+ min/);
  assert.equal((await page.textContent("#done-warnings")).trim(), "");

  // The saved file holds the token and the receipt.
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save")]);
  const saved = readFileSync(await download.path(), "utf8");
  assert.ok(saved.includes(`token: ${jsToken}`));
  assert.ok(saved.includes("-----BEGIN SOTTO RECEIPT-----"));
  assert.ok(saved.includes(`${base}/status`), `the file names this server's status page: ${saved.slice(0, 300)}`);
  writeFileSync(join(work, "token-file.txt"), saved);

  const found = caseOf(text, alice);
  assert.ok(found, "Alice reads the report with `sotto desk show`");
  jsCase = found.id;
  assert.match(found.shown, /when: last Tuesday evening/);
  assert.match(found.shown, /who was involved: a moderator/);
  assert.match(found.shown, /category: harassment/);
  assert.match(found.shown, /language: en/);
  assert.match(found.shown, /link: https:\/\/example.org\/post\/2/);
  assert.ok(!inbox(bob).some((c) => c.case === jsCase), "the case is not in Bob's inbox");
  sottoFails(["desk", "show", jsCase, "--identity", bob]);

  // With standard age (pyrage), straight from the database: Alice's key
  // opens the browser-made envelope, Bob's does not.
  const withAlice = pyrageOpen(jsCase, alice);
  assert.equal(withAlice[0].text, text);
  assert.equal(withAlice[0].kind, "report");
  assert.deepEqual(pyrageOpen(jsCase, bob), [null]);
  tokenNeverSent(page, jsToken);
  assert.deepEqual(page.errors, []);
});

frontTest("the handler's reply shows verified in the browser, and the reporter's reply reaches the handler", async () => {
  assert.ok(jsCase, "needs the first test's case");
  const evidence = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256));
  writeFileSync(join(work, "from-desk.bin"), evidence);
  sotto(["desk", "reply", jsCase, "--identity", alice, "--attach", join(work, "from-desk.bin")], {
    input: "Thank you. We are looking into it.",
  });
  await new Promise((r) => setTimeout(r, 2500)); // the reply's checkpoint is published
  sotto(["admin", "resources", "import", "--data", join(work, "data"), join(ROOT, "deploy", "resources.example.json")]);
  const page = await newPage();
  await openStatus(page, jsToken);

  // The referral directory, filtered here: English, harassment, and the
  // region picked on the page (never sent).
  await page.waitForSelector("#resources ul li");
  const before = page.sent.length;
  await page.selectOption("#region", "US");
  let support = await page.textContent("#resources ul");
  assert.match(support, /Cyber Civil Rights Initiative/);
  assert.match(support, /Right To Be/);
  assert.doesNotMatch(support, /HateAid/);
  await page.selectOption("#region", "DE");
  support = await page.textContent("#resources ul");
  assert.match(support, /HateAid/);
  assert.doesNotMatch(support, /Cyber Civil Rights/);
  assert.equal(page.sent.length, before, "choosing a region sends nothing");
  assert.ok(!page.sent.some((r) => r.split("\n")[0].includes("region")));
  const thread = await page.textContent("#case .thread");
  assert.match(thread, /Thank you\. We are looking into it\./);
  assert.match(thread, /Alice Ombud/);
  assert.equal(await page.locator("#case .verified").count(), 2);
  assert.equal(await page.locator("#case .thread .problem").count(), 0);
  assert.match(await page.textContent("#case"), /fresh receipt from the server checks out/);
  await page.screenshot({ path: join(SHOTS, "status-en-desktop.png"), fullPage: true });

  // The handler's attachment, decrypted on the device, downloads intact.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.click("#case .thread a[download='from-desk.bin']"),
  ]);
  assert.ok(readFileSync(await download.path()).equals(evidence));

  // The reporter answers, with a file of their own.
  await page.fill("#reply", "More detail, written in the browser.");
  await page.setInputFiles("#reply-files", [{ name: "more.txt", mimeType: "text/plain", buffer: Buffer.from("more evidence") }]);
  await page.click("#reply-form button[type=submit]");
  await page.waitForSelector("#case .ok[role=status]");
  assert.match(await page.textContent("#case .thread"), /More detail, written in the browser\./);
  const shown = sotto(["desk", "show", jsCase, "--identity", alice, "--save-attachments", join(work, "from-reporter")]);
  assert.match(shown, /More detail, written in the browser\./);
  assert.equal(readFileSync(join(work, "from-reporter", "more.txt"), "utf8"), "more evidence");
  tokenNeverSent(page, jsToken);
  assert.deepEqual(page.errors, []);
});

plainTest("once the desk is late, the reporter hands the case to another desk from the status page", async () => {
  // A server of its own whose calendar starts 8 days back: the report is
  // made then, and read today, past the 7 days to acknowledge it.
  const data = join(work, "data-late");
  const back = { SOTTO_CLOCK_OFFSET_DAYS: "-8" };
  const card = (key) => sotto(["desk", "card", "--identity", key]).trim();
  const dave = identity("Dave Independent", "dave-independent.key");
  let made;
  let { proc, url } = await serve(data, back);
  try {
    const other = { ...back, SOTTO_SERVER: url };
    sotto(["admin", "add-recipient", "--data", data, "--card", card(alice)], { env: other });
    sotto(["admin", "add-desk", "--data", data, "--name", "independent"], { env: other });
    sotto(["admin", "add-recipient", "--data", data, "--desk", "independent", "--card", card(carol)], { env: other });
    sotto(["admin", "add-recipient", "--data", data, "--desk", "independent", "--card", card(dave)], { env: other });
    made = JSON.parse(
      sotto(["report", "submit", "--json", "--accept-readers"], {
        input: "Nobody on the team answers me.",
        env: other,
      }),
    );
  } finally {
    proc.kill();
  }
  ({ proc, url } = await serve(data));
  try {
    const page = await newPage();
    await page.goto(`${url}/status`);
    await page.fill("#token-input", made.token);
    await page.click("#status-form button[type=submit]");
    await page.waitForSelector("#escalate-form", { timeout: 60000 });
    await page.selectOption("#escalate-desk", "independent");
    await page.waitForFunction(
      () =>
        document.querySelector("#escalate-check p") ||
        document.querySelector("#escalate-form .problem").textContent,
    );
    assert.equal(await page.textContent("#escalate-form .problem"), "", String(page.errors));
    assert.deepEqual(await axeViolations(page), [], "the escalation form is accessible");
    const daveBox = await page.getAttribute('#escalate-readers label:has-text("Dave")', "for");
    await page.uncheck(`#${daveBox}`);
    await page.click("#escalate-form button[type=submit]");
    await page.waitForSelector("#case .ok[role=status]", { timeout: 60000 });
    assert.match(await page.textContent("#case .ok[role=status]"), /independent/);
    assert.match(await page.textContent("#case"), /Carol Independent/);
    assert.deepEqual(page.errors, []);
    tokenNeverSent(page, made.token);
    await page.screenshot({ path: join(SHOTS, "status-escalated-en-desktop.png"), fullPage: true });

    // Without JavaScript the page cannot seal for the reporter; it says how else.
    const nojs = await newPage({ javaScriptEnabled: false });
    await nojs.goto(`${url}/status`);
    await nojs.fill("#token-input", made.token);
    await nojs.click("#status-form button[type=submit]");
    await nojs.waitForSelector("#case");
    assert.match(await nojs.textContent("body"), /sotto report escalate --desk NAME/);
    await nojs.context().close();

    // Carol reads it, as the reporter shared it; Dave, left out, cannot.
    const env = { SOTTO_SERVER: url };
    const mine = JSON.parse(sotto(["desk", "inbox", "--identity", carol, "--json"], { env }));
    assert.equal(mine.length, 1);
    const shown = sotto(["desk", "show", mine[0].case, "--identity", carol], { env });
    assert.match(shown, /Nobody on the team answers me\./);
    assert.match(shown, /text as the reporter shared it with you/);
    assert.equal(JSON.parse(sotto(["desk", "inbox", "--identity", dave, "--json"], { env })).length, 0);
    assert.match(
      sottoFails(["desk", "share", mine[0].case, "--card", card(dave), "--identity", carol], { env }),
      /left this recipient out/,
    );
  } finally {
    proc.kill();
  }
});

plainTest("a thread longer than a page is read whole, and after a reply the page reads only what is new", async () => {
  // A server whose pages hold one envelope each.
  const data = join(work, "data-paged");
  let { proc, url } = await serve(data, { SOTTO_PAGE_BYTES: "1" });
  try {
    const env = { SOTTO_SERVER: url };
    sotto(["admin", "add-recipient", "--data", data, "--card", sotto(["desk", "card", "--identity", alice]).trim()], { env });
    const made = JSON.parse(sotto(["report", "submit", "--json", "--accept-readers"], { input: "A long story, told in pages.", env }));
    const [mine] = JSON.parse(sotto(["desk", "inbox", "--identity", alice, "--json"], { env }));
    sotto(["desk", "reply", mine.case, "--identity", alice], { input: "First answer.", env });
    sotto(["desk", "reply", mine.case, "--identity", alice], { input: "Second answer.", env });

    const page = await newPage();
    await page.goto(`${url}/status`);
    await page.fill("#token-input", made.token);
    await page.click("#status-form button[type=submit]");
    await page.waitForSelector("#case:not([hidden]) .thread", { timeout: 60000 });
    const thread = await page.textContent("#case .thread");
    assert.match(thread, /A long story, told in pages\.[\s\S]*First answer\.[\s\S]*Second answer\./);
    assert.equal(await page.locator("#case .verified").count(), 3);
    const reads = () =>
      page.sent
        .filter((r) => new URL(r.split("\n")[0]).pathname === "/v1/reporter/case")
        .map((r) => [new URL(r.split("\n")[0]).search, "if-none-match" in JSON.parse(r.split("\n")[1])]);
    assert.deepEqual(reads(), [["", false], ["?after=0", false], ["?after=1", false]], "one page at a time, no ETag while paging");

    const before = reads().length;
    await page.fill("#reply", "My answer, on the fourth page.");
    await page.click("#reply-form button[type=submit]");
    await page.waitForSelector("#case .ok[role=status]", { timeout: 60000 });
    assert.match(await page.textContent("#case .thread"), /Second answer\.[\s\S]*My answer, on the fourth page\./);
    assert.equal(await page.locator("#case .verified").count(), 4);
    assert.deepEqual(reads().slice(before), [["?after=2", true]], "only the new message is read, with the ETag");
    assert.match(sotto(["desk", "show", mine.case, "--identity", alice], { env }), /My answer, on the fourth page\./);
    assert.deepEqual(page.errors, []);
    tokenNeverSent(page, made.token);
  } finally {
    proc.kill();
  }
});

plainTest("the saved file's receipt is checked on the status page, and a deleted case is a clear warning", async () => {
  const page = await newPage();
  await page.goto(`${base}/status`);
  await page.setInputFiles("#token-file", join(work, "token-file.txt"));
  await page.waitForFunction(() => document.querySelector("#token-input").value.length > 0);
  await page.click("#status-form button[type=submit]");
  await page.waitForSelector("#case:not([hidden]) .thread");
  // The file held the promise; the batch is published, so the page
  // completes it with the receipt and offers the completed file.
  assert.match(await page.textContent("#case"), /Your receipt is now complete/);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#save-completed")]);
  const completed = readFileSync(await download.path(), "utf8");
  assert.ok(completed.includes(`token: ${jsToken}`));
  assert.ok(completed.includes('"leaf_index"'));
  writeFileSync(join(work, "token-file.txt"), completed);
  const kept = await newPage();
  await kept.goto(`${base}/status`);
  await kept.setInputFiles("#token-file", join(work, "token-file.txt"));
  await kept.waitForFunction(() => document.querySelector("#token-input").value.length > 0);
  await kept.click("#status-form button[type=submit]");
  await kept.waitForSelector("#case:not([hidden]) .thread");
  assert.match(await kept.textContent("#case"), /Your receipt checks out/);

  // The operator deletes the case behind everyone's back.
  python(
    `
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""PRAGMA foreign_keys = OFF;
DROP TRIGGER messages_are_append_only_delete;
DROP TRIGGER case_recipients_are_fixed_delete;""")
for t in ["messages", "case_recipients", "cases"]:
    col = "id" if t == "cases" else "case_id"
    db.execute(f"DELETE FROM {t} WHERE hex({col}) = upper(?)", (sys.argv[2],))
db.commit()
`,
    join(work, "data", "sotto.db"),
    jsCase,
  );
  const again = await newPage();
  await again.goto(`${base}/status`);
  await again.setInputFiles("#token-file", join(work, "token-file.txt"));
  await again.waitForFunction(() => document.querySelector("#token-input").value.length > 0);
  await again.click("#status-form button[type=submit]");
  await again.waitForFunction(() => document.querySelector("#status-error").textContent.length > 0);
  assert.match(await again.textContent("#status-error"), /deleted behind your back/);
});

plainTest("without JavaScript, report and status work as plain forms, and say the server saw the text", async () => {
  const page = await newPage({ javaScriptEnabled: false });
  await page.goto(`${base}/`);
  assert.match(await page.textContent("noscript, main"), /server sees your report while it seals it/);
  const text = "Sent with JavaScript off.";
  await fillReport(page, text, { exclude: ["Alice Ombud"] });
  assert.equal(await page.isVisible("#send"), false, "the script's button stays hidden");
  await page.click("#send-server");
  await page.waitForSelector("#token");
  const token = (await page.textContent("#token")).trim();
  assert.match(token, /^([0-9a-z]{4}-){7}[0-9a-z]{4}$/);
  assert.match(await page.textContent("main"), /promise to publish your report with its next batch, within \d+ min/);
  await page.screenshot({ path: join(SHOTS, "token-nojs-en-desktop.png"), fullPage: true });

  const found = caseOf(text, bob);
  assert.ok(found, "Bob reads it");
  assert.match(found.shown, /category: harassment/);
  assert.match(found.shown, /language: en/);
  assert.ok(!inbox(alice).some((c) => c.case === found.id), "Alice was unchecked");
  assert.deepEqual(pyrageOpen(found.id, alice), [null]);
  sotto(["desk", "reply", found.id, "--identity", bob], { input: "Reply to a reporter without JavaScript." });

  // The token page's own form opens the case: the reporter types it back.
  await page.fill("#token-input", token);
  await page.click("#status-form button[type=submit]");
  await page.waitForSelector("#reply-form");
  const thread = await page.textContent(".thread");
  assert.match(thread, /Sent with JavaScript off\./);
  assert.match(thread, /Reply to a reporter without JavaScript\./);
  assert.equal(await page.locator(".thread .verified").count(), 2);
  await page.screenshot({ path: join(SHOTS, "status-nojs-en-desktop.png"), fullPage: true });

  await page.fill("#reply", "My answer, still without JavaScript.");
  await page.click("#reply-form button[type=submit]");
  await page.waitForSelector(".ok[role=status]");
  assert.match(await page.textContent(".thread"), /My answer, still without JavaScript\./);
  assert.match(sotto(["desk", "show", found.id, "--identity", bob]), /My answer, still without JavaScript\./);

  // A typo in the token is a clear 400, not a lost case.
  await page.goto(`${base}/status`);
  await page.fill("#token-input", `${token.slice(0, -1)}${token.endsWith("q") ? "p" : "q"}`);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === "POST"),
    page.click("#status-form button[type=submit]"),
  ]);
  assert.equal(response.status(), 400);
  assert.match(await page.textContent(".problem"), /typo/);
});

plainTest("an attachment of several MiB goes through and decrypts byte-identical at the desk", async () => {
  const page = await newPage();
  const data = Buffer.alloc(3 * 1024 * 1024 + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const text = "Evidence attached: a large file.";
  await submitInBrowser(page, text, {
    files: [{ name: "../../evidence.bin", mimeType: "application/octet-stream", buffer: data }],
  });
  for (const stage of ["encrypt", "work", "upload"]) {
    assert.equal(await page.$eval(`#p-${stage}`, (p) => p.value), 1, `${stage} progress reached the end`);
  }
  const found = caseOf(text, alice);
  assert.ok(found);
  const dir = join(work, "saved");
  sotto(["desk", "show", found.id, "--identity", alice, "--save-attachments", dir]);
  const files = readdirSync(dir);
  assert.deepEqual(files, ["evidence.bin"], "saved under a safe name, inside the folder");
  assert.ok(readFileSync(join(dir, files[0])).equals(data), "byte-identical");
  assert.deepEqual(page.errors, []);
});

plainTest("a record-only report is acknowledged as kept for the record, with no deadline", async () => {
  const page = await newPage();
  await page.goto(`${base}/`);
  await waitForReaderCheck(page);
  await page.fill("#text", "Only for the record.");
  await page.check("#record_only");
  await page.click("#send");
  await page.waitForSelector("#done:not([hidden])", { timeout: 60000 });
  const said = await page.textContent("#done-received");
  assert.match(said, /kept for the record, as you asked; no deadline runs/);
  assert.doesNotMatch(said, /acknowledge it by/);
});

plainTest("the page warns, naming them, when a reader was added since this browser last saw the desk", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await submitInBrowser(page, "First report from this browser.");
  const dave = identity("Dave Newcomer", "dave.key");
  addRecipient(dave);
  await new Promise((r) => setTimeout(r, 2500)); // the next checkpoint
  await page.goto(`${base}/`);
  await page.waitForFunction(() => /Dave Newcomer/.test(document.querySelector("#reader-check").textContent));
  assert.match(await page.textContent("#reader-check"), /Since you last reported here, Dave Newcomer was added/);
  sotto(["admin", "remove-recipient", "--data", join(work, "data"), "--desk", "default", "--recipient", "Dave Newcomer"]);
  await context.close();
});

plainTest("before the script has loaded, the form cannot send anything to the server", async () => {
  const page = await newPage();
  let release;
  const held = new Promise((r) => {
    release = r;
  });
  await page.route("**/static/sotto.js", async (route) => {
    await held;
    await route.continue();
  });
  // A deferred script holds DOMContentLoaded back: wait for the form alone.
  await page.goto(`${base}/`, { waitUntil: "commit" });
  await page.waitForSelector("#send", { state: "attached" });
  await page.fill("#text", "Typed before the script arrived.");
  assert.equal(await page.locator("#report-form button[type=submit]:visible").count(), 0);
  await page.press("#when", "Enter");
  await page.waitForTimeout(500);
  assert.ok(!page.sent.some((r) => r.includes("/report")), "nothing was posted");
  release();
  await page.waitForSelector("#send:visible");
  await page.waitForSelector("#reader-check p");
  assert.equal(await page.inputValue("#text"), "Typed before the script arrived.");
});

plainTest("over plain http from another host, the page says it cannot encrypt here and the forms still work", async () => {
  // The browser reaches the server under a name that is not loopback: not a
  // secure context, so no WebCrypto.
  const insecure = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP sotto-insecure.test 127.0.0.1",
    ],
  });
  try {
    const page = await insecure.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${base.replace("127.0.0.1", "sotto-insecure.test")}/`);
    assert.equal(await page.evaluate(() => window.isSecureContext), false);
    await page.waitForSelector("main > p.problem[role=alert]");
    assert.match(await page.textContent("main > p.problem"), /not opened over a secure connection/);
    await page.fill("#text", "Sent over plain http.");
    await page.click("#send");
    await page.waitForSelector("#token");
    assert.match((await page.textContent("#token")).trim(), /^([0-9a-z]{4}-){7}[0-9a-z]{4}$/);
    assert.deepEqual(errors, []);
  } finally {
    await insecure.close();
  }
});

plainTest("headers: a strict CSP that blocks injected inline script, no referrer, no cookies, no-store", async () => {
  const page = await newPage();
  const cookies = [];
  page.on("response", (r) => {
    if (r.headers()["set-cookie"]) cookies.push(r.url());
  });
  const res = await page.goto(`${base}/`);
  const h = res.headers();
  assert.match(h["content-security-policy"], /script-src 'self';/);
  assert.match(h["content-security-policy"], /frame-ancestors 'none'/);
  assert.doesNotMatch(h["content-security-policy"], /unsafe-inline|unsafe-eval/);
  assert.equal(h["referrer-policy"], "no-referrer");
  assert.equal(h["x-content-type-options"], "nosniff");
  assert.equal(h["cache-control"], "no-store");
  const blocked = await page.evaluate(
    () =>
      new Promise((done) => {
        document.addEventListener("securitypolicyviolation", (e) => done(e.violatedDirective));
        const s = document.createElement("script");
        s.textContent = "window.injected = true;";
        document.body.append(s);
        setTimeout(() => done(null), 2000);
      }),
  );
  assert.match(blocked, /script-src/);
  assert.equal(await page.evaluate(() => window.injected), undefined);
  await openStatus(page, await submitInBrowser(page, "for the header test"));
  assert.deepEqual(cookies, []);
  assert.deepEqual(await page.context().cookies(), []);
});

/**
 * axe-core's violations on a page: every rule it runs by default (WCAG 2.x
 * A and AA, and best practices). axe needs timers, which a page without
 * JavaScript does not run; such a page's DOM (its <noscript> shown) is
 * audited in a page with scripting on and the page's own script blocked.
 */
async function axeViolations(page) {
  let target = page;
  if (page.noJs) {
    const html = (await page.content()).replace(/<(\/?)noscript>/g, "<$1div>");
    target = await newPage();
    await target.route("**/static/sotto.js", (r) => r.abort());
    await target.goto(`${base}/status`);
    await target.setContent(html);
  }
  // Evaluated over the DevTools protocol, which the page's CSP does not
  // govern (an injected <script> would be blocked, rightly).
  await target.evaluate(`${axe.source};0`);
  const violations = await target.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  if (target !== page) await target.context().close();
  return violations;
}

/** Every page, in a given state, for axe and screenshots. */
async function eachPage(lang, fn) {
  const q = `?lang=${lang}`;
  const page = await newPage();
  await page.goto(`${base}/desk/default${q}`);
  await waitForReaderCheck(page);
  await fn(page, "report");
  await page.fill("#text", `Axe test report (${lang}).`);
  await page.click("#send");
  await page.waitForSelector("#done:not([hidden])", { timeout: 60000 });
  const token = (await page.textContent("#token")).trim();
  await fn(page, "token");
  await page.goto(`${base}/status${q}`);
  await fn(page, "status-form");
  await page.fill("#token-input", token);
  await page.click("#status-form button[type=submit]");
  await page.waitForSelector("#case:not([hidden]) .thread");
  await fn(page, "status");
  await page.goto(`${base}/${q}`);
  await fn(page, "desks");
  await page.goto(`${base}/desk/nonesuch${q}`);
  await fn(page, "error");
  const nojs = await newPage({ javaScriptEnabled: false });
  await nojs.goto(`${base}/desk/default${q}`);
  await fn(nojs, "report-nojs");
  await nojs.fill("#text", `Axe test without JavaScript (${lang}).`);
  await nojs.click("#send-server");
  await nojs.waitForSelector("#token");
  await fn(nojs, "token-nojs");
  await nojs.fill("#token-input", (await nojs.textContent("#token")).trim());
  await nojs.click("#status-form button[type=submit]");
  await nojs.waitForSelector("#reply-form");
  await fn(nojs, "status-nojs");
  assert.deepEqual(page.errors, []);
}

plainTest("axe-core finds no violations on any page, in any language; screenshots at desktop and phone width", async () => {
  // A second desk, so the desk chooser is a page of its own.
  sotto(["admin", "add-desk", "--data", join(work, "data"), "--name", "ombuds", "--description", "An independent ombudsperson, outside the team."]);
  addRecipient(carol, "ombuds");
  // The harness can fail: an image without a text alternative is caught.
  const control = await newPage();
  await control.goto(`${base}/status`);
  await control.evaluate(() => document.body.append(Object.assign(document.createElement("img"), { src: "data:," })));
  assert.ok((await axeViolations(control)).some((v) => v.startsWith("image-alt")));
  const found = [];
  for (const lang of LANGS) {
    await eachPage(lang, async (page, name) => {
      if (lang === "ar") {
        assert.equal(await page.getAttribute("html", "dir"), "rtl");
      }
      for (const v of await axeViolations(page)) found.push(`${lang} ${name}: ${v}`);
      for (const [width, height, label] of [
        [1280, 900, "desktop"],
        [390, 844, "phone"],
      ]) {
        await page.setViewportSize({ width, height });
        await page.screenshot({ path: join(SHOTS, `${name}-${lang}-${label}.png`), fullPage: true });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${lang} ${name} scrolls sideways at ${width}px`);
      }
    });
  }
  assert.deepEqual(found, []);
});

plainTest("the transparency page runs no script, takes the site's style, and is accessible in every language", async () => {
  sotto(["report", "submit", "--json", "--accept-readers"], { input: "A report the public figures count." });
  // Counted once the next checkpoint (every second here) covers it.
  let figures;
  for (let i = 0; ; i++) {
    figures = await (await fetch(`${base}/v1/transparency`)).json();
    if (figures.months.length > 0) break;
    assert.ok(i < 100, "no published figures");
    await new Promise((r) => setTimeout(r, 200));
  }
  const found = [];
  for (const lang of LANGS) {
    const page = await newPage();
    const logged = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") logged.push(m.text());
    });
    const res = await page.goto(`${base}/transparency?lang=${lang}`);
    const csp = res.headers()["content-security-policy"];
    assert.match(csp, /script-src 'none'/);
    assert.doesNotMatch(csp, /unsafe/);
    assert.equal(await page.getAttribute("html", "dir"), lang === "ar" ? "rtl" : "ltr");
    assert.equal(await page.locator("script").count(), 0);
    // The chart's colours come from the style sheet, which the policy lets in.
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector(".bar-in-time")).fill), "rgb(29, 78, 216)");
    assert.ok((await page.locator("svg[role=img] .bar-received").count()) >= 1);
    assert.equal(await page.locator("tbody tr").count(), figures.months.length);
    assert.equal(await page.getAttribute("nav a[aria-current=page]", "href"), `/transparency${lang === "en" ? "" : `?lang=${lang}`}`);
    // Whatever gets injected into the page does not run.
    const blocked = await page.evaluate(
      () =>
        new Promise((done) => {
          document.addEventListener("securitypolicyviolation", (e) => done(e.violatedDirective));
          const s = document.createElement("script");
          s.textContent = "window.injected = true;";
          document.body.append(s);
          setTimeout(() => done(null), 2000);
        }),
    );
    assert.match(blocked, /script-src/);
    assert.equal(await page.evaluate(() => window.injected), undefined);
    for (const v of await axeViolations(page)) found.push(`${lang} transparency: ${v}`);
    for (const [width, height, label] of [
      [1280, 900, "desktop"],
      [390, 844, "phone"],
    ]) {
      await page.setViewportSize({ width, height });
      await page.screenshot({ path: join(SHOTS, `transparency-${lang}-${label}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${lang} transparency scrolls sideways at ${width}px`);
    }
    // Only the injected script's refusal; nothing the page itself asked for.
    assert.deepEqual(
      logged.filter((c) => !c.includes("inline script")),
      [],
    );
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
  assert.deepEqual(found, []);
});
