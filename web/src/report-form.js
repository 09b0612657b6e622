// The report form, taken over from the server's HTML: the token is made,
// the report encrypted and the proof of work done here, on the reporter's
// device; then the token is shown once, to be kept.

import { Api, checkReaders, checkRecipients, followLog, submitReport } from "./client.js";
import { b64, solvePow } from "./crypto.js";
import { loadMemory, saveMemory } from "./memory.js";
import { $, BASE, SCRIPT, describe, el, here, t } from "./page.js";
import { minutes, tokenFile } from "./token-file.js";

// ---- The proof of work, in a Worker (app.js runs the Worker's side) ----

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

export async function reportPage(form) {
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
