// The reporter's page. The server renders every page as plain HTML forms
// that work without JavaScript; this script takes them over, so that the
// token is made, the report encrypted and the proof of work done here, on
// the reporter's device. The same file runs as the proof-of-work Worker.

import {
  Api,
  Problem,
  Token,
  checkReaders,
  checkReceipt,
  checkRecipients,
  escalateCase,
  fetchReceipt,
  followLog,
  postFollowUp,
  readCase,
  submitReport,
} from "./client.js";
import { TokenError, b64, fingerprint, solvePow } from "./crypto.js";

// The path a proxy publishes the server under ("" at the root of a host
// name), as the server wrote it into the page. The Worker has no document
// and needs none.
const BASE = typeof document === "undefined" ? "" : (document.body?.dataset.base ?? "");
const SCRIPT = `${BASE}/static/sotto.js`;
/** This server's public address, e.g. https://example.org/report. */
const here = () => location.origin + BASE;
const MEMORY = "sotto.known.v1";

// ---- Text ----

let CATALOG = {};

function t(key, params = {}) {
  let s = CATALOG[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

function describe(e) {
  if (e instanceof Problem) {
    const params = { ...e.params };
    if (typeof params.why === "object" && params.why?.key) params.why = t(params.why.key, params.why.params);
    return t(e.key, params);
  }
  if (e instanceof TokenError) return t(e.key);
  if (typeof e?.key === "string" && e.key in CATALOG) return t(e.key, e.params ?? {});
  return t("error.unknown", { message: e?.message ?? String(e) });
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

const $ = (id) => document.getElementById(id);

function sizeText(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}

// ---- What this browser remembers: the log it checked, and the readers
// each desk had. Public information only; never a case or a token. ----

function loadMemory() {
  try {
    const all = JSON.parse(localStorage.getItem(MEMORY) ?? "{}");
    return all[here()] ?? null;
  } catch {
    return null;
  }
}

function saveMemory(state) {
  try {
    const all = JSON.parse(localStorage.getItem(MEMORY) ?? "{}");
    all[here()] = state;
    localStorage.setItem(MEMORY, JSON.stringify(all));
  } catch {
    // Storage may be off (private windows): the check then starts from
    // the whole log each time, which is only slower.
  }
}

// ---- The proof of work, in a Worker ----

function solveInWorker(challenge, hash, difficulty, onProgress) {
  return new Promise((resolve, reject) => {
    let worker;
    try {
      worker = new Worker(SCRIPT);
    } catch {
      // No Worker: solve here (the page pauses meanwhile).
      try {
        resolve(solvePow(challenge, hash, difficulty, onProgress));
      } catch (e) {
        reject(e);
      }
      return;
    }
    worker.onmessage = (ev) => {
      if (ev.data.tried !== undefined) onProgress(ev.data.tried);
      else if (ev.data.nonce !== undefined) {
        worker.terminate();
        resolve(ev.data.nonce);
      } else {
        worker.terminate();
        reject(new Error(ev.data.error));
      }
    };
    worker.onerror = () => {
      worker.terminate();
      reject(new Error("the proof-of-work worker failed"));
    };
    worker.postMessage({ challenge, hash, difficulty });
  });
}

// ---- Pages ----

function main() {
  try {
    CATALOG = JSON.parse($("sotto-i18n")?.textContent ?? "{}");
  } catch {
    CATALOG = {};
  }
  // WebCrypto, which age-encryption uses for X25519, exists only in secure
  // contexts (https, loopback, .onion in Tor Browser). Elsewhere the page
  // leaves the forms to the server, and says what that means.
  if (!globalThis.isSecureContext || !globalThis.crypto?.subtle) {
    $("main")?.prepend(el("p", { class: "problem", role: "alert" }, t("js.insecure")));
    for (const button of document.querySelectorAll(".js-submit")) {
      button.hidden = false;
      button.disabled = false;
    }
    return;
  }
  for (const node of document.querySelectorAll(".js-only")) node.hidden = false;
  $("forget")?.addEventListener("click", () => {
    try {
      localStorage.removeItem(MEMORY);
    } catch {
      // Nothing to forget.
    }
    $("forgotten").textContent = t("report.safety.forgotten");
  });
  if ($("report-form")) reportPage($("report-form"));
  if ($("status-form")) statusPage($("status-form"));
}

async function reportPage(form) {
  const api = new Api(BASE);
  const deskName = form.dataset.desk;
  const error = $("form-error");
  const send = $("send");
  let desk = null;
  let checked = [];
  let logState = null;

  const checkBox = $("reader-check");
  checkBox.textContent = t("check.checking");
  // The form is taken over at once: a click before the desk and the log
  // are loaded waits for them, and never falls through to the server form.
  const ready = (async () => {
    try {
      desk = await api.desk(deskName);
      checked = checkRecipients(desk.recipients);
    } catch (e) {
      error.textContent = describe(e);
      send.disabled = true;
      checkBox.textContent = "";
      return false;
    }
    try {
      logState = await followLog(api, loadMemory());
      const check = checkReaders(logState, deskName, checked);
      checkBox.replaceChildren();
      const say = (cls, text) => checkBox.append(el("p", { class: cls }, text));
      for (const r of check.unlogged) say("problem", t("check.unlogged", { names: r.name }));
      for (const r of check.added) say("problem", t("check.added", { names: r.name, day: r.day }));
      if (!check.remembered) say("note", t("check.first"));
      if (check.unlogged.length === 0) say("ok", t("check.ok"));
    } catch (e) {
      checkBox.replaceChildren(el("p", { class: "problem" }, t("check.failed", { why: describe(e) })));
      logState = null;
    }
    return true;
  })();

  send.hidden = false;
  send.disabled = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!(await ready)) return;
    error.textContent = "";
    const text = $("text").value;
    if (!text.trim()) {
      error.textContent = t("error.required");
      $("text").focus();
      return;
    }
    const ids = [...form.querySelectorAll("input[name=reader]:checked")].map((i) => i.value);
    const chosen = checked.filter((r) => ids.includes(r.id));
    if (chosen.length === 0) {
      error.textContent = t("report.nobody");
      return;
    }
    send.disabled = true;
    const progress = $("progress");
    progress.hidden = false;
    const bar = (stage, value) => {
      $(`p-${stage}`).value = Math.max(0, Math.min(1, value));
    };
    try {
      const attachments = [];
      for (const file of $("attachments").files) {
        attachments.push({ name: file.name, data: b64.encode(new Uint8Array(await file.arrayBuffer())) });
      }
      const links = $("links")
        .value.split("\n")
        .map((l) => l.trim())
        .filter(Boolean);
      const done = await submitReport(
        api,
        desk,
        chosen,
        {
          text,
          when: $("when").value.trim(),
          involved: $("involved").value.trim(),
          category: $("category").value,
          lang: document.documentElement.lang,
          links,
          attachments,
          urgent: $("urgent").checked,
          recordOnly: $("record_only").checked,
        },
        {
          server: here(),
          logKey: logState?.key,
          progress: (stage, d, total) => bar(stage, total ? d / total : 1),
          solve: async (challenge, hash, difficulty) => {
            // The challenge names the work asked now; under a flood of new
            // reports it is more than usual, and the page says so.
            const usual = desk.proof_of_work.usual_difficulty ?? difficulty;
            if (difficulty > usual) {
              form.querySelector("label[for=p-work]").textContent = t("progress.work_busy", {
                times: 2 ** (difficulty - usual),
              });
            }
            const expected = 2 ** difficulty;
            const nonce = await solveInWorker(challenge, hash, difficulty, (tried) =>
              bar("work", 1 - Math.exp(-tried / expected)),
            );
            bar("work", 1);
            return nonce;
          },
        },
      );
      bar("upload", 1);
      if (logState) {
        logState.seen[deskName] = checked.map((r) => r.id);
        saveMemory(logState);
      }
      form.reset();
      showToken(done);
    } catch (e) {
      error.textContent = describe(e);
      send.disabled = false;
    }
  });
}

/** The file a reporter saves: the token and the receipt (as src/web/nojs.rs writes it). */
function tokenFile(token, receipt) {
  return (
    `${t("token.file.heading")}\n${t("token.file.instructions", { url: `${here()}/status` })}\n\n` +
    `token: ${token}\n\n-----BEGIN SOTTO RECEIPT-----\n${JSON.stringify(receipt)}\n-----END SOTTO RECEIPT-----\n`
  );
}

/** Whole minutes until the next batch, at least 1 ("within N min"). */
function minutes(seconds) {
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds / 60)) : 5;
}

function readTokenFile(text) {
  const token = /^token: *(.+)$/m.exec(text)?.[1]?.trim();
  const block = /-----BEGIN SOTTO RECEIPT-----\n([\s\S]*?)\n-----END SOTTO RECEIPT-----/.exec(text)?.[1];
  let receipt = null;
  if (block) {
    try {
      receipt = JSON.parse(block);
    } catch {
      receipt = null;
    }
  }
  return { token, receipt };
}

function showToken(done) {
  $("report-form").hidden = true;
  const section = $("done");
  section.hidden = false;
  const shown = done.token.display();
  $("token").textContent = shown;
  $("done-received").textContent = done.opened.next_update_due
    ? t("token.received", { day: done.opened.opened, due: done.opened.next_update_due })
    : t("token.received.record", { day: done.opened.opened });
  $("receipt-note").textContent = t("token.receipt", { minutes: minutes(done.opened.receipt_after_seconds) });
  for (const w of done.warnings) {
    $("done-warnings").append(el("p", { class: "problem" }, t("token.warning", { why: describe(w) })));
  }
  const blob = new Blob([tokenFile(shown, done.receipt)], { type: "text/plain" });
  const save = $("save");
  save.href = URL.createObjectURL(blob);
  save.download = `sotto-token-${done.opened.case.slice(0, 8)}.txt`;
  $("copy").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(shown);
      $("copied").textContent = t("token.copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents($("token"));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    }
  });
  let confirmed = false;
  window.addEventListener("beforeunload", (ev) => {
    if (!confirmed) ev.preventDefault();
  });
  $("confirm-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const typed = $("confirm").value.trim().toLowerCase();
    const last = shown.split("-").pop();
    if (typed === last) {
      confirmed = true;
      $("confirm-result").textContent = t("token.confirm.ok");
      $("confirm-result").className = "ok";
      $("status-link").hidden = false;
    } else {
      $("confirm-result").textContent = t("token.confirm.wrong");
      $("confirm-result").className = "problem";
    }
  });
  section.focus();
}

async function statusPage(form) {
  const api = new Api(BASE);
  const error = $("status-error");
  const input = $("token-input");
  let fromFile = null;

  $("token-file")?.addEventListener("change", async (ev) => {
    const file = ev.target.files[0];
    if (!file) return;
    fromFile = readTokenFile(await file.text());
    if (fromFile.token) input.value = fromFile.token;
  });

  $("open").hidden = false;
  $("open").disabled = false;
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    let token;
    try {
      token = Token.parse(input.value);
    } catch (e) {
      error.textContent = describe(e);
      return;
    }
    const receiptFile = fromFile?.receipt ?? null;
    try {
      await openCase(api, token, receiptFile);
      input.value = "";
      form.hidden = true;
    } catch (e) {
      error.textContent = describe(e);
    }
  });
}

async function openCase(api, token, receiptFile, note) {
  let status = null;
  try {
    status = await api.reporterStatus(token.handle());
  } catch (e) {
    if (e.status === 404 && receiptFile) {
      const r = await checkReceipt(api, token, receiptFile, null);
      throw r.problems[0] ?? new Problem("status.unknown_case");
    }
    if (e.status === 404) throw new Problem("status.unknown_case");
    throw e;
  }
  const read = await readCase(token, status);
  let receipt;
  if (receiptFile) {
    receipt = await checkReceipt(api, token, receiptFile, status);
  } else {
    try {
      receipt = await checkReceipt(api, token, await fetchReceipt(api, token, status), status);
      receipt.fresh = true;
    } catch (e) {
      receipt = { problems: [e instanceof Problem ? e : new Problem("receipt.malformed")] };
    }
  }
  renderCase(api, token, status, read, receipt, receiptFile, note);
}

/**
 * A kept file that held only the promise, completed with its receipt now
 * that the batch is published: said, and offered to save again.
 */
function completedReceipt(token, file, s) {
  const blob = new Blob([tokenFile(token.display(), file)], { type: "text/plain" });
  return [
    el("p", { class: "ok", id: "receipt-completed" }, t("status.receipt.completed", { entry: s.entry, size: s.size })),
    el(
      "p",
      { class: "actions" },
      el(
        "a",
        {
          id: "save-completed",
          class: "button",
          href: URL.createObjectURL(blob),
          download: `sotto-token-${file.case.slice(0, 8)}.txt`,
        },
        t("status.receipt.save"),
      ),
    ),
  ];
}

function renderCase(api, token, status, read, receipt, receiptFile, note) {
  const section = $("case");
  section.hidden = false;
  const today = new Date().toISOString().slice(0, 10);
  const parts = [el("h2", {}, t("status.case", { case: status.case.slice(0, 8), desk: status.desk }))];
  if (note) parts.push(el("p", { class: "ok", role: "status" }, note));
  parts.push(el("p", { class: "state" }, t("status.state", { state: t(`state.${status.state}`) })));
  parts.push(el("p", {}, t("status.opened", { day: status.opened })));
  const readers = read.cards.map((c) => `${c.name} (${fingerprint(c).text})`).join(", ");
  parts.push(el("p", {}, t("status.readers", { names: readers })));
  const due = status.next_update_due;
  if (due && due < today) parts.push(el("p", { class: "problem" }, t("status.late", { day: due })));
  else if (due) parts.push(el("p", {}, t("status.next_update", { day: due })));
  else parts.push(el("p", {}, t("status.no_update_due")));
  const feedback = status.feedback_due;
  if (feedback && feedback < today) parts.push(el("p", { class: "problem" }, t("status.feedback_late", { day: feedback })));
  else if (feedback) parts.push(el("p", {}, t("status.feedback_due", { day: feedback })));
  if (status.erased) parts.push(el("p", { class: "problem" }, t("status.erased", { day: status.erased.on })));

  for (const p of receipt.problems ?? []) {
    parts.push(el("p", { class: "problem", role: "alert" }, t("status.receipt.problem", { why: describe(p) })));
  }
  if ((receipt.problems ?? []).length === 0 && receipt.standing) {
    const s = receipt.standing;
    if (!s.published) parts.push(el("p", {}, t("status.receipt.pending", { minutes: minutes(s.seconds) })));
    else if (receipt.fresh) parts.push(el("p", { class: "ok" }, t("status.receipt.fresh", { entry: s.entry })));
    else if (receipt.upgraded) parts.push(...completedReceipt(token, receipt.upgraded, s));
    else parts.push(el("p", { class: "ok" }, t("status.receipt.ok", { entry: s.entry, size: s.size })));
  }
  // The forms below reopen the case: with the completed file from now on.
  if (receipt.upgraded && !receipt.fresh) receiptFile = receipt.upgraded;

  parts.push(el("h2", {}, t("status.timeline")));
  parts.push(
    el(
      "ol",
      { class: "timeline" },
      status.timeline.map((e) => el("li", {}, el("time", {}, e.on), " ", t(`state.${e.state}`))),
    ),
  );
  parts.push(el("h2", {}, t("status.messages")));
  parts.push(el("ol", { class: "thread" }, read.messages.map((m) => messageItem(m))));
  if (!status.erased) parts.push(replyForm(api, token, status, read, receiptFile));
  if (!status.erased && status.state === "received" && due && due < today) {
    parts.push(escalateForm(api, token, status, read, receiptFile));
  }
  const support = el("section", { id: "resources", "aria-labelledby": "resources-title" });
  parts.push(support);
  section.replaceChildren(...parts);
  section.focus();
  const report = read.messages[0]?.content;
  showResources(api, support, status.desk, report?.category ?? "").catch(() => support.remove());
}

/**
 * The desk's whole referral directory, filtered here by the page's
 * language, the report's kind and the region the reporter picks. The
 * region never leaves the device.
 */
async function showResources(api, section, desk, topic) {
  const directory = await api.json(`/v1/desks/${encodeURIComponent(desk)}/resources`);
  if (!directory.entries?.length) {
    section.remove();
    return;
  }
  const lang = document.documentElement.lang;
  const regions = [...new Set(directory.entries.flatMap((e) => e.regions))].filter((r) => r !== "*").sort();
  const select = el(
    "select",
    { id: "region" },
    el("option", { value: "" }, t("resources.region.any")),
    regions.map((r) => el("option", { value: r }, r)),
  );
  const list = el("ul", { class: "resources" });
  const render = () => {
    const region = select.value;
    const found = directory.entries.filter(
      (e) =>
        e.languages.some((l) => l === lang || l.split("-")[0] === lang) &&
        (!region || e.regions.some((r) => r === "*" || r === region)) &&
        (!topic || e.topics.some((x) => x === "*" || x === topic)),
    );
    list.replaceChildren(
      ...(found.length
        ? found.map((e) =>
            el(
              "li",
              {},
              el("a", { href: e.url, rel: "noreferrer noopener" }, e.name),
              el("p", { class: "meta" }, t("resources.details", { contact: e.contact, languages: e.languages.join(", "), regions: e.regions.join(", ") })),
              e.description ? el("p", {}, e.description) : null,
            ),
          )
        : [el("li", {}, t("resources.none"))]),
    );
  };
  select.addEventListener("change", render);
  render();
  section.replaceChildren(
    el("h2", { id: "resources-title" }, t("resources.title")),
    el("p", {}, t("resources.intro")),
    el("div", { class: "field" }, el("label", { for: "region" }, t("resources.region")), select),
    list,
  );
}

function messageItem(m) {
  const mine = m.direction === "reporter";
  const who = mine ? t("status.from_you") : m.author ? t("status.from_desk", { name: m.author }) : t("thread.unknown_direction");
  const meta = el(
    "p",
    { class: "meta" },
    el("strong", {}, who),
    m.seq === 0 ? ` (${t("status.the_report")})` : "",
    " · ",
    el("time", {}, m.on),
    " · ",
  );
  const item = el("li", { class: `message ${mine ? "mine" : "theirs"}` }, meta);
  if (m.problem) {
    meta.append(el("span", { class: "problem", role: "alert" }, t("status.not_shown", { why: describe(m.problem) })));
    return item;
  }
  meta.append(el("span", { class: "verified" }, t("status.verified")));
  const c = m.content;
  if (c.kind === "report") {
    const dl = el("dl", { class: "fields" });
    const row = (key, value) => dl.append(el("dt", {}, t(key)), el("dd", {}, value));
    if (c.urgent) row("status.field.urgent", "✓");
    if (c.record_only) row("status.field.record_only", "✓");
    if (typeof c.category === "string" && `category.${c.category}` in CATALOG && c.category) {
      row("status.field.category", t(`category.${c.category}`));
    }
    if (typeof c.when === "string" && c.when) row("status.field.when", c.when);
    if (typeof c.involved === "string" && c.involved) row("status.field.involved", c.involved);
    if (Array.isArray(c.links) && c.links.length) row("status.field.links", c.links.join("\n"));
    if (dl.childElementCount) item.append(dl);
  }
  item.append(el("div", { class: "body" }, c.text));
  for (const a of c.attachments) {
    let bytes;
    try {
      bytes = b64.decode(a.data);
    } catch {
      continue;
    }
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const name = safeName(a.name);
    item.append(el("p", {}, el("a", { href: url, download: name }, t("status.attachment", { name, size: sizeText(bytes.length) }))));
  }
  return item;
}

/** A download name for an untrusted file name: its last part, plain characters only. */
function safeName(name) {
  const last = String(name).split(/[/\\]/).pop() ?? "";
  const cleaned = [...last]
    .map((c) => (/[\p{L}\p{N}._\- ()]/u.test(c) ? c : "_"))
    .join("")
    .replace(/^[.\s]+/, "")
    .slice(0, 100);
  return cleaned || "attachment";
}

function replyForm(api, token, status, read, receiptFile) {
  const text = el("textarea", { id: "reply", rows: "5", "aria-describedby": "reply-help" });
  const files = el("input", { id: "reply-files", type: "file", multiple: true });
  const problem = el("p", { class: "problem", role: "alert" });
  const bar = el("progress", { id: "p-reply", max: "1", value: "0", hidden: true, "aria-label": t("progress.encrypt") });
  const button = el("button", { type: "submit" }, t("status.reply.send"));
  const form = el(
    "form",
    { id: "reply-form" },
    el(
      "div",
      { class: "field" },
      el("label", { for: "reply" }, t("status.reply")),
      el("p", { class: "help", id: "reply-help" }, t("status.reply.help")),
      text,
    ),
    el("div", { class: "field" }, el("label", { for: "reply-files" }, t("report.attachments")), files),
    bar,
    problem,
    button,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    problem.textContent = "";
    if (!text.value.trim() && files.files.length === 0) {
      problem.textContent = t("error.reply_empty");
      return;
    }
    button.disabled = true;
    bar.hidden = false;
    try {
      const attachments = [];
      for (const f of files.files) {
        attachments.push({ name: f.name, data: b64.encode(new Uint8Array(await f.arrayBuffer())) });
      }
      await postFollowUp(api, token, status, read.cards, text.value, attachments, {
        progress: (_, d, total) => {
          bar.value = total ? d / total : 1;
        },
      });
      await openCase(api, token, receiptFile, t("status.reply.sent"));
    } catch (e) {
      problem.textContent = describe(e);
      button.disabled = false;
    }
  });
  return form;
}

/**
 * Once nobody acknowledged the report in time: hand it to another desk.
 * The readers there are listed with the log's check, as for a report; the
 * thread is sealed here, one share per reader chosen.
 */
function escalateForm(api, token, status, read, receiptFile) {
  const select = el("select", { id: "escalate-desk" }, el("option", { value: "" }, t("escalate.choose")));
  const readers = el("fieldset", { id: "escalate-readers", hidden: true }, el("legend", {}, t("escalate.readers")));
  const check = el("div", { id: "escalate-check" });
  const problem = el("p", { class: "problem", role: "alert" });
  const bar = el("progress", { id: "p-escalate", max: "1", value: "0", hidden: true, "aria-label": t("progress.encrypt") });
  const button = el("button", { type: "submit", disabled: true }, t("escalate.send"));
  const form = el(
    "form",
    { id: "escalate-form", "aria-labelledby": "escalate-title" },
    el("h2", { id: "escalate-title" }, t("escalate.title")),
    el("p", {}, t("escalate.intro")),
    el("div", { class: "field" }, el("label", { for: "escalate-desk" }, t("escalate.desk")), select),
    readers,
    check,
    bar,
    problem,
    button,
  );
  let desk = null;
  let offered = [];
  api
    .json("/v1/desks")
    .then((list) => {
      for (const d of list.desks) {
        const already = (status.shares ?? []).some((sh) => sh.desk === d.name);
        if (d.name !== status.desk && !already && d.recipients > 0) select.append(el("option", { value: d.name }, d.name));
      }
    })
    .catch((e) => {
      problem.textContent = describe(e);
    });
  select.addEventListener("change", async () => {
    button.disabled = true;
    readers.hidden = true;
    readers.querySelectorAll("div").forEach((n) => n.remove());
    check.replaceChildren();
    problem.textContent = "";
    if (!select.value) return;
    try {
      desk = await api.desk(select.value);
      offered = checkRecipients(desk.recipients);
      for (const r of offered) {
        const id = `escalate-${r.id}`;
        readers.append(
          el(
            "div",
            { class: "check" },
            el("input", { type: "checkbox", id, name: "escalate-reader", value: r.id, checked: true }),
            el("label", { for: id }, `${r.name} (${r.fingerprint})`),
          ),
        );
      }
      readers.hidden = false;
      button.disabled = false;
      const c = checkReaders(await followLog(api, loadMemory()), desk.name, offered);
      for (const r of c.unlogged) check.append(el("p", { class: "problem" }, t("check.unlogged", { names: r.name })));
      for (const r of c.added) check.append(el("p", { class: "problem" }, t("check.added", { names: r.name, day: r.day })));
      if (c.unlogged.length === 0) check.append(el("p", { class: "ok" }, t("escalate.check_ok")));
    } catch (e) {
      problem.textContent = describe(e);
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    problem.textContent = "";
    const ids = [...form.querySelectorAll("input[name=escalate-reader]:checked")].map((i) => i.value);
    const chosen = offered.filter((r) => ids.includes(r.id));
    if (!desk || chosen.length === 0) {
      problem.textContent = t("report.nobody");
      return;
    }
    button.disabled = true;
    bar.hidden = false;
    try {
      const done = await escalateCase(api, token, status, read, desk, chosen, {
        progress: (_, d, total) => {
          bar.value = total ? d / total : 1;
        },
      });
      await openCase(api, token, receiptFile, t("escalate.done", { desk: done.desk }));
    } catch (e) {
      problem.textContent = describe(e);
      button.disabled = false;
    }
  });
  return form;
}

// Last, so that every declaration above is initialised.
if (typeof document === "undefined") {
  // The Worker: finds the proof of work off the page's thread.
  self.onmessage = (ev) => {
    const { challenge, hash, difficulty } = ev.data;
    try {
      const nonce = solvePow(challenge, hash, difficulty, (tried) => self.postMessage({ tried }));
      self.postMessage({ nonce });
    } catch (e) {
      self.postMessage({ error: String(e.message ?? e) });
    }
  };
} else {
  main();
}
