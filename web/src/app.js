// The reporter's page. The server renders every page as plain HTML forms
// that work without JavaScript; this script takes them over, so that the
// token is made, the report encrypted and the proof of work done here, on
// the reporter's device. The same file runs as the proof-of-work Worker.
//
// page.js: what every part shares (text, DOM helpers); memory.js: what the
// browser remembers of the public log; report-form.js: the report and the
// token; status-view.js: the case, with thread-view.js, resources.js and
// escalate-form.js; the protocol itself is in client.js and below.

import { solvePow } from "./crypto.js";
import { forgetMemory } from "./memory.js";
import { $, el, loadCatalog, t } from "./page.js";
import { reportPage } from "./report-form.js";
import { statusPage } from "./status-view.js";

function main() {
  loadCatalog($("sotto-i18n")?.textContent);
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
    forgetMemory();
    $("forgotten").textContent = t("report.safety.forgotten");
  });
  if ($("report-form")) reportPage($("report-form"));
  if ($("status-form")) statusPage($("status-form"));
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
