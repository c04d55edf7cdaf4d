-- Papers, the daily feed, import runs and small key/value state (PostgreSQL).
-- Same tables and columns as the SQLite schema; JSON lists stay text so one query set serves both.
CREATE TABLE papers (
    id               TEXT PRIMARY KEY,
    version          INTEGER,
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL DEFAULT '[]',
    categories       TEXT NOT NULL DEFAULT '[]',
    primary_category TEXT,
    published        DATE,
    updated          DATE,
    announced        DATE,
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    license          TEXT,
    abs_url          TEXT GENERATED ALWAYS AS ('https://arxiv.org/abs/' || id) STORED,
    pdf_url          TEXT GENERATED ALWAYS AS ('https://arxiv.org/pdf/' || id) STORED,
    code_url         TEXT,
    project_url      TEXT,
    upvotes          INTEGER NOT NULL DEFAULT 0,
    keywords         TEXT NOT NULL DEFAULT '[]',
    seq              BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    modified_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX papers_seq ON papers (seq);
CREATE INDEX papers_published ON papers (published);

CREATE TABLE feed_entries (
    paper_id          TEXT PRIMARY KEY REFERENCES papers (id),
    day               DATE NOT NULL,
    source            TEXT NOT NULL,
    submitted_by      TEXT,
    organization      TEXT,
    organization_name TEXT,
    num_comments      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feed_entries_day ON feed_entries (day);

CREATE TABLE import_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT NOT NULL,
    source      TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status      TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    checkpoint  TEXT,
    message     TEXT
);
CREATE INDEX import_runs_fingerprint ON import_runs (fingerprint, status);

CREATE TABLE rejections (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   BIGINT NOT NULL REFERENCES import_runs (id),
    location TEXT NOT NULL,
    reason   TEXT NOT NULL
);
CREATE INDEX rejections_run ON rejections (run_id);

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
