-- The submissions queue: papers users asked for by arXiv id that were not stored here yet.
-- A web request only adds a row (and answers at once), one worker per deployment fetches them
-- from arXiv (paperboy/submissions.py). The same table as migrations/postgres/0005_submissions.sql.
CREATE TABLE submissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: status URLs name it
    paper_id     TEXT NOT NULL,                      -- canonical arXiv id, without version
    user_id      INTEGER REFERENCES users (id) ON DELETE SET NULL,
    submitted_by TEXT NOT NULL,                      -- the user's name, for the feed entry
    status       TEXT NOT NULL,                      -- queued, fetching, done or failed
    due_at       TEXT NOT NULL,                      -- queued: not tried before this (ISO UTC)
    claim        TEXT,                               -- fetching: the worker's claim token
    attempts     INTEGER NOT NULL DEFAULT 0,         -- fetches started
    message      TEXT,                               -- why it failed, or why the last try did
    run_id       INTEGER REFERENCES import_runs (id),-- the run that stored it
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
-- One pending row per paper: a second submission of a queued paper gets the first one's status.
CREATE UNIQUE INDEX submissions_pending_paper ON submissions (paper_id)
    WHERE status IN ('queued', 'fetching');
CREATE INDEX submissions_due ON submissions (status, due_at, id);
CREATE INDEX submissions_user ON submissions (user_id, status)
