-- Authors by normalized name (store/authors.py), so an author's page reads an index instead
-- of every paper's author list. The same table as migrations/sqlite/0016_author_names.sql.
-- One row per paper and distinct normalized name ('José M. García' -> 'jose m garcia'),
-- rewritten by every upsert that adds a paper or changes its authors. Normalizing folds
-- accents, which SQL does not do here: the rows of papers stored before this migration are
-- written by its data step, store/authors.py fill_author_names, in the same transaction.
CREATE TABLE paper_authors (
    name_key TEXT NOT NULL,
    paper_id TEXT NOT NULL REFERENCES papers (id),
    PRIMARY KEY (name_key, paper_id)          -- an author's papers: one range of the key
);
-- A paper's rows, rewritten when its authors change.
CREATE INDEX paper_authors_paper ON paper_authors (paper_id);

-- Organization pages (/orgs/{name}) look a name up in either column, ignoring case.
CREATE INDEX feed_entries_org ON feed_entries (lower(organization));
CREATE INDEX feed_entries_org_name ON feed_entries (lower(organization_name))
