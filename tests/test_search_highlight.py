"""Highlighting: spans from the index's analyzer, HTML for pages, segments for the API."""

from paperboy.search.highlight import match_spans, to_html, to_segments
from paperboy.search.query import parse_query


def test_stemmed_words_match_and_adjacent_ones_merge():
    title = "Training Transformers with Sparse Attention"
    spans = match_spans(title, parse_query("transformer attention training"))
    assert [title[s:e] for s, e in spans] == ["Training Transformers", "Attention"]


def test_stop_words_and_operators_never_light_up():
    text = "The state of the art in retrieval"
    spans = match_spans(text, parse_query("the of author:smith retrieval"))
    assert [text[s:e] for s, e in spans] == ["retrieval"]


def test_html_is_escaped_around_and_inside_marks():
    text = "<script>x</script> & diffusion <b>"
    html = to_html(text, match_spans(text, parse_query("diffusion script")))
    assert html == (
        "&lt;<mark>script</mark>&gt;x&lt;/<mark>script</mark>&gt; &amp; "
        "<mark>diffusion</mark> &lt;b&gt;"
    )


def test_segments_join_back_to_the_text():
    text = "Diffusion models beat GANs on image synthesis"
    segments = to_segments(text, match_spans(text, parse_query("gan diffusion")))
    assert "".join(s["text"] for s in segments) == text
    assert [s["text"] for s in segments if s["highlighted"]] == ["Diffusion", "GANs"]


def test_bad_spans_are_ignored():
    assert to_html("abc", [(5, 9), (2, 1), (0, 1), (0, 2)]) == "<mark>a</mark><mark>b</mark>c"
    assert to_segments("", [(0, 3)]) == []
