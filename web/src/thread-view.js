// One message of the thread as the status page shows it: decrypted and
// checked on the device, or the reason it is not shown.

import { b64 } from "./crypto.js";
import { describe, el, hasText, sizeText, t } from "./page.js";

export function messageItem(m) {
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
    if (typeof c.category === "string" && hasText(`category.${c.category}`) && c.category) {
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
