-- Keyword search on PostgreSQL (search_backend "postgres"; search/postgres/tables.py): one row per
-- paper, kept in step with `papers` by the index updater (watermark in `state`), as the
-- tantivy index is on SQLite. `doc`: title (weight A), abstract (B) and authors (C), English
-- stemming; `names`: the authors again, unstemmed and accent-folded, for author: filters.
-- The vector tables need the pgvector extension and are created on first use instead.
CREATE TABLE paper_search (
    paper_id   TEXT PRIMARY KEY REFERENCES papers (id) ON DELETE CASCADE,
    doc        TSVECTOR NOT NULL,
    names      TSVECTOR NOT NULL,
    categories TEXT[] NOT NULL,
    day        INTEGER NOT NULL,
    has_code   BOOLEAN NOT NULL
);
-- Ten times the default statistics: ANALYZE then keeps the ~10,000 most common lexemes with
-- their frequencies, which the keyword ranking reads as document frequencies (idf).
ALTER TABLE paper_search ALTER COLUMN doc SET STATISTICS 1000;
CREATE INDEX paper_search_doc ON paper_search USING GIN (doc);
CREATE INDEX paper_search_names ON paper_search USING GIN (names);
CREATE INDEX paper_search_categories ON paper_search USING GIN (categories);
CREATE INDEX paper_search_day ON paper_search (day);
