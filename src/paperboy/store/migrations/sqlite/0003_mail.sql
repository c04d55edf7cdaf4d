-- Mail: subscribers and their saved topics, the send log that makes digests exactly-once,
-- the papers each subscriber was sent (never twice), and permanent delivery failures.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: signed links name it
    email           TEXT NOT NULL UNIQUE,      -- as validated: lower-case, IDN domain as punycode
    name            TEXT NOT NULL DEFAULT '',  -- display name for the To header (may be empty)
    status          TEXT NOT NULL,             -- pending, active, paused, unsubscribed, bouncing
    frequency       TEXT NOT NULL,             -- daily, weekly
    include_top     INTEGER NOT NULL DEFAULT 1, -- 1: the top papers section; 0: topics only
    nonce           TEXT NOT NULL,             -- new on each subscribe: older confirm links die
    covered_through TEXT,                      -- last feed day covered by a digest sent
    failures        INTEGER NOT NULL DEFAULT 0, -- permanent delivery failures in a row
    created_at      TEXT NOT NULL,
    confirm_sent_at TEXT,
    confirmed_at    TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX subscribers_status ON subscribers (status, frequency);

CREATE TABLE topics (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,            -- the order the subscriber gave
    query         TEXT NOT NULL,               -- a saved search (search query syntax)
    PRIMARY KEY (subscriber_id, position)
) WITHOUT ROWID;

-- One row per (subscriber, digest period), written before the SMTP transaction (sending)
-- and after it (sent, deferred, rejected), or once for a digest with nothing in it (empty).
CREATE TABLE send_log (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    period        TEXT NOT NULL,               -- daily:2026-08-21, weekly:2026-W34
    status        TEXT NOT NULL,               -- sending, sent, deferred, rejected, empty
    message_id    TEXT,                        -- kept across retries, so a resend has the same
    attempts      INTEGER NOT NULL DEFAULT 0,  -- runs that tried it
    papers        INTEGER NOT NULL DEFAULT 0,
    code          INTEGER,                     -- last SMTP reply code of a failure
    error         TEXT,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    PRIMARY KEY (subscriber_id, period)
) WITHOUT ROWID;
CREATE INDEX send_log_period ON send_log (period, status);

CREATE TABLE sent_papers (
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    paper_id      TEXT NOT NULL,
    period        TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, paper_id)
) WITHOUT ROWID;

CREATE TABLE bounces (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    period        TEXT,
    code          INTEGER,
    message       TEXT NOT NULL,
    at            TEXT NOT NULL
);
CREATE INDEX bounces_subscriber ON bounces (subscriber_id);
