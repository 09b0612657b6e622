// The desk's referral directory below the thread: downloaded whole and
// filtered on the device, so the region the reporter picks never leaves it.

import { el, t } from "./page.js";

/**
 * The desk's whole referral directory, filtered here by the page's
 * language, the report's kind and the region the reporter picks. The
 * region never leaves the device.
 */
export async function showResources(api, section, desk, topic) {
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
