-- "For you" (issue 15): collections (reading lists), a user's imported library, "not
-- interested" dismissals and the private token of the personal Atom feed.
-- The same tables as migrations/postgres/0011_for_you.sql; store/collections.py and
-- store/library.py query both.
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    is_public   INTEGER NOT NULL DEFAULT 0,            -- 0: only its owner sees it anywhere
    created_at  TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    UNIQUE (user_id, name)
);

CREATE TABLE collection_papers (
    collection_id INTEGER NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    paper_id      TEXT NOT NULL REFERENCES papers (id),
    note          TEXT NOT NULL DEFAULT '',
    added_at      TEXT NOT NULL,
    PRIMARY KEY (collection_id, paper_id)
);
CREATE INDEX collection_papers_paper ON collection_papers (paper_id);

-- Papers of the user's own library (an uploaded BibTeX/RIS file or list of ids) that matched
-- stored papers; `matched_by` says how (arxiv, doi, title).
CREATE TABLE library_papers (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id   TEXT NOT NULL REFERENCES papers (id),
    matched_by TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);

CREATE TABLE dismissals (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id   TEXT NOT NULL REFERENCES papers (id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (user_id, paper_id)
);

-- The private "For you" Atom feed: the URL holds a random token, the store only its SHA-256.
CREATE TABLE for_you_feeds (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
)
