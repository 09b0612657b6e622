// Escalation: once nobody acknowledged the report in time, the status page
// hands the case to another desk. The thread is sealed here, from the
// messages as read on the device, one share per reader chosen.

import { checkReaders, checkRecipients, escalateCase, followLog } from "./client.js";
import { loadMemory } from "./memory.js";
import { describe, el, t } from "./page.js";

/**
 * Once nobody acknowledged the report in time: hand it to another desk.
 * The readers there are listed with the log's check, as for a report; the
 * thread is sealed here, one share per reader chosen. `held` is the case
 * as the page holds it, its status and its messages as read; `refresh(note)`
 * shows it again after.
 */
export function escalateForm(api, token, held, refresh) {
  const { status, read } = held;
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
      await refresh(t("escalate.done", { desk: done.desk }));
    } catch (e) {
      problem.textContent = describe(e);
      button.disabled = false;
    }
  });
  return form;
}

