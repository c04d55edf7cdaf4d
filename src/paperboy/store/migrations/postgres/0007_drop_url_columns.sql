-- The generated abs_url and pdf_url columns of migration 0001 were never read: every link to
-- arXiv is built from the id by Paper.abs_url / Paper.pdf_url (papers.py). Dropped on both
-- dialects, so the two schemas stay one (tests/test_store.py compares them).
ALTER TABLE papers DROP COLUMN abs_url;
ALTER TABLE papers DROP COLUMN pdf_url;
