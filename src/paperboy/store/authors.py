"""The author-name table (migration 0016): one row per paper and normalized author name.

    normalize_name("José  M. García")             # 'jose m garcia'
    write_author_names(conn, [(pid, authors)])    # in the upsert's transaction (papers.py)
    conn.execute("SELECT paper_id FROM paper_authors WHERE name_key = ?", (key,))

Papers keep their authors as a JSON list (the `authors` column); this table mirrors each list
as normalized keys, indexed, so an author's page is one index lookup instead of a scan of every
paper's list. It is written in one place, the papers repository's upsert (store/papers.py),
whenever a paper is added or its authors change, in the same transaction. Normalizing folds
accents (NFKD), which neither SQLite nor PostgreSQL does in plain SQL, so the migration only
creates the table and `fill_author_names` fills it from the stored papers: a data step that
`SQLStore._migrate` runs once, in the migration's transaction, after the SQL of 0016.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Sequence

from paperboy.store.chunks import in_chunks
from paperboy.store.connection import Connection


def normalize_name(name: str) -> str:
    """One spelling of a person's name for comparing: accents off, case folded, spaces and
    dots evened out ('José  M. García' == 'jose m garcia')."""
    if name.isascii():  # most names: nothing to fold (5x faster; every upsert does them all)
        return " ".join(name.replace(".", " ").lower().split())
    return folded_name(name)


def folded_name(name: str) -> str:
    """`normalize_name` for any text, ASCII or not (the general path; tests compare them)."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[.\s]+", " ", plain).casefold().split())


def name_keys(authors: Iterable[str]) -> list[str]:
    """The distinct normalized names of an author list, in list order (empty ones dropped)."""
    keys: dict[str, None] = {}
    for author in authors:
        key = normalize_name(author)
        if key:
            keys.setdefault(key)
    return list(keys)


def write_author_names(
    conn: Connection, papers: Sequence[tuple[str, Sequence[str]]], stored: bool = True
) -> None:
    """Write the name rows of these papers (id, author list), replacing their old rows;
    `stored=False`: papers added in this transaction, which have none yet."""
    if stored:
        ids = [pid for pid, _ in papers]
        for chunk, marks in in_chunks(ids):
            conn.execute(f"DELETE FROM paper_authors WHERE paper_id IN ({marks})", chunk)
    conn.executemany(
        "INSERT INTO paper_authors (name_key, paper_id) VALUES (?, ?)",
        [(key, pid) for pid, authors in papers for key in name_keys(authors)],
    )


def fill_author_names(conn: Connection, batch: int = 5000) -> None:
    """The data step of migration 0016: name rows for every stored paper, in id order."""
    last = ""
    while True:
        rows = conn.execute(
            "SELECT id, authors FROM papers WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
        ).fetchall()
        if not rows:
            return
        papers = [(pid, json.loads(authors)) for pid, authors in rows]
        write_author_names(conn, papers, stored=False)
        last = rows[-1][0]
