-- Papers, the daily feed, import runs and small key/value state.
CREATE TABLE papers (
    id               TEXT PRIMARY KEY,          -- arXiv id without version
    version          INTEGER,                   -- latest version seen (NULL: source did not say)
    title            TEXT NOT NULL,
    abstract         TEXT NOT NULL,
    authors          TEXT NOT NULL DEFAULT '[]', -- JSON array of names, in order
    categories       TEXT NOT NULL DEFAULT '[]', -- JSON array, primary first
    primary_category TEXT,
    published        TEXT,                      -- first version submitted (YYYY-MM-DD)
    updated          TEXT,                      -- latest version submitted
    announced        TEXT,                      -- first announced/listed on arXiv
    comment          TEXT,
    journal_ref      TEXT,
    doi              TEXT,
    license          TEXT,
    abs_url          TEXT GENERATED ALWAYS AS ('https://arxiv.org/abs/' || id) VIRTUAL,
    pdf_url          TEXT GENERATED ALWAYS AS ('https://arxiv.org/pdf/' || id) VIRTUAL,
    code_url         TEXT,
    project_url      TEXT,
    upvotes          INTEGER NOT NULL DEFAULT 0, -- upstream (Hugging Face) upvotes
    keywords         TEXT NOT NULL DEFAULT '[]',
    seq              INTEGER NOT NULL,          -- change counter: the search index's watermark
    created_at       TEXT NOT NULL,
    modified_at      TEXT NOT NULL
);
CREATE INDEX papers_seq ON papers (seq);
CREATE INDEX papers_published ON papers (published);

CREATE TABLE feed_entries (
    paper_id          TEXT PRIMARY KEY REFERENCES papers (id),
    day               TEXT NOT NULL,            -- the day the paper entered the daily feed
    source            TEXT NOT NULL,            -- hf, arxiv, user
    submitted_by      TEXT,
    organization      TEXT,
    organization_name TEXT,
    num_comments      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX feed_entries_day ON feed_entries (day);

CREATE TABLE import_runs (
    id          INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,                  -- import, sync:hf, harvest:oai ...
    source      TEXT NOT NULL,                  -- file path or URL
    fingerprint TEXT NOT NULL,                  -- what makes a rerun "the same run"
    status      TEXT NOT NULL,                  -- running, done, failed
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    added       INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    checkpoint  TEXT,                           -- JSON: where to resume (line, token ...)
    message     TEXT
);
CREATE INDEX import_runs_fingerprint ON import_runs (fingerprint, status);

CREATE TABLE rejections (
    id       INTEGER PRIMARY KEY,
    run_id   INTEGER NOT NULL REFERENCES import_runs (id),
    location TEXT NOT NULL,                     -- file:line or URL#record
    reason   TEXT NOT NULL
);
CREATE INDEX rejections_run ON rejections (run_id);

CREATE TABLE state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
