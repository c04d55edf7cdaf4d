-- Media on the paper pages (issue #14; store/media.py): Hugging Face's one-line summaries,
-- keywords extracted offline, GitHub star counts over time, and first-page thumbnails.
-- The same tables as migrations/sqlite/0012.
CREATE TABLE paper_summaries (
    paper_id TEXT PRIMARY KEY REFERENCES papers (id),
    summary  TEXT NOT NULL,                             -- machine-written (HF's ai_summary)
    source   TEXT NOT NULL                              -- hf
);

CREATE TABLE extracted_keywords (
    paper_id TEXT PRIMARY KEY REFERENCES papers (id),
    keywords TEXT NOT NULL,                             -- JSON array, best first
    model    TEXT NOT NULL                              -- the embedding model that ranked them
);

-- One count per repository and day (the last one read that day wins): the growth of a
-- repository is the difference between two days.
CREATE TABLE star_counts (
    repo   TEXT NOT NULL,                               -- owner/name on github.com, lower case
    day    DATE NOT NULL,                               -- the day (UTC) it was read
    stars  INTEGER NOT NULL,
    source TEXT NOT NULL,                               -- hf (githubStars) or github (REST API)
    PRIMARY KEY (repo, day)
);

CREATE TABLE thumbnails (
    paper_id   TEXT PRIMARY KEY REFERENCES papers (id),
    status     TEXT NOT NULL,                           -- done or failed
    file       TEXT,                                    -- file name under data_dir/thumbnails
    bytes      INTEGER,                                 -- its size
    reason     TEXT,                                    -- why it failed
    updated_at TIMESTAMPTZ NOT NULL
);
