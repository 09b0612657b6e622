// A reporter's case served over real HTTP the way `sotto serve` answers
// GET /v1/reporter/case since threads come in pages: `?after=SEQ`, at most
// `pageBytes` of envelopes a page (an envelope larger goes alone),
// `message_count`, an ETag over the case's version and 304 for a client
// that sends it back. Every envelope is sealed and signed for real, with
// the page's own crypto code, so the tests read it as the page would.

import { createServer } from "node:http";
import { ed25519 } from "@noble/curves/ed25519.js";
import { generateX25519Identity, identityToRecipient } from "age-encryption";

import {
  CONTENT_VERSION,
  FROM_DESK,
  Token,
  b64,
  b64url,
  envelopeMessage,
  fingerprint,
  parseCard,
  seal,
  sha256,
  toPadded,
} from "../src/crypto.js";

export const CASE = "00112233445566778899aabbccddeeff";

/** A desk reader: an age identity, an Ed25519 key and their card. */
export async function reader(name) {
  const identity = await generateX25519Identity();
  const secret = ed25519.utils.randomSecretKey();
  const line = `sotto-card-v1 ${await identityToRecipient(identity)} ed25519:${b64url.encode(ed25519.getPublicKey(secret))} ${name}`;
  const card = parseCard(line);
  const fp = fingerprint(card);
  return { name, identity, secret, line, card, id: fp.id, info: { id: fp.id, name, fingerprint: fp.text, card: line } };
}

export class CaseServer {
  constructor(token, readers, { pageBytes = 4 << 20 } = {}) {
    this.token = token;
    this.readers = readers;
    this.pageBytes = pageBytes;
    this.messages = [];
    this.shares = [];
    this.state = "received";
    this.erased = null;
    this.version = 1;
    /** Every GET of the case: its query, its If-None-Match, the answer's code and envelope bytes. */
    this.asked = [];
    /** Applied to each page before it is sent: a server that cheats. */
    this.tamper = (page) => page;
  }

  changed() {
    this.version += 1;
  }

  /** Message 0: the reporter's report, sealed to the readers and the token. */
  async report(text) {
    const content = {
      kind: "report",
      v: CONTENT_VERSION,
      desk: "default",
      text,
      urgent: false,
      record_only: false,
      links: [],
      attachments: [],
      recipients: this.readers.map((r) => r.line),
      reporter_x25519: await this.token.recipient(),
      reporter_ed25519: this.token.verifyingKey(),
    };
    const envelope = await seal([...this.readers.map((r) => r.card.recipient), await this.token.recipient()], toPadded(content));
    this.push({ direction: "reporter", author: null, envelope, signature: this.token.signEnvelope(CASE, 0, envelope) });
  }

  /** A reply from `from`, sealed to the readers of the report and the token. */
  async reply(from, text, { to = this.readers } = {}) {
    const seq = this.messages.length;
    const padded = toPadded({ kind: "message", v: CONTENT_VERSION, text, attachments: [] });
    const envelope = await seal([...to.map((r) => r.card.recipient), await this.token.recipient()], padded);
    const signature = b64url.encode(ed25519.sign(envelopeMessage(CASE, seq, FROM_DESK, envelope), from.secret));
    this.push({ direction: "desk", author: from.id, envelope, signature });
  }

  push({ direction, author, envelope, signature }) {
    this.messages.push({ seq: this.messages.length, direction, author, on: "2026-12-01", envelope: b64.encode(envelope), signature, size: envelope.length });
    this.changed();
  }

  /** A share the reporter signed, as the reporter is sent it: the envelope's digest only. */
  share(to, envelope, { digestOf = envelope } = {}) {
    const upto = this.messages.length;
    this.shares.push({
      reader: to.info,
      desk: "independent",
      shared_by: null,
      upto,
      on: "2026-12-02",
      envelope_sha256: b64url.encode(sha256(digestOf)),
      signature: this.token.signShare(CASE, to.id, upto, envelope),
    });
    this.changed();
  }

  erase() {
    this.messages = [];
    this.erased = { on: "2026-12-03" };
    this.changed();
  }

  page(after) {
    const out = [];
    let used = 0;
    for (const m of this.messages) {
      if (after !== null && m.seq <= after) continue;
      if (out.length > 0 && used + m.size > this.pageBytes) break;
      used += m.size;
      out.push(m);
    }
    return this.tamper(out.map(({ size, ...m }) => m), after);
  }

  answer(req, res) {
    const url = new URL(req.url, "http://localhost");
    const json = (code, body, headers = {}) => {
      res.writeHead(code, { "content-type": "application/json", ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers["sotto-handle"] !== this.token.handle()) return json(404, { error: "not_found", message: "no case" });
    if (url.pathname === "/v1/reporter/case/messages" && req.method === "POST") {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        const m = JSON.parse(body);
        if (m.seq !== this.messages.length) return json(409, { error: "stale_seq", message: "stale seq" });
        this.push({ direction: "reporter", author: null, envelope: b64.decode(m.envelope), signature: m.signature });
        json(200, { case: CASE, seq: m.seq });
      });
      return;
    }
    if (url.pathname !== "/v1/reporter/case") return json(404, { error: "not_found", message: "no route" });
    const after = url.searchParams.get("after");
    const etag = `"case-v${this.version}"`;
    const asked = { after, ifNoneMatch: req.headers["if-none-match"] ?? null, code: 200, envelopeBytes: 0 };
    this.asked.push(asked);
    if (asked.ifNoneMatch === etag) {
      asked.code = 304;
      res.writeHead(304, { etag });
      res.end();
      return;
    }
    const messages = this.page(after === null ? null : Number(after));
    asked.envelopeBytes = messages.reduce((n, m) => n + b64.decode(m.envelope).length, 0);
    json(
      200,
      {
        case: CASE,
        desk: "default",
        state: this.state,
        opened: "2026-12-01",
        updated: "2026-12-01",
        next_update_due: "2026-12-08",
        feedback_due: null,
        timeline: [{ on: "2026-12-01", state: this.state }],
        shares: this.shares,
        message_count: this.messages.length,
        messages,
        erased: this.erased,
      },
      { etag },
    );
  }

  /** Listens on a free loopback port; returns the base URL. */
  async listen() {
    this.server = createServer((req, res) => this.answer(req, res));
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${this.server.address().port}`;
  }

  close() {
    this.server?.close();
  }
}

export { Token };
