"""The store's people (store/people.py): upvoters and hidden votes, authors by normalized
name, organizations, authorship claims. Runs against both backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date
from importlib import resources

import pytest

from paperboy.config import Settings
from paperboy.papers import FeedEntry, Paper
from paperboy.store import open_store
from paperboy.store.authors import folded_name
from paperboy.store.people import ClaimRefused, People, normalize_name


@pytest.fixture
def people(store):
    store.upsert(
        [
            Paper(
                id="2608.00001",
                title="A",
                abstract="a",
                authors=["José M. García", "Ada Lovelace"],
                published=date(2026, 8, 1),
                entry=FeedEntry(
                    date(2026, 8, 21),
                    "hf",
                    organization="utokyo",
                    organization_name="The University of Tokyo",
                ),
            ),
            Paper(
                id="2608.00002",
                title="B",
                abstract="b",
                authors=["jose m garcia"],
                published=date(2026, 8, 2),
                entry=FeedEntry(date(2026, 8, 21), "hf"),
            ),
            Paper(id="2608.00003", title="C", abstract="c", authors=["José García-Ruiz"]),
        ]
    )
    return People(store)


def test_names_compare_without_case_accents_or_dots():
    assert normalize_name("José  M. García") == normalize_name("jose m garcia") == "jose m garcia"
    assert normalize_name("García-Ruiz") != normalize_name("García")


def test_an_author_s_papers_by_exact_normalized_name(people):
    assert people.papers_by_author("Jose M Garcia") == ["2608.00002", "2608.00001"]
    assert people.papers_by_author("José García") == []  # not a prefix or substring match
    assert people.papers_by_author("José García-Ruiz") == ["2608.00003"]
    assert people.author_spellings("jose m. garcia") == ["José M. García", "jose m garcia"]
    assert people.count_by_author("JOSE M GARCIA") == 2 and people.count_by_author("") == 0


def test_an_author_s_papers_come_a_page_at_a_time(people, store):
    store.upsert(
        [
            Paper(
                id=f"2607.{n:05d}",
                title=f"P{n}",
                abstract="p",
                authors=["Prolific Person", "Ada Lovelace" if n % 2 else "P. Person"],
                published=date(2026, 7, 1 + n % 28),
            )
            for n in range(70)
        ]
    )
    pages = [people.papers_by_author("prolific person", 30, offset) for offset in (0, 30, 60)]
    assert [len(p) for p in pages] == [30, 30, 10]
    everything = [pid for page in pages for pid in page]
    assert len(set(everything)) == 70 == people.count_by_author("Prolific Person")
    published = {p.id: p.published for p in store.get_many(everything).values()}
    assert [published[i] for i in everything] == sorted(published.values(), reverse=True)
    assert people.author_spellings("Ada Lovelace") == ["Ada Lovelace"]
    ada, root = store.create_user("ada", "h"), store.create_user("root", "h", is_admin=True)
    people.claim(ada.id, "2607.00001", "Ada Lovelace")
    assert people.confirmed_as("ada lovelace") == []  # pending: not yet
    people.confirm(ada.id, "2607.00001", root.id)
    assert people.confirmed_as("ada lovelace") == ["ada"]
    assert people.confirmed_as("Prolific Person") == []  # claimed as another author there


def test_an_organization_s_papers_by_handle_or_full_name(people):
    assert people.papers_of_org("utokyo") == ("The University of Tokyo", ["2608.00001"])
    assert people.count_of_org("UTOKYO") == 1 and people.count_of_org("nobody") == 0
    assert people.papers_of_org("utokyo", 30, 30) == (None, [])
    assert people.papers_of_org("the university of tokyo")[1] == ["2608.00001"]
    assert people.papers_of_org("nobody") == (None, [])


def test_upvoters_leave_out_those_hiding_their_votes(people, store):
    ada, bob, eve = (store.create_user(n, "h") for n in ("ada", "bob", "eve"))
    for user in (ada, bob, eve):
        store.set_vote(user.id, "2608.00001", True)
    people.set_votes_hidden(bob.id, True)
    assert people.votes_hidden(bob.id) and not people.votes_hidden(ada.id)
    assert people.upvoters("2608.00001") == (["ada", "eve"], 1)
    assert people.upvoters("2608.00001", limit=1) == (["ada"], 2)
    assert people.upvoted(bob.id) == ["2608.00001"]  # still counted and still theirs


def test_claims_wait_for_an_admin(people, store):
    ada, root = store.create_user("ada", "h"), store.create_user("root", "h", is_admin=True)
    with pytest.raises(ClaimRefused, match="not among the authors"):
        people.claim(ada.id, "2608.00001", "Someone Else")
    with pytest.raises(ClaimRefused, match="no paper"):
        people.claim(ada.id, "2699.00001", "Ada Lovelace")
    assert people.claim(ada.id, "2608.00001", "Ada Lovelace")
    assert not people.claim(ada.id, "2608.00001", "Ada Lovelace")  # once
    assert [c.status for c in people.pending_claims()] == ["pending"]
    assert people.confirm(ada.id, "2608.00001", root.id)
    assert [(c.user, c.author_name, c.status) for c in people.claims_by(ada.id)] == [
        ("ada", "Ada Lovelace", "confirmed")
    ]
    assert people.pending_claims() == []
    assert people.withdraw(ada.id, "2608.00001") and people.claims_on("2608.00001") == []


def _authors_of(store, paper_id):
    return sorted(
        r[0]
        for r in store.conn.execute(
            "SELECT name_key FROM paper_authors WHERE paper_id = ?", (paper_id,)
        ).fetchall()
    )


def test_a_paper_whose_authors_change_is_listed_under_the_new_names_only(people, store):
    v1 = Paper(id="2608.00010", title="D", abstract="d", version=1, authors=["Ada Lovelace", "Bob"])
    store.upsert([v1])
    assert people.papers_by_author("bob") == ["2608.00010"]
    store.upsert(
        [
            Paper(
                id="2608.00010",
                title="D",
                abstract="d",
                version=2,
                authors=["Ada Lovelace", "Carol Ng"],
            )
        ]
    )
    assert people.papers_by_author("Bob") == []
    assert people.papers_by_author("Carol Ng") == ["2608.00010"]
    assert "2608.00010" in people.papers_by_author("Ada Lovelace")
    assert _authors_of(store, "2608.00010") == ["ada lovelace", "carol ng"]
    store.upsert([v1])  # an older version arriving late keeps the newer list (store/merge.py)
    assert people.papers_by_author("Bob") == [] and _authors_of(store, "2608.00010") == [
        "ada lovelace",
        "carol ng",
    ]
    # One row per normalized name, even when a list writes a name twice.
    store.upsert([Paper(id="2608.00011", title="E", abstract="e", authors=["Zoë Q.", "zoe q"])])
    assert _authors_of(store, "2608.00011") == ["zoe q"]


def test_the_author_page_reads_the_index(people, store):
    """The lookup is an index search on the name, not a scan of the papers."""
    sql = "SELECT paper_id FROM paper_authors WHERE name_key = ?"
    if store.dialect == "sqlite":
        plan = " ".join(str(r[-1]) for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x",)))
        assert "SEARCH paper_authors USING PRIMARY KEY (name_key=?)" in plan, plan
    else:
        with store.transaction() as conn:  # the planner told not to scan: the index must exist
            conn.execute("SET LOCAL enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.execute(f"EXPLAIN {sql}", ("x",)).fetchall())
        assert "paper_authors_pkey" in plan, plan


def test_the_organization_page_reads_indexes(people, store):
    sql = (
        "SELECT paper_id FROM feed_entries WHERE lower(organization) = ? "
        "OR lower(organization_name) = ?"
    )
    if store.dialect == "sqlite":
        plan = " ".join(
            str(r[-1]) for r in store.conn.execute(f"EXPLAIN QUERY PLAN {sql}", ("x", "x"))
        )
    else:
        with store.transaction() as conn:
            conn.execute("SET LOCAL enable_seqscan = off")
            plan = " ".join(r[0] for r in conn.execute(f"EXPLAIN {sql}", ("x", "x")).fetchall())
    assert "feed_entries_org" in plan and "feed_entries_org_name" in plan, plan


def _store_before_0016(settings: Settings, backend: str) -> None:
    """A store as a paperboy before migration 0016 left it (schema 0001..0015, no author-name
    table), holding two papers: the SQL of those migrations, run by hand."""
    folder = resources.files("paperboy.store") / "migrations" / backend
    scripts = sorted(
        (int(f.name.split("_", 1)[0]), f.read_text())
        for f in folder.iterdir()
        if f.name.endswith(".sql") and int(f.name.split("_", 1)[0]) < 16
    )
    papers = [
        ("2608.00001", "A", json.dumps(["José M. García", "Ada Lovelace"]), "2026-08-01"),
        ("2608.00002", "B", json.dumps(["/Shubham Kumar Nigam"]), None),
    ]
    insert = (
        "INSERT INTO papers (id, title, abstract, authors, published, seq, created_at, "
        "modified_at) VALUES ({0}, {0}, '', {0}, {0}, 1, '2026-08-01', '2026-08-01')"
    )
    if backend == "sqlite":
        settings.sqlite_path.parent.mkdir(parents=True)
        with closing(sqlite3.connect(settings.sqlite_path)) as conn:
            for _, script in scripts:
                conn.executescript(script)
            conn.executemany(insert.format("?"), [(p, t, a, d) for p, t, a, d in papers])
            conn.execute(f"PRAGMA user_version={scripts[-1][0]}")
            conn.commit()
        return
    import psycopg

    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for number, script in scripts:
            for statement in script.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (number,))
        with conn.cursor() as cur:
            cur.executemany(insert.format("%s"), papers)


def test_the_migration_fills_the_names_of_papers_stored_before_it(backend_settings, backend):
    _store_before_0016(backend_settings, backend)
    store = open_store(backend_settings)  # applies 0016 and its data step (store/authors.py)
    try:
        assert store.schema_version >= 16
        people = People(store)
        assert people.papers_by_author("jose m garcia") == ["2608.00001"]
        assert people.papers_by_author("Ada Lovelace") == ["2608.00001"]
        assert people.papers_by_author("/Shubham Kumar Nigam") == ["2608.00002"]
        assert store.conn.execute("SELECT count(*) FROM paper_authors").fetchone()[0] == 3
    finally:
        store.close()


def test_the_ascii_shortcut_normalizes_as_the_general_path(fixtures):
    names = ["A..B", " x . y ", "a.\tb\x1c c", "\x0bq\x0c", "O'Neil-Smith, Jr.", "/Shubham"]
    for path in fixtures.glob("arxiv_listings_*.jsonl"):
        for line in path.read_text().splitlines():
            names += json.loads(line)["authors"]
    assert len(names) > 500
    assert [normalize_name(n) for n in names] == [folded_name(n) for n in names]
