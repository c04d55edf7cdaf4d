"""Reading a researcher's library (paperboy/library.py) from small real-shaped exports:
Zotero and Google Scholar BibTeX, Mendeley RIS, a plain list; and broken files."""

from __future__ import annotations

import pytest

from paperboy.library import (
    LibraryEntry,
    LibraryFileError,
    match_library,
    normalise_title,
    read_library,
)
from paperboy.papers import Paper
from paperboy.store.library import Library
from tests.conftest import FIXTURES

LIB = FIXTURES / "library"


def read(name: str) -> list[LibraryEntry]:
    return read_library((LIB / name).read_bytes(), name)


def test_zotero_bibtex_gives_arxiv_ids_dois_and_titles():
    first, proceedings, classic = read("zotero.bib")
    assert first.arxiv == "2507.16784" and first.doi == "10.48550/arxiv.2507.16784"
    assert first.where == "line 2 (@misc{zhang_beyond_2025})"
    assert proceedings.arxiv is None and proceedings.title == "Step-Audio 2 Technical Report"
    assert classic.title == "Attention Is All You Need"


def test_scholar_bibtex_names_arxiv_in_the_journal():
    (entry,) = read("scholar.bib")
    assert entry.arxiv == "2509.07980"


def test_mendeley_ris_and_a_plain_list():
    mini, unseen = read("mendeley.ris")
    assert mini.arxiv == "2509.07969" and unseen.doi == "10.1000/unseen.2019.7"
    assert [(e.arxiv, e.doi) for e in read("ids.txt")] == [
        ("2507.16784", None),
        ("2509.07979", None),
        (None, "10.1000/unseen.2019.7"),
    ]


@pytest.mark.parametrize(
    "name, wheres",
    [
        ("broken.bib", ["line 6 (@article{broken_one,)", "line 10 (@article{second_broken"]),
        ("broken.ris", ["line 5"]),
    ],
)
def test_broken_files_name_each_bad_entry(name, wheres):
    with pytest.raises(LibraryFileError) as caught:
        read(name)
    got = [where for where, _ in caught.value.problems]
    assert len(got) == len(wheres) and all(g.startswith(w) for g, w in zip(got, wheres))
    assert all(why for _, why in caught.value.problems)


@pytest.mark.parametrize(
    "data, says",
    [
        (b"", "empty"),
        (b"\xff\xfe\x00junk", "not UTF-8"),
        (b"2507.16784\nnot an id at all\n", "line 2: 'not an id at all' is neither"),
        (b"ER  - \nTY  - JOUR\nTI  - x\nER  - \n", "line 1: ER without a TY"),
    ],
)
def test_unreadable_uploads_say_where_and_why(data, says):
    with pytest.raises(LibraryFileError, match=says):
        read_library(data, "upload")


def test_matching_tries_arxiv_then_doi_then_title(store):
    store.upsert(
        [
            Paper(id="2507.16784", title="Beyond Context Limits", abstract="a"),
            Paper(id="2507.16632", title="Step-{Audio} 2 technical report", abstract="a"),
            Paper(id="2601.00001", title="Unseen", abstract="a", doi="10.1000/UNSEEN.2019.7"),
        ]
    )
    result = match_library(
        Library(store), read("zotero.bib") + read("mendeley.ris") + [LibraryEntry("line 9")]
    )
    assert [(pid, how) for _, pid, how in result.matched] == [
        ("2507.16784", "arXiv id"),
        ("2507.16632", "title"),
        ("2601.00001", "DOI"),
    ]
    assert [(e.label, why) for e, why in result.unmatched] == [
        ("Attention Is All You Need", "not stored here"),
        (
            "Mini-o3: Scaling Up Reasoning Patterns and Interaction Turns for Visual Search",
            "not stored here",
        ),
        ("line 9", "no arXiv id, DOI or title to match by"),
    ]


def test_titles_normalise_across_exports():
    assert normalise_title(
        r"BERT: Pre-training of {Deep} Bidirectional \emph{Transformers}"
    ) == normalise_title("BERT - pre-training of deep bidirectional transformers")
    assert normalise_title("Ünïcode Tïtle") == "unicode title"
