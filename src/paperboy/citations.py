"""Citations of a list of papers, for reference managers: BibTeX and RIS.

    text = to_bibtex(papers, notes={"2405.15738": "read section 4"})
    text = to_ris(papers, notes)

Written by bibtexparser and rispy, the same libraries that read uploaded libraries
(paperboy/library.py), so an export reads back cleanly; tests parse both to check. Preprints
are @misc entries in the form arXiv suggests (eprint, archivePrefix, primaryClass), with the
paper's DOI, or else arXiv's own (10.48550/arXiv.ID), so Zotero matches them.
"""

from __future__ import annotations

import re

from paperboy import latex
from paperboy.papers import Paper


def _year(paper: Paper) -> int | None:
    if paper.published:
        return paper.published.year
    found = re.match(r"(\d{2})\d{2}\.", paper.id)
    return 2000 + int(found[1]) if found else None


def _doi(paper: Paper) -> str:
    return paper.doi or f"10.48550/arXiv.{paper.id}"


def _balanced(text: str) -> str:
    """BibTeX needs balanced braces: text that has not got them loses them."""
    depth = 0
    for c in text:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            break
    return text if depth == 0 else text.replace("{", "").replace("}", "")


def _key(paper: Paper, taken: set[str]) -> str:
    first = paper.authors[0].split()[-1] if paper.authors else "anon"
    words = re.findall(r"[A-Za-z]+", latex.to_text(paper.title))
    word = next((w for w in words if len(w) > 3), "paper")
    base = re.sub(r"[^a-z0-9]", "", f"{first}{_year(paper) or ''}{word}".lower()) or "paper"
    key, n = base, 1
    while key in taken:  # two papers of one author, year and word: smith2024attention, ...b
        n += 1
        key = f"{base}{chr(ord('a') + n - 1) if n <= 26 else n}"
    taken.add(key)
    return key


def to_bibtex(papers: list[Paper], notes: dict[str, str] | None = None) -> str:
    import bibtexparser
    from bibtexparser.model import Entry, Field

    notes, taken, library = notes or {}, set(), bibtexparser.Library()
    for paper in papers:
        fields = [
            ("title", _balanced(paper.title)),
            ("author", _balanced(" and ".join(paper.authors)) or "Unknown"),
            ("year", str(_year(paper) or "")),
            ("eprint", paper.id),
            ("archivePrefix", "arXiv"),
            ("primaryClass", paper.primary_category or ""),
            ("doi", _doi(paper)),
            ("url", paper.abs_url),
            ("note", _balanced(notes.get(paper.id, ""))),
        ]
        library.add(
            Entry(
                "misc", _key(paper, taken), [Field(name, value) for name, value in fields if value]
            )
        )
    return bibtexparser.write_string(library)


def to_ris(papers: list[Paper], notes: dict[str, str] | None = None) -> str:
    import rispy
    from rispy.writer import RisWriter

    class PlainRis(RisWriter):
        def set_header(self, count):  # no "1." counter lines: not every reader skips them
            return None

    notes, records = notes or {}, []
    for paper in papers:
        record = {
            "type_of_reference": "JOUR",
            "title": latex.to_text(paper.title),
            "authors": paper.authors,
            "journal_name": f"arXiv preprint arXiv:{paper.id}",
            "doi": _doi(paper),
            "urls": [paper.abs_url],
            "abstract": latex.to_text(paper.abstract),
        }
        if _year(paper):
            record["year"] = str(_year(paper))
        if notes.get(paper.id):
            record["notes"] = [notes[paper.id]]
        records.append(record)
    return rispy.dumps(records, implementation=PlainRis)
