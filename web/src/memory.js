// What this browser remembers: the log it checked, and the readers each
// desk had. Public information only; never a case, a token or a text.

import { here } from "./page.js";

const MEMORY = "sotto.known.v1";

export function loadMemory() {
  try {
    const all = JSON.parse(localStorage.getItem(MEMORY) ?? "{}");
    return all[here()] ?? null;
  } catch {
    return null;
  }
}

export function saveMemory(state) {
  try {
    const all = JSON.parse(localStorage.getItem(MEMORY) ?? "{}");
    all[here()] = state;
    localStorage.setItem(MEMORY, JSON.stringify(all));
  } catch {
    // Storage may be off (private windows): the check then starts from
    // the whole log each time, which is only slower.
  }
}

/** The report page's *Forget* button. */
export function forgetMemory() {
  try {
    localStorage.removeItem(MEMORY);
  } catch {
    // Nothing to forget.
  }
}
