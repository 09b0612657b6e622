// What every part of the reporter's page shares: where the server is
// published, the message catalog, and small DOM helpers. No page logic.

import { Problem } from "./problem.js";
import { TokenError } from "./crypto.js";

// The path a proxy publishes the server under ("" at the root of a host
// name), as the server wrote it into the page. The Worker has no document
// and needs none.
export const BASE = typeof document === "undefined" ? "" : (document.body?.dataset.base ?? "");
export const SCRIPT = `${BASE}/static/sotto.js`;
/** This server's public address, e.g. https://example.org/report. */
export const here = () => location.origin + BASE;

// ---- Text ----

let CATALOG = {};

/** Reads the catalog the server put in the page (a JSON data block). */
export function loadCatalog(text) {
  try {
    CATALOG = JSON.parse(text ?? "{}");
  } catch {
    CATALOG = {};
  }
}

/** Whether the catalog has a text for `key`. */
export const hasText = (key) => key in CATALOG;

export function t(key, params = {}) {
  let s = CATALOG[key] ?? key;
  for (const [k, v] of Object.entries(params)) s = s.replaceAll(`{${k}}`, String(v));
  return s;
}

export function describe(e) {
  if (e instanceof Problem) {
    const params = { ...e.params };
    if (typeof params.why === "object" && params.why?.key) params.why = t(params.why.key, params.why.params);
    return t(e.key, params);
  }
  if (e instanceof TokenError) return t(e.key);
  if (typeof e?.key === "string" && e.key in CATALOG) return t(e.key, e.params ?? {});
  return t("error.unknown", { message: e?.message ?? String(e) });
}

export function el(tag, attrs = {}, ...children) {
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

export const $ = (id) => document.getElementById(id);

export function sizeText(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(1)} KiB`;
  return `${n} B`;
}
