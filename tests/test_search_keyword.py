"""The keyword index reads short queries as people type them: compounds and proximity."""

from paperboy.papers import Paper
from paperboy.search.files.keyword import KeywordIndex, compounds
from paperboy.search.query import parse_query


def _fixture_papers() -> list[Paper]:
    from paperboy.sources.files import read_file
    from tests.search_helpers import FIXTURE

    return [line.paper for line in read_file(FIXTURE) if line.paper]


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
