-- The keyword index reads titles, abstracts and authors as the query side does (issue 10;
-- search/postgres/tables.py, `index_words`): a dash or dot between a word and a number no
-- longer makes PostgreSQL's parser index "-4" or "2.5" as one signed or decimal number, which
-- no query word matched ("GPT-4", "-20 degrees", "Qwen2.5"). Forgetting the keyword index's
-- watermark makes the next index update (sync, import, `paperboy index`) write every paper's
-- row again; until then searches read the old rows. Nothing else changes.
DELETE FROM state WHERE key = 'search:keyword:watermark';
