-- Vectors kept in the store (issue #16; store/vectors.py): with PostgreSQL as the store and the
-- search indexes in files on every web host, the first process that encodes a paper keeps its
-- vector here and every other host's index takes it from here instead of encoding it again.
-- Plain bytes, so it needs no extension (search_backend = "postgres" keeps its own pgvector
-- table, paper_vectors). The same table as migrations/sqlite/0015.
CREATE TABLE stored_vectors (
    model    TEXT NOT NULL,      -- the weights behind the vector (encoders.vectors_identity)
    item_id  TEXT NOT NULL,      -- a paper id, or "paper id#k" for a passage of its abstract
    hash     BIGINT NOT NULL,    -- the text it was computed from (updater.text_hash)
    vector   BYTEA NOT NULL,     -- float16, little-endian
    PRIMARY KEY (model, item_id)
);
