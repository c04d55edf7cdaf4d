-- Nothing on SQLite: its search indexes are files beside the store (search/files/).
-- The number is taken so both dialects count their schema versions alike
-- (PostgreSQL's 0004 adds the tables of search in the database).
SELECT 1;
