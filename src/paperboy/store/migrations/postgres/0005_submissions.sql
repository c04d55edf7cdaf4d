-- The submissions queue (PostgreSQL): the same table as migrations/sqlite/0005_submissions.sql.
-- Timestamps are ISO 8601 text with milliseconds, as in SQLite, so one query set serves both.
CREATE TABLE submissions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    paper_id     TEXT NOT NULL,
    user_id      BIGINT REFERENCES users (id) ON DELETE SET NULL,
    submitted_by TEXT NOT NULL,
    status       TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    claim        TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    message      TEXT,
    run_id       BIGINT REFERENCES import_runs (id),
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);
CREATE UNIQUE INDEX submissions_pending_paper ON submissions (paper_id)
    WHERE status IN ('queued', 'fetching');
CREATE INDEX submissions_due ON submissions (status, due_at, id);
CREATE INDEX submissions_user ON submissions (user_id, status)
