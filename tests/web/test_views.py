"""What cards show: short author lists, blurbs, BibTeX."""

from datetime import date

from paperboy.papers import Paper
from paperboy.web.views import authors_short, bibtex, blurb


def test_authors_short_names_the_first_three_and_counts_the_rest():
    assert authors_short(["A", "B"]) == "A, B"
    assert authors_short(["A", "B", "C", "D"]) == "A, B, C, D"
    assert authors_short([str(i) for i in range(10)]) == "0, 1, 2 and 7 others"


def test_blurb_cuts_at_a_word():
    text = "word " * 100
    cut = blurb(text, 50)
    assert len(cut) <= 52 and cut.endswith(" …") and "wor …" not in cut


def test_bibtex_entry():
    paper = Paper(
        id="2405.15738",
        title="ConvLLaVA: Hierarchical Backbones",
        abstract="x",
        authors=["Chunjiang Ge", "Sijie Cheng"],
        published=date(2024, 5, 24),
        primary_category="cs.CV",
    )
    entry = bibtex(paper)
    assert entry.startswith("@misc{ge2024convllava,")
    assert "author={Chunjiang Ge and Sijie Cheng}" in entry
    assert "eprint={2405.15738}" in entry and "primaryClass={cs.CV}" in entry
    old = bibtex(Paper(id="hep-th/9901001", title="Strings", abstract="x"))
    assert "year={1999}" in old
