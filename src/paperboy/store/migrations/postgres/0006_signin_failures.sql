-- Wrong passwords at sign-in (PostgreSQL; the same table as migrations/sqlite/0006): one row
-- each, kept while they count for the per-name backoff of web/limits.py.
CREATE TABLE signin_failures (
    name_key TEXT NOT NULL,                             -- lower(name) as typed, known or not
    address  TEXT NOT NULL,                             -- the client address that guessed
    at       DOUBLE PRECISION NOT NULL                  -- unix time of the wrong guess
);
CREATE INDEX signin_failures_name ON signin_failures (name_key, at);
CREATE INDEX signin_failures_at ON signin_failures (at);
