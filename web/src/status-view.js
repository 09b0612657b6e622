// The status page: the token is typed (or read from the saved file) and
// never sent; the case is read page by page, decrypted and checked here,
// and held in memory only while the page is open. A reply or an
// escalation then reads only what changed (thread.js).

import {
  Api,
  Problem,
  Token,
  checkReceipt,
  fetchReceipt,
  openThread,
  postFollowUp,
  receiptView,
  refreshThread,
} from "./client.js";
import { b64, fingerprint } from "./crypto.js";
import { escalateForm } from "./escalate-form.js";
import { $, BASE, describe, el, t } from "./page.js";
import { showResources } from "./resources.js";
import { messageItem } from "./thread-view.js";
import { minutes, readTokenFile, tokenFile } from "./token-file.js";

export async function statusPage(form) {
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


/**
 * Reads the case with `read()`; a case the server does not know is
 * "unknown", or what the kept receipt says about it.
 */
async function reading(read, api, token, receiptFile) {
  try {
    return await read();
  } catch (e) {
    if (e.status === 404 && receiptFile) {
      const r = await checkReceipt(api, token, receiptFile, null);
      throw r.problems[0] ?? new Problem("status.unknown_case");
    }
    if (e.status === 404) throw new Problem("status.unknown_case");
    throw e;
  }
}

/**
 * Opens the case: the whole thread, then the receipt. What the page holds
 * (`view.held`) stays in this closure's memory, never in storage.
 */
async function openCase(api, token, receiptFile) {
  const held = await reading(() => openThread(api, token), api, token, receiptFile);
  await show({ api, token, held, receiptFile });
}

/** After a reply or an escalation: what changed since, then the receipt again. */
async function refresh(view, note) {
  const { api, token, receiptFile } = view;
  view.held = await reading(() => refreshThread(api, token, view.held), api, token, receiptFile);
  await show(view, note);
}

/** Checks the receipt against the case held, and shows both. */
async function show(view, note) {
  const { api, token, held, receiptFile } = view;
  const status = receiptView(held);
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
  renderCase(view, receipt, note);
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

function renderCase(view, receipt, note) {
  const { api, token, held } = view;
  const { status, read } = held;
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
  if (receipt.upgraded && !receipt.fresh) view.receiptFile = receipt.upgraded;
  const again = (said) => refresh(view, said);

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
  if (!status.erased) parts.push(replyForm(api, token, held, again));
  if (!status.erased && status.state === "received" && due && due < today) {
    parts.push(escalateForm(api, token, held, again));
  }
  const support = el("section", { id: "resources", "aria-labelledby": "resources-title" });
  parts.push(support);
  section.replaceChildren(...parts);
  section.focus();
  const report = read.messages[0]?.content;
  showResources(api, support, status.desk, report?.category ?? "").catch(() => support.remove());
}

/** The reply box; `refresh(note)` shows the case again once it is sent. */
function replyForm(api, token, held, refresh) {
  const { status, read } = held;
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
      await refresh(t("status.reply.sent"));
    } catch (e) {
      problem.textContent = describe(e);
      button.disabled = false;
    }
  });
  return form;
}
