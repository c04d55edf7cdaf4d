"""The bundled demo corpus carries arXiv's categories and comments, joined by
tools/make_demo_corpus.py, so `cat:` searches, category alerts and BibTeX's primaryClass show
real results on the demo."""

import pytest

from paperboy.config import Settings
from paperboy.demo import load_demo
from paperboy.search import open_search
from paperboy.sources.hf import paper_from_hf_item
from paperboy.store import open_store
from paperboy.web.views import bibtex


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    settings = Settings.load(
        data_dir=tmp_path_factory.mktemp("demo"), database_url="", search_embed_limit=0
    )
    store = open_store(settings)
    load_demo(store, settings)
    yield store, settings
    store.close()


def test_an_hf_item_reads_the_joined_categories_and_comment():
    item = {
        "paper": {"id": "2406.00001", "title": "T", "summary": "S"},
        "_categories": ["cs.LG", "cs.AI"],
        "_comment": "12 pages, code at github.com/a/b",
    }
    paper = paper_from_hf_item(item)
    assert paper.categories == ["cs.LG", "cs.AI"]
    assert paper.primary_category == "cs.LG"
    assert paper.comment == "12 pages, code at github.com/a/b"


def test_half_the_demo_papers_carry_arxiv_categories_and_comments(demo_store):
    store, _ = demo_store
    papers = list(store.iter_papers())
    with_categories = [p for p in papers if p.categories]
    assert len(with_categories) > 1500
    assert all(p.primary_category == p.categories[0] for p in with_categories)
    assert sum(1 for p in papers if p.comment) > 800


def test_category_searches_find_demo_papers_of_that_category(demo_store):
    store, settings = demo_store
    engine = open_search(store, settings)
    # The README's example query.
    result = engine.search('"reinforcement learning" -survey cat:cs.LG', limit=50)
    assert result.total > 10
    for hit in result.hits:
        assert "cs.LG" in hit.paper.categories
        assert "survey" not in f"{hit.paper.title} {hit.paper.abstract}".lower()


def test_bibtex_of_a_demo_paper_names_its_primary_class(demo_store):
    store, _ = demo_store
    paper = next(p for p in store.iter_papers() if p.primary_category)
    assert f"primaryClass={{{paper.primary_category}}}" in bibtex(paper)


def test_paperboy_demo_marks_only_a_store_it_fills(tmp_path, clean_env, fixtures):
    from click.testing import CliRunner

    from paperboy.cli import main
    from paperboy.demo_dir import is_demo

    def demo(data_dir, *first):
        runner = CliRunner()
        for args in first:
            runner.invoke(main, ["--data-dir", str(data_dir), *args])
        return runner.invoke(main, ["--data-dir", str(data_dir), "demo", "--no-serve"])

    real = tmp_path / "real"
    result = demo(real, ["import", "--quiet", str(fixtures / "hf_daily_papers_2026-08-21.json")])
    assert result.exit_code == 0 and not is_demo(real)  # its mail still goes to the relay
    fresh = tmp_path / "fresh"
    result = demo(fresh)
    assert result.exit_code == 0, result.output
    assert "demo corpus: added 2996" in result.output and is_demo(fresh)
