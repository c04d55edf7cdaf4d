-- Wrong passwords at sign-in, one row each, kept while they count (web/limits.py, 15 minutes):
-- the per-name backoff reads how many a name had lately, when the last was, and whether this
-- client address was among the guessers. The same table as migrations/postgres/0006.
CREATE TABLE signin_failures (
    name_key TEXT NOT NULL,                             -- lower(name) as typed, known or not
    address  TEXT NOT NULL,                             -- the client address that guessed
    at       REAL NOT NULL                              -- unix time of the wrong guess
);
CREATE INDEX signin_failures_name ON signin_failures (name_key, at);
CREATE INDEX signin_failures_at ON signin_failures (at);
