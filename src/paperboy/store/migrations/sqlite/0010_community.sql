-- The community on the paper pages (docs/web.md): discussions, reports, authorship claims,
-- and who may see a user's upvotes. The same tables as migrations/postgres/0010_community.sql.
-- A comment's Markdown is stored as written; it becomes HTML (sanitized) only when shown.
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    paper_id   TEXT NOT NULL REFERENCES papers (id),
    parent_id  INTEGER REFERENCES comments (id),        -- a reply's top-level comment (one level)
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    body       TEXT NOT NULL,                           -- Markdown; '' once deleted
    created_at TEXT NOT NULL,
    edited_at  TEXT,                                    -- last edit by its author, shown as such
    deleted_at TEXT,                                    -- deleted by its author: replies stay
    hidden_at  TEXT,                                    -- hidden by an admin (body kept)
    hidden_by  INTEGER REFERENCES users (id) ON DELETE SET NULL
);
CREATE INDEX comments_paper ON comments (paper_id, id);
CREATE INDEX comments_user ON comments (user_id, id);

-- One report per user per comment, so a count of reports is a count of people.
CREATE TABLE comment_reports (
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (comment_id, user_id)
);

-- "I am this author of this paper": pending until an admin confirms it.
CREATE TABLE authorship_claims (
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    paper_id     TEXT NOT NULL REFERENCES papers (id),
    author_name  TEXT NOT NULL,                         -- as listed on the paper
    status       TEXT NOT NULL DEFAULT 'pending',       -- pending, confirmed
    created_at   TEXT NOT NULL,
    confirmed_at TEXT,
    confirmed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    PRIMARY KEY (user_id, paper_id)
);
CREATE INDEX authorship_claims_paper ON authorship_claims (paper_id);

-- 1: the user's name is left out of the upvoters shown on paper pages and their profile.
ALTER TABLE users ADD COLUMN votes_hidden INTEGER NOT NULL DEFAULT 0
