-- Accounts for the web service: users, sign-in sessions, API tokens, local upvotes, rate limits.
-- The same tables as migrations/postgres/0002_accounts.sql; store/sql.py queries both.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,                        -- as typed at sign-up, shown on pages
    name_key      TEXT NOT NULL UNIQUE,                 -- lower(name): names are unique ignoring case
    email         TEXT,                                 -- optional, for digests
    password_hash TEXT NOT NULL,                        -- argon2id, PHC string
    is_admin      INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,                        -- sha256 of the cookie value, never the value
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL                            -- ISO 8601 UTC, compared as text
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id         INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,                    -- sha256 of the token, shown once at creation
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

-- One row per local upvote: the primary key makes "one vote per user per paper" exact, and
-- shown counts are papers.upvotes (upstream) + count(votes), so no counter can drift.
CREATE TABLE votes (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id   TEXT NOT NULL REFERENCES papers (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX votes_paper ON votes (paper_id);

-- Fixed-window counters shared by every server worker (sign-in, sign-up, upvote, submit).
CREATE TABLE rate_limits (
    key  TEXT NOT NULL,                                 -- action:who
    win  INTEGER NOT NULL,                              -- unix time // window length
    hits INTEGER NOT NULL,
    PRIMARY KEY (key, win)
)
