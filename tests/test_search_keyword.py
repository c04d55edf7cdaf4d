"""The keyword index reads short queries as people type them: compounds and proximity."""

import pytest

from paperboy.papers import Paper
from paperboy.search.files.keyword import KeywordIndex, compounds
from paperboy.search.query import parse_query


def _fixture_papers() -> list[Paper]:
    from paperboy.sources.files import read_file
    from tests.search_helpers import FIXTURE

    return [line.paper for line in read_file(FIXTURE) if line.paper]


def _fixture_index(tmp_path) -> tuple[list[Paper], KeywordIndex]:
    """The fixture's 300 real papers, and a committed keyword index of them."""
    papers = _fixture_papers()
    index = KeywordIndex(tmp_path / "keyword")
    index.add(papers)
    index.commit()
    return papers, index


def _index(tmp_path, papers: dict[str, tuple[str, str]]) -> KeywordIndex:
    index = KeywordIndex(tmp_path / "keyword")
    index.add(
        Paper(id=pid, title=title, abstract=abstract) for pid, (title, abstract) in papers.items()
    )
    index.commit()
    return index


def _ranked(index: KeywordIndex, query: str) -> list[str]:
    return [pid for pid, _ in index.search(parse_query(query), limit=20)[0]]


def test_compounds_are_the_hyphenated_words_joined():
    assert compounds("In-context learning with self-attention, not self attention") == [
        "Incontext",
        "selfattention",
    ]


def test_compounds_are_read_as_the_plain_pattern_reads_them():
    """compounds() skips the pieces without a hyphen for speed; it must find exactly what
    the plain pattern finds anywhere in the text."""
    import re

    plain = re.compile(r"\w+(?:[-\u2010\u2011]\w+)+")
    texts = [
        '(in-context) and "state-space"; x--y -a-b- ab-cd- é-ü α-β γ-δ-ε __a-_b 1-2-3',
        "foo\u2010bar\u2011baz a- b a -b\ttab-bed\nnew-line\u00a0nb-sp end-.",
        "",
        "a" * 5000 + "-b",
        "word " * 1000,
    ]
    texts += [f"{p.title} {p.abstract}" for p in _fixture_papers()]
    for text in texts:
        assert compounds(text) == ["".join(re.split(r"[^\w]+", m)) for m in plain.findall(text)]
    assert compounds(None) == []


def test_a_hyphenated_query_word_matches_as_the_compound_not_its_halves(tmp_path):
    index = _index(
        tmp_path,
        {
            "2601.00001": ("Self-Adaptive Agents for Robotics", "Agents that tune themselves."),
            "2601.00002": ("Attention Budgets in Vision Models", "Where attention goes in ViTs."),
            "2601.00003": (
                "Causal self-attention with lookahead keys",
                "We revisit the self-attention mask of decoders.",
            ),
            "2601.00004": ("Causal reasoning with graphs", "Causal discovery from data."),
        },
    )
    ranked = _ranked(index, "causal self-attention")
    assert ranked[0] == "2601.00003"
    # "Self-Adaptive" holds "self" and nothing else of the compound: it no longer matches.
    assert "2601.00001" not in ranked and "2601.00002" not in ranked
    assert "2601.00004" in ranked  # "causal" still counts as a word of its own


def test_a_compound_with_a_stop_word_prefers_papers_writing_the_compound(tmp_path):
    index = _index(
        tmp_path,
        {
            "2601.00011": ("Context windows and learning rates", "Longer context; learning rate."),
            "2601.00012": (
                "How in-context learning emerges",
                "In-context learning in transformers.",
            ),
        },
    )
    assert _ranked(index, "in-context learning")[0] == "2601.00012"


def test_query_words_that_stand_together_rank_above_scattered_ones(tmp_path):
    filler = " ".join(["results"] * 12)
    index = _index(
        tmp_path,
        {
            # The same words, as often, in texts of the same length: only their distance differs.
            "2601.00021": ("Sparse models", f"A mixture for routing. {filler} Experts decide."),
            "2601.00022": ("Sparse models", f"A mixture of experts. {filler} Routing decides."),
        },
    )
    assert _ranked(index, "mixture experts") == ["2601.00022", "2601.00021"]


def test_long_queries_read_compounds_as_words(tmp_path):
    index = _index(
        tmp_path,
        {
            "2601.00031": ("Self-supervised pretraining", "Pretraining without labels."),
            "2601.00032": ("Supervised training of vision models", "Labels for every image."),
        },
    )
    claim = "models trained with self-supervised objectives need fewer labels than supervised ones"
    ranked = _ranked(index, claim)
    assert set(ranked) == {"2601.00031", "2601.00032"}


def _proximity_papers(tmp_path) -> KeywordIndex:
    filler = " ".join(["results"] * 12)
    return _index(
        tmp_path,
        {
            # BM25 alone puts 41 first (shorter), proximity puts 42 first.
            "2601.00041": ("Sparse mixture", f"Routing. {filler} Experts."),
            "2601.00042": ("Sparse models", f"A mixture of experts. {filler} Routing decides."),
            "2601.00043": ("Dense models", f"Experts only. {filler} {filler}"),
            "2601.00044": ("Dense models", f"Nothing of the sort. {filler}"),
        },
    )


def test_proximity_re_ranking_scores_as_one_query_would(tmp_path):
    """The second pass gives BM25's best the scores of the one query "words, and optionally
    the words near each other", which scored every matching paper."""
    import tantivy

    index = _proximity_papers(tmp_path)
    q = parse_query("mixture experts")
    two_pass, total = index.search(q, limit=10)
    one = tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, index.build_query(q))]
        + [(tantivy.Occur.Should, c) for c in index._proximity(q.words)]
    )
    searcher = index.index.searcher()
    expected = [
        (searcher.doc(addr)["id"][0], score) for score, addr in searcher.search(one, 10).hits
    ]
    assert [pid for pid, _ in two_pass] == [pid for pid, _ in expected]
    assert [round(s, 4) for _, s in two_pass] == [round(s, 4) for _, s in expected]
    assert two_pass[0][0] == "2601.00042" and total == 3
    assert index.search(parse_query("quokka zebra"), limit=10) == ([], 0)


def test_below_the_re_ranked_top_bm25_order_stands(tmp_path, monkeypatch):
    from paperboy.search.files import keyword

    index = _proximity_papers(tmp_path)
    q = parse_query("mixture experts")
    bm25 = index.search(parse_query("mixture"), limit=10)  # one word: no proximity at all
    assert [pid for pid, _ in bm25[0]][:1] == ["2601.00041"]
    monkeypatch.setattr(keyword, "RERANK_DEPTH", 1)
    found, total = index.search(q, limit=10)
    # Only BM25's first is re-ranked: 42 stays below it, and scores still fall down the list.
    assert [pid for pid, _ in found] == ["2601.00041", "2601.00042", "2601.00043"]
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert total == 3
    # Paging reaches past the re-ranked top.
    assert index.search(q, limit=1, offset=2)[0][0][0] == "2601.00043"


def test_plain_words_score_as_the_query_parser_reads_them(tmp_path, monkeypatch):
    """Plain words become bare term queries (so tantivy can prune); they must score exactly
    as the query parser's reading of the same words over the same fields."""
    from paperboy.search.files import keyword

    monkeypatch.setattr(keyword, "PROXIMITY_BOOST", 0.0)
    papers, index = _fixture_index(tmp_path)
    searcher = index.index.searcher()
    surname = papers[0].authors[0].split()[-1]  # a word in the authors field
    for text in ["sparse attention", "diffusion models video", "the transformer", surname]:
        q = parse_query(text)
        assert index._term_clauses(q.words[0]) is not None
        parsed = index._parse(" ".join(f'"{w}"' for w in q.words), conjunction=False)
        expected = [
            (searcher.doc(addr)["id"][0], round(score, 4))
            for score, addr in searcher.search(parsed, 50).hits
        ]
        found = [(pid, round(score, 4)) for pid, score in index.search(q, limit=50)[0]]
        assert found == expected and found, text
    assert index._term_clauses("self-attention") is None


def test_a_plain_query_matching_many_papers_has_its_total_estimated(tmp_path, monkeypatch):
    """Counting visits every match; over EXACT_COUNT_UP_TO (lowered here) the total of a
    query of plain words and compounds is estimated from its words' document frequencies.
    The hits are the same, and phrases and filters are still counted exactly."""
    from paperboy.search.files import keyword

    papers, index = _fixture_index(tmp_path)
    queries = ["language model", "video diffusion", '"language model"', "self-attention model"]
    exact = {text: index.search(parse_query(text), limit=20) for text in queries}
    assert exact["language model"][1] > 10  # enough matches to estimate
    monkeypatch.setattr(keyword, "EXACT_COUNT_UP_TO", 3)
    for text in queries:
        found, total = index.search(parse_query(text), limit=20)
        # The same papers in the same order; a compound's scores are summed clause by clause
        # there (`_bounded`), in another order than tantivy's: equal to float32 precision.
        assert [p for p, _ in found] == [p for p, _ in exact[text][0]], text
        assert [s for _, s in found] == pytest.approx([s for _, s in exact[text][0]], rel=1e-5)
        true_total = exact[text][1]
        if text.startswith('"'):
            assert total == true_total, text  # a phrase: counted
        else:
            assert total == int(float(f"{total:.2g}")), text  # two figures: an estimate
            assert 0.5 * true_total <= total <= 2 * true_total, (text, total, true_total)
    # Estimated, not counted (252 papers hold either word; independence says 270).
    assert index.search(parse_query("language model"), limit=20)[1] != exact["language model"][1]
    by_author = parse_query(f"language model author:{papers[0].authors[0].split()[-1]}")
    monkeypatch.setattr(keyword, "EXACT_COUNT_UP_TO", 10**9)
    counted = index.search(by_author, limit=20)
    monkeypatch.setattr(keyword, "EXACT_COUNT_UP_TO", 3)
    assert index.search(by_author, limit=20) == counted  # an author scores: counted


def test_broad_filters_checked_on_the_words_best_give_the_filtered_top(tmp_path, monkeypatch):
    """A large query whose constraints only filter ranks its words alone and checks the
    filters on their best (`_filtered`): the same papers, order and scores as ranking every
    match with the filters, and a total estimated near the true one."""
    from paperboy.search.files import keyword

    monkeypatch.setattr(keyword, "EXACT_COUNT_UP_TO", 3)
    papers, index = _fixture_index(tmp_path)
    searcher = index.index.searcher()
    category = papers[0].categories[0]
    queries = [
        f"cat:{category} language model",
        "has:code diffusion models",
        "after:2025-06-01 language models",
        "-survey large language models",
        "year:2025 reinforcement learning -benchmark",
        f"cat:{category} fine-tuning",
    ]
    monkeypatch.setattr(keyword, "BOUND_WIDTH", 0)  # off: every match ranked and counted
    full = {
        (text, d): index.search(parse_query(text), limit=d) for text in queries for d in (5, 30)
    }
    monkeypatch.setattr(keyword, "BOUND_WIDTH", 3)
    answered = 0
    for text in queries:
        q = parse_query(text)
        for depth in (5, 30):
            expected, true_total = full[text, depth]
            found, total = index.search(q, limit=depth)
            assert [pid for pid, _ in found] == [pid for pid, _ in expected], (text, depth)
            assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-5)
            assert 0.3 * true_total <= total <= 3 * true_total, (text, total, true_total)
            query = index.build_query(q)
            answered += index._filtered(searcher, q, query, max(depth, 100)) is not None
    assert answered >= 6  # it answered, not only declined
    # A filter keeping few papers would leave too few of the words' best: not tried. An
    # author scores by BM25, a phrase too: those are never checked this way.
    assert index._kept_share(searcher, parse_query("year:1995 models")) == 0.0
    assert 0.2 < index._kept_share(searcher, parse_query("year:2025 models")) <= 1.0
    for text in [
        "year:1995 language models",
        f"author:{papers[0].authors[0].split()[-1]} model",
        '"language model" cat:cs.CL',
    ]:
        q = parse_query(text)
        assert index._filtered(searcher, q, index.build_query(q), 100) is None


def test_compounds_read_loosely_first_give_the_phrase_readings_own_top(tmp_path, monkeypatch):
    """A large query with compounds ranks first with each compound's halves anywhere (which
    scores every paper at least as high as the phrase), then scores the best of those as the
    served query does, clause by clause (`_bounded`): where it answers, the same papers, order
    and scores as ranking every match with the phrases."""
    from paperboy.search.files import keyword

    monkeypatch.setattr(keyword, "EXACT_COUNT_UP_TO", 3)  # large: estimated, so bounded
    _, index = _fixture_index(tmp_path)
    searcher = index.index.searcher()
    queries = [
        "self-attention",
        "fine-tuning language models",
        "large-scale pre-training",
        "multi-agent reinforcement learning",
        "zero-shot text-to-image generation",
        "state-of-the-art",
        "in-context learning",
    ]
    depths = (1, 5, 20, 100)
    monkeypatch.setattr(keyword, "BOUND_WIDTH", 0)  # off: every match ranked with phrases
    full = {(text, d): index.search(parse_query(text), limit=d) for text in queries for d in depths}
    monkeypatch.setattr(keyword, "BOUND_WIDTH", 2)
    answered = 0
    for text in queries:
        q = parse_query(text)
        assert index._estimated_matches(searcher, q) is not None, text
        for depth in depths:
            expected, total = full[text, depth]
            found = index.search(q, limit=depth)
            assert [pid for pid, _ in found[0]] == [pid for pid, _ in expected], (text, depth)
            assert [s for _, s in found[0]] == pytest.approx([s for _, s in expected], rel=1e-5)
            assert found[1] == total
            bounded = index._bounded(searcher, q, max(depth, keyword.RERANK_DEPTH))
            answered += bounded is not None
    assert answered >= 5  # it answered, not only declined
    # Halves anywhere score at least the phrase, paper by paper.
    for text in ["self attention", "language models", "text to image"]:
        phrase = index._parse(f'"{text}"', conjunction=False)
        halves = index._halves(text)
        tight = {(a.segment_ord, a.doc): s for s, a in searcher.search(phrase, 300).hits}
        loose = {(a.segment_ord, a.doc): s for s, a in searcher.search(halves, 300).hits}
        assert tight and all(addr in loose and loose[addr] >= s - 1e-6 for addr, s in tight.items())
