-- Sotto's database schema: the one source of truth (embedded by crates/store).
--
-- The rule for every column: it holds ciphertext, a keyed hash, a public key,
-- an enum, a UTC day (YYYY-MM-DD, never a time), a counter, or a public
-- name chosen by the operator or an ombudsperson. Nothing that identifies a
-- reporter: no IP address, no user agent, no exact time, no token, no handle,
-- no plaintext. A thief with this file (and its WAL and backups) learns
-- counts, coarse dates and padded sizes.
--
-- Case history is append-only: `events`, `log_nodes` and `checkpoints`
-- refuse UPDATE and DELETE, and `messages` refuse both until their case is
-- erased under the retention policy (triggers below). Every event is a leaf
-- of the transparency log (docs/transparency.md): the triggers stop mistakes,
-- the signed checkpoints make any other change show.
--
-- Version: PRAGMA user_version = 7.

-- A desk: one group of ombudspersons that reports can be addressed to
-- (e.g. "default", "moderation team", "independent ombudsperson").
CREATE TABLE desks (
    -- Row number. Public: desks are listed to everyone.
    id          INTEGER PRIMARY KEY,
    -- The desk's public name, chosen by the operator. Safe: public by design.
    name        TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    -- One public sentence shown to reporters choosing a desk. Operator-written.
    description TEXT NOT NULL DEFAULT '' CHECK (length(description) <= 280),
    -- UTC day the desk was created. Day granularity only.
    created_on  TEXT NOT NULL CHECK (created_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
) STRICT;

-- A desk's own deadlines, set by the operator (`sotto admin set-deadlines`).
-- A desk without a row works to the server's defaults (the EU Whistleblower
-- Directive's: acknowledge within 7 days, feedback within 3 months) and
-- updates every 7 days. Configuration, public by design.
CREATE TABLE desk_deadlines (
    -- The desk.
    desk_id          INTEGER PRIMARY KEY REFERENCES desks(id),
    -- Days to acknowledge a new report.
    acknowledge_days INTEGER NOT NULL CHECK (acknowledge_days BETWEEN 1 AND 90),
    -- Days between updates owed to the reporter while a case is open.
    update_days      INTEGER NOT NULL CHECK (update_days BETWEEN 1 AND 90),
    -- Months, from the acknowledgement, to tell the reporter what was done.
    feedback_months  INTEGER NOT NULL CHECK (feedback_months BETWEEN 1 AND 12)
) STRICT;

-- An ombudsperson registered on a desk. Their private key never reaches
-- the server; only the public card does.
CREATE TABLE recipients (
    -- The desk this key reads for.
    desk_id     INTEGER NOT NULL REFERENCES desks(id),
    -- The card's fingerprint as 25 digits: a hash of public keys. Public.
    id          TEXT NOT NULL CHECK (length(id) = 25),
    -- The public recipient card: display name, age1… recipient, Ed25519 key.
    -- Chosen and published by the ombudsperson; identifies a handler, never a reporter.
    card        TEXT NOT NULL CHECK (length(card) <= 400),
    -- UTC day added. Day granularity only.
    added_on    TEXT NOT NULL CHECK (added_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- UTC day removed, NULL while active. The removal is also an event.
    removed_on  TEXT CHECK (removed_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    PRIMARY KEY (desk_id, id)
) STRICT;

-- A case: one report and its thread.
CREATE TABLE cases (
    -- 16 random bytes from the server's CSPRNG. Carries no information.
    id               BLOB PRIMARY KEY CHECK (length(id) = 16),
    -- The desk it was addressed to.
    desk_id          INTEGER NOT NULL REFERENCES desks(id),
    -- HMAC-SHA256(pepper, "sotto/v1/server/handle-hash" ‖ handle). The pepper
    -- lives in a key file beside the database, never in it, so a stolen
    -- database alone cannot be used to test a handle. (Whoever holds a
    -- token can find its case anyway, through the public keys below.)
    handle_hash      BLOB NOT NULL UNIQUE CHECK (length(handle_hash) = 32),
    -- The reporter's X25519 public key (age1…), derived from the token. A
    -- public key of a key pair made for this case alone: it links to nothing.
    reporter_x25519  TEXT NOT NULL CHECK (reporter_x25519 GLOB 'age1*' AND length(reporter_x25519) = 62),
    -- The reporter's Ed25519 public key (32 bytes), derived from the token,
    -- made for this case alone. Checks every reporter signature.
    reporter_ed25519 BLOB NOT NULL CHECK (length(reporter_ed25519) = 32),
    -- UTC day the case was opened. Day granularity only.
    opened_on        TEXT NOT NULL CHECK (opened_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
) STRICT, WITHOUT ROWID;

-- Which desk recipients a case was encrypted to. A recipient the reporter
-- excluded is absent here and cannot read, reply to or change the case.
CREATE TABLE case_recipients (
    -- The case.
    case_id      BLOB NOT NULL REFERENCES cases(id),
    -- A recipient id (fingerprint digits) of the case's desk. Public.
    recipient_id TEXT NOT NULL CHECK (length(recipient_id) = 25),
    PRIMARY KEY (case_id, recipient_id)
) STRICT, WITHOUT ROWID;

-- Recipients the reporter left out: active on the desk when the case
-- opened (or offered by the desk it was escalated to) but not chosen. They
-- can never be added to the case, whoever asks.
CREATE TABLE case_excluded (
    -- The case.
    case_id      BLOB NOT NULL REFERENCES cases(id),
    -- A recipient id (fingerprint digits). Public.
    recipient_id TEXT NOT NULL CHECK (length(recipient_id) = 25),
    PRIMARY KEY (case_id, recipient_id)
) STRICT, WITHOUT ROWID;

-- A case handed on to one more reader after it opened, by one of its
-- readers (an escalation) or by the reporter (when the desk missed its
-- acknowledgement deadline): the thread so far, re-encrypted. The reader
-- then reads and answers the case like those it was first sealed to.
CREATE TABLE case_shares (
    -- The case.
    case_id      BLOB NOT NULL REFERENCES cases(id),
    -- The new reader (fingerprint digits). Public.
    recipient_id TEXT NOT NULL CHECK (length(recipient_id) = 25),
    -- The desk the new reader reads for: the case's own or another.
    desk_id      INTEGER NOT NULL,
    -- Who shared: a reader's recipient id, or NULL for the reporter.
    shared_by    TEXT CHECK (length(shared_by) = 25),
    -- How many messages of the thread the envelope holds (seq 0 to upto-1).
    upto         INTEGER NOT NULL CHECK (upto >= 1),
    -- The age v1 file: the thread so far, sealed to the new reader and the
    -- reporter.
    envelope     BLOB NOT NULL CHECK (substr(envelope, 1, 21) = CAST('age-encryption.org/v1' AS BLOB)),
    -- Ed25519 signature by the sharer over context ‖ case ‖ reader ‖ upto ‖
    -- SHA-256(envelope).
    signature    BLOB NOT NULL CHECK (length(signature) = 64),
    -- UTC day shared. Day granularity only.
    shared_on    TEXT NOT NULL CHECK (shared_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    PRIMARY KEY (case_id, recipient_id),
    FOREIGN KEY (desk_id, recipient_id) REFERENCES recipients(desk_id, id)
) STRICT;

-- Every envelope of a case: the report (seq 0), follow-ups and replies.
-- A rowid table, unlike the small keyed tables: the key's B-tree (the
-- primary key's index) then holds only (case_id, seq, rowid), and a lookup
-- reads one envelope. Without a rowid every interior page of the tree held
-- whole rows, and each step down it read an envelope's overflow from the
-- file (schema version 7; docs/benchmarks.md). `case_shares` likewise.
CREATE TABLE messages (
    -- The case.
    case_id    BLOB NOT NULL REFERENCES cases(id),
    -- Position in the thread, 0 for the report, no gaps. Signed by the author.
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    -- Who wrote it: an enum.
    direction  TEXT NOT NULL CHECK (direction IN ('reporter', 'desk')),
    -- For desk messages, the author's recipient id (a handler, public); NULL
    -- for the reporter.
    author     TEXT CHECK ((direction = 'desk') = (author IS NOT NULL)),
    -- The age v1 file: ciphertext of a padded plaintext, so its length is a
    -- size bucket.
    envelope   BLOB NOT NULL CHECK (substr(envelope, 1, 21) = CAST('age-encryption.org/v1' AS BLOB)),
    -- Ed25519 signature over context ‖ case ‖ seq ‖ direction ‖ SHA-256(envelope).
    signature  BLOB NOT NULL CHECK (length(signature) = 64),
    -- UTC day posted. Day granularity only.
    posted_on  TEXT NOT NULL CHECK (posted_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    PRIMARY KEY (case_id, seq)
) STRICT;

-- The append-only event log: what happened, to which case, on which day.
-- The order of rows is the order of events; there are no times. Event `seq`
-- is leaf `seq - 1` of the transparency log.
CREATE TABLE events (
    -- Position in the log, from 1, no gaps.
    seq            INTEGER PRIMARY KEY,
    -- What happened: an enum.
    kind           TEXT NOT NULL CHECK (kind IN (
                       'desk-created', 'recipient-added', 'recipient-removed',
                       'case-opened', 'message-posted', 'state-changed',
                       'case-shared', 'case-erased')),
    -- UTC day. Day granularity only.
    on_day         TEXT NOT NULL CHECK (on_day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- The desk concerned.
    desk_id        INTEGER NOT NULL REFERENCES desks(id),
    -- The case concerned, if any (random id).
    case_id        BLOB REFERENCES cases(id),
    -- The recipient who acted or was added/removed (public fingerprint
    -- digits); NULL when the reporter acted.
    recipient_id   TEXT CHECK (length(recipient_id) = 25),
    -- For state changes, the new state: an enum.
    state          TEXT CHECK (state IN (
                       'received', 'acknowledged', 'in-review', 'needs-info',
                       'resolved', 'closed', 'record-only', 'bad-faith')),
    -- For messages, the message's seq in its case.
    message_seq    INTEGER,
    -- For messages, SHA-256 of the envelope; for a case opening, that of the
    -- report: a hash of ciphertext.
    envelope_hash  BLOB CHECK (length(envelope_hash) = 32),
    -- The transparency-log leaf of this event: a label, the kind, the day
    -- and labelled SHA-256 hashes (docs/transparency.md). Public by design.
    leaf           BLOB NOT NULL CHECK (substr(leaf, 1, 18) = X'736f74746f2f76312f6c6f672f6c65616600'
                                        AND length(leaf) BETWEEN 61 AND 189)
) STRICT;

-- What a case's events add up to: its latest state, its days, how many
-- messages it holds and its version (the seq of its latest event). Derived,
-- never written by the server: the triggers below keep each row in the
-- same transaction as the event or message that changes it, so reading a
-- case is one row instead of a walk over its events. The auditor
-- recomputes every row from `events` and `messages` (`sotto audit db`).
CREATE TABLE case_status (
    -- The case.
    case_id          BLOB PRIMARY KEY REFERENCES cases(id),
    -- The latest state-changed event's state: an enum.
    state            TEXT CHECK (state IN (
                         'received', 'acknowledged', 'in-review', 'needs-info',
                         'resolved', 'closed', 'record-only', 'bad-faith')),
    -- UTC day of the latest event. Day granularity only.
    updated_on       TEXT NOT NULL CHECK (updated_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- UTC days of the latest and the first reply or state change by a
    -- reader, if any. Day granularity only.
    desk_updated_on  TEXT CHECK (desk_updated_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    desk_first_on    TEXT CHECK (desk_first_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- Messages stored: 0 once the case is erased.
    message_count    INTEGER NOT NULL CHECK (message_count >= 0),
    -- UTC day of the case's erasure, and its leaf index, if it was erased.
    erased_on        TEXT CHECK (erased_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    erased_entry     INTEGER CHECK (erased_entry >= 0),
    -- The seq of the case's latest event: it changes whenever the case does.
    version          INTEGER NOT NULL CHECK (version >= 1)
) STRICT, WITHOUT ROWID;

-- The transparency log's Merkle tree: the hash of every perfect subtree
-- (2^level leaves from leaf idx * 2^level). Leaves are `events.leaf`; every
-- other tree hash and every proof is computed from these rows.
CREATE TABLE log_nodes (
    -- Height of the subtree: 0 for a leaf hash.
    level  INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    -- Which subtree of that height, from the left.
    idx    INTEGER NOT NULL CHECK (idx >= 0),
    -- SHA-256 per RFC 6962: a hash of hashes of leaves.
    hash   BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

-- Published checkpoints: signed tree heads, made in batches so that none
-- dates a single event more finely than the batch interval.
CREATE TABLE checkpoints (
    -- Number of leaves the checkpoint covers.
    size          INTEGER PRIMARY KEY CHECK (size >= 0),
    -- The C2SP signed note: origin, size, root hash and the log's Ed25519
    -- signature. Public by design.
    note          TEXT NOT NULL CHECK (length(note) BETWEEN 1 AND 4096),
    -- UTC day it was published. Day granularity only.
    published_on  TEXT NOT NULL CHECK (published_on GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]')
) STRICT;

-- Signed desk requests the server accepted, so that a captured one cannot be
-- replayed, not even after a restart (the replay guard, docs/protocol.md
-- section 7). Not case history: a row lives only while its request could
-- still be fresh. The server keeps two generations and deletes the older
-- one every two request windows (about four minutes by default), so no row
-- needs a time: the generation is all there is. WITHOUT ROWID, so the rows
-- sit in the order of their random tags, not in the order they came.
CREATE TABLE seen_requests (
    -- HMAC-SHA256(pepper, "sotto/v1/server/replay-tag" ‖ signature): a keyed
    -- hash of the request's Ed25519 signature. It names no desk, recipient,
    -- path or time, and without the pepper it cannot even be matched with a
    -- captured request.
    tag         BLOB PRIMARY KEY CHECK (length(tag) = 32),
    -- Which of the two generations the row belongs to: 0 or 1. Not a time.
    generation  INTEGER NOT NULL CHECK (generation IN (0, 1))
) STRICT, WITHOUT ROWID;

CREATE INDEX events_by_case ON events (case_id, seq) WHERE case_id IS NOT NULL;
-- A case's timeline (its state changes), read from the index alone: every
-- status shows it, and reading each event's row for it was a tenth of a
-- status's time.
CREATE INDEX events_states_by_case ON events (case_id, seq, state, on_day, recipient_id)
    WHERE kind = 'state-changed';
-- The desks' own events (created, reader added, reader removed): the roster
-- summary a first contact reads is these, however many cases there are.
CREATE INDEX events_of_desks ON events (seq) WHERE case_id IS NULL;
CREATE INDEX case_recipients_by_recipient ON case_recipients (recipient_id, case_id);
CREATE INDEX case_shares_by_recipient ON case_shares (recipient_id, case_id);

CREATE TRIGGER messages_are_append_only_update BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'messages are append-only'); END;
CREATE TRIGGER messages_are_append_only_delete BEFORE DELETE ON messages
WHEN NOT EXISTS (SELECT 1 FROM events WHERE case_id = OLD.case_id AND kind = 'case-erased')
BEGIN SELECT RAISE(ABORT, 'messages are append-only until their case is erased'); END;
CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER log_nodes_are_append_only_update BEFORE UPDATE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the log tree is append-only'); END;
CREATE TRIGGER log_nodes_are_append_only_delete BEFORE DELETE ON log_nodes
BEGIN SELECT RAISE(ABORT, 'the log tree is append-only'); END;
CREATE TRIGGER checkpoints_are_append_only_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_are_append_only_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER case_shares_are_append_only_update BEFORE UPDATE ON case_shares
BEGIN SELECT RAISE(ABORT, 'case shares are append-only'); END;
CREATE TRIGGER case_shares_are_append_only_delete BEFORE DELETE ON case_shares
WHEN NOT EXISTS (SELECT 1 FROM events WHERE case_id = OLD.case_id AND kind = 'case-erased')
BEGIN SELECT RAISE(ABORT, 'case shares are append-only until their case is erased'); END;
CREATE TRIGGER case_excluded_is_fixed_update BEFORE UPDATE ON case_excluded
BEGIN SELECT RAISE(ABORT, 'a case''s excluded recipients are fixed'); END;
CREATE TRIGGER case_excluded_is_fixed_delete BEFORE DELETE ON case_excluded
BEGIN SELECT RAISE(ABORT, 'a case''s excluded recipients are fixed'); END;
CREATE TRIGGER cases_are_fixed BEFORE UPDATE ON cases
BEGIN SELECT RAISE(ABORT, 'a case row is fixed when the case opens'); END;
CREATE TRIGGER case_recipients_are_fixed_update BEFORE UPDATE ON case_recipients
BEGIN SELECT RAISE(ABORT, 'case recipients are fixed when a case opens'); END;
CREATE TRIGGER case_recipients_are_fixed_delete BEFORE DELETE ON case_recipients
BEGIN SELECT RAISE(ABORT, 'case recipients are fixed when a case opens'); END;
CREATE TRIGGER case_status_follows_events AFTER INSERT ON events
WHEN NEW.case_id IS NOT NULL
BEGIN
    INSERT INTO case_status (case_id, state, updated_on, desk_updated_on, desk_first_on,
                             message_count, erased_on, erased_entry, version)
    SELECT NEW.case_id,
           CASE WHEN NEW.kind = 'state-changed' THEN NEW.state END,
           NEW.on_day, desk_day, desk_day, 0,
           CASE WHEN NEW.kind = 'case-erased' THEN NEW.on_day END,
           CASE WHEN NEW.kind = 'case-erased' THEN NEW.seq - 1 END,
           NEW.seq
    FROM (SELECT CASE WHEN NEW.recipient_id IS NOT NULL
                       AND NEW.kind IN ('message-posted', 'state-changed')
                      THEN NEW.on_day END AS desk_day)
    WHERE true
    ON CONFLICT (case_id) DO UPDATE SET
        state = coalesce(excluded.state, state),
        updated_on = excluded.updated_on,
        desk_updated_on = coalesce(excluded.desk_updated_on, desk_updated_on),
        desk_first_on = coalesce(desk_first_on, excluded.desk_first_on),
        erased_on = coalesce(erased_on, excluded.erased_on),
        erased_entry = coalesce(erased_entry, excluded.erased_entry),
        version = excluded.version;
END;
CREATE TRIGGER case_status_counts_messages AFTER INSERT ON messages
BEGIN
    UPDATE case_status SET message_count = message_count + 1 WHERE case_id = NEW.case_id;
END;
CREATE TRIGGER case_status_counts_erased_messages AFTER DELETE ON messages
BEGIN
    UPDATE case_status SET message_count = message_count - 1 WHERE case_id = OLD.case_id;
END;
