"""The query parser: operators, phrases, exclusions, and anything a user can type."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from paperboy.search.query import (
    MAX_CLAUSES,
    MAX_PROSE_WORDS,
    clean_input,
    keyword_terms,
    parse_query,
)


def test_words_phrases_and_exclusions():
    q = parse_query('sparse "mixture of experts" -vision -"image generation"')
    assert q.words == ["sparse"]
    assert q.phrases == ["mixture of experts"]
    assert q.excluded == ["vision", "image generation"]
    assert q.text == "mixture of experts sparse"


def test_a_negative_number_or_a_dash_is_not_an_exclusion():
    q = parse_query("RNA stored at -20 degrees -- or -80")
    assert q.excluded == []
    assert "-20" in q.words and "-80" in q.words
    assert "20" in keyword_terms(q.text)
    assert parse_query("-LSTM -ξ transformers").excluded == ["LSTM", "ξ"]
    # A minus before anything but a number or another dash still excludes.
    assert parse_query('splatting -3D -4bit -"point clouds" -.5 -1e5').excluded == [
        "3D",
        "4bit",
        "point clouds",
    ]


def test_operators_become_filters():
    q = parse_query(
        'author:"Geoffrey Hinton" cat:cs.CL has:code after:2024-03 before:2025 sort:date capsules'
    )
    assert q.authors == ["Geoffrey Hinton"]
    assert q.categories == ["cs.CL"]
    assert q.has_code is True
    assert q.date_from == date(2024, 3, 1)
    assert q.date_to == date(2025, 12, 31)
    assert q.sort == "date"
    assert q.words == ["capsules"]
    assert not q.notes


def test_year_is_the_whole_year():
    q = parse_query("year:2024 diffusion")
    assert (q.date_from, q.date_to) == (date(2024, 1, 1), date(2024, 12, 31))


def test_bad_operator_values_become_notes_not_errors():
    q = parse_query("year:soon after:2024-13-45 has:friends cat:%%% sort:random author:")
    assert q.date_from is None and q.date_to is None and q.has_code is None
    assert q.categories == [] and q.authors == [] and q.sort is None
    joined = " ".join(q.notes)
    for part in (
        "year:soon",
        "after:2024-13-45",
        "has:friends",
        "cat:%%%",
        "sort:random",
        "author:",
    ):
        assert part in joined


def test_unknown_operator_is_plain_text():
    q = parse_query("title:transformers")
    assert q.words == ["title:transformers"]
    assert keyword_terms(q.text) == ["title", "transformers"]


def test_unbalanced_quote_is_ignored_with_a_note():
    q = parse_query('"attention is all')
    assert q.words == ["attention", "is", "all"]
    assert "quote" in q.notes[0]


def test_arxiv_id_and_url_are_recognised():
    assert parse_query("https://arxiv.org/abs/2405.15738v2").arxiv_ids[0].id == "2405.15738"
    q = parse_query("2405.15738 related work")
    assert [a.id for a in q.arxiv_ids] == ["2405.15738"] and q.words == ["related", "work"]


def test_control_characters_are_dropped():
    assert clean_input("a\x00b\x1b[31mc\u200bd\te") == "ab[31mcd e"


def test_long_typed_query_is_cut_with_a_note():
    q = parse_query("cat:cs.LG " + "word " * 5000)
    assert len(q.raw) >= 10_000 and any("cut" in n for n in q.notes)
    assert not q.prose and q.categories == ["cs.LG"]
    assert len(q.words) == MAX_CLAUSES - 1 and any("first" in n for n in q.notes)


def test_pasted_text_is_read_whole_as_plain_words():
    abstract = (
        'We study "causal self-attention" -- the mask in decoder-only models -- and '
        "show: masking matters (cf. Vaswani et al.) for 50% of tasks. " * 12
    )
    q = parse_query(abstract)
    assert q.prose and not q.phrases and not q.excluded and not q.notes
    assert len(q.words) == len(abstract.split()) - abstract.split().count("--")
    assert q.words[:5] == ["We", "study", "causal", "self-attention", "the"]
    assert "decoder-only" in q.words and "show" in q.words and "Vaswani" in q.words


def test_a_short_query_keeps_its_operators_and_a_long_paste_is_bounded():
    q = parse_query('"state space models" -survey')
    assert not q.prose and q.phrases == ["state space models"] and q.excluded == ["survey"]
    q = parse_query("word " * 5000)
    assert q.prose and len(q.words) == MAX_PROSE_WORDS and any("first" in n for n in q.notes)


def test_conflicting_dates_are_reported():
    q = parse_query("after:2025-01-01 before:2024-01-01")
    assert any("no date" in n for n in q.notes)


def test_operators_alone_and_empty_input():
    assert parse_query("").is_empty
    assert parse_query("   ").is_empty
    assert parse_query("-").words == ["-"]
    q = parse_query("author:hinton")
    assert q.has_filters and not q.has_text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses(text):
    q = parse_query(text)
    assert isinstance(q.text, str)
    assert all(isinstance(n, str) for n in q.notes)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                '"',
                "-",
                ":",
                "author:",
                "cat:",
                "year:",
                "after:",
                "has:",
                "sort:",
                "x",
                " ",
                "é",
                "🙂",
                "\x00",
                "2405.15738",
                "'",
                "\\",
                "DROP TABLE papers;--",
                "OR 1=1",
            ]
        ),
        max_size=40,
    )
)
def test_operator_soup_parses(parts):
    q = parse_query("".join(parts))
    assert q.raw is not None
