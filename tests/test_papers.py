"""The arXiv id parser against every form users paste, and code-link extraction."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paperboy.papers import (
    ArxivId,
    InvalidArxivId,
    extract_code_url,
    parse_arxiv_id,
    try_parse_arxiv_id,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2405.15738", ArxivId("2405.15738")),
        ("2405.15738v2", ArxivId("2405.15738", 2)),
        ("0704.0001", ArxivId("0704.0001")),
        ("  2405.15738  ", ArxivId("2405.15738")),
        ("arXiv:2405.15738", ArxivId("2405.15738")),
        ("arxiv:2405.15738v3", ArxivId("2405.15738", 3)),
        ("hep-th/9901001", ArxivId("hep-th/9901001")),
        ("hep-th/9901001v1", ArxivId("hep-th/9901001", 1)),
        ("math.GT/0309136", ArxivId("math/0309136")),
        ("math.GT/0309136v1", ArxivId("math/0309136", 1)),
        ("arXiv:cond-mat/0211034", ArxivId("cond-mat/0211034")),
        ("https://arxiv.org/abs/2405.15738", ArxivId("2405.15738")),
        ("https://arxiv.org/abs/2405.15738v2", ArxivId("2405.15738", 2)),
        ("http://arxiv.org/abs/hep-th/9901001", ArxivId("hep-th/9901001")),
        ("https://www.arxiv.org/abs/2405.15738", ArxivId("2405.15738")),
        ("https://export.arxiv.org/abs/2405.15738", ArxivId("2405.15738")),
        ("https://arxiv.org/pdf/2405.15738", ArxivId("2405.15738")),
        ("https://arxiv.org/pdf/2405.15738.pdf", ArxivId("2405.15738")),
        ("https://arxiv.org/pdf/2405.15738v1.pdf", ArxivId("2405.15738", 1)),
        ("arxiv.org/pdf/math.GT/0309136v1.pdf", ArxivId("math/0309136", 1)),
        ("https://arxiv.org/html/2405.15738v2", ArxivId("2405.15738", 2)),
        ("https://arxiv.org/abs/2405.15738?context=cs.CV", ArxivId("2405.15738")),
        ("https://arxiv.org/abs/2405.15738#section", ArxivId("2405.15738")),
        ("https://huggingface.co/papers/2405.15738", ArxivId("2405.15738")),
        ("huggingface.co/papers/2405.15738", ArxivId("2405.15738")),
        ("https://hf.co/papers/2405.15738", ArxivId("2405.15738")),
    ],
)
def test_parses_every_form(text, expected):
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "2405.1573",  # too few digits
        "2413.15738",  # month 13
        "2405.157380",
        "hep-th/990100",
        "https://example.com/abs/2405.15738",
        "https://arxiv.org/list/cs.AI/new",
        "https://huggingface.co/models/2405.15738",
        "2405.15738 and more",
        "'; DROP TABLE papers; --",
    ],
)
def test_rejects_with_a_message_naming_the_expected_forms(text):
    with pytest.raises(InvalidArxivId, match="expected an arXiv id such as 2405.15738"):
        parse_arxiv_id(text)
    assert try_parse_arxiv_id(text) is None


def test_versioned_form():
    assert parse_arxiv_id("2405.15738v2").versioned == "2405.15738v2"
    assert str(parse_arxiv_id("hep-th/9901001")) == "hep-th/9901001"


@given(st.text(max_size=200))
def test_never_raises_anything_but_invalid_arxiv_id(text):
    try:
        result = parse_arxiv_id(text)
    except InvalidArxivId:
        return
    assert isinstance(result, ArxivId)
    assert parse_arxiv_id(result.versioned) == result  # canonical forms parse to themselves


@pytest.mark.parametrize(
    "text, url",
    [
        (
            "Code is at https://github.com/alibaba/conv-llava.",
            "https://github.com/alibaba/conv-llava",
        ),
        ("see https://www.github.com/a/b.git)", "https://github.com/a/b"),
        ("https://gitlab.com/group/project and more", "https://gitlab.com/group/project"),
        ("no code here, just https://example.com/x/y", None),
        ("an org page https://github.com/openai only", None),
    ],
)
def test_extracts_code_repository(text, url):
    assert extract_code_url(text) == url
