// The file a reporter saves: the token and the receipt, as
// src/web/nojs.rs writes it, and how the status page reads it back.

import { here, t } from "./page.js";

/** The file a reporter saves: the token and the receipt (as src/web/nojs.rs writes it). */
export function tokenFile(token, receipt) {
  return (
    `${t("token.file.heading")}\n${t("token.file.instructions", { url: `${here()}/status` })}\n\n` +
    `token: ${token}\n\n-----BEGIN SOTTO RECEIPT-----\n${JSON.stringify(receipt)}\n-----END SOTTO RECEIPT-----\n`
  );
}

/** Whole minutes until the next batch, at least 1 ("within N min"). */
export function minutes(seconds) {
  return Number.isFinite(seconds) ? Math.max(1, Math.ceil(seconds / 60)) : 5;
}

export function readTokenFile(text) {
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
