"""Highlight spans to <mark> HTML: escaping, overlaps, snippets."""

from paperboy.web.marks import hf_highlighted, mark_html, snippet


def test_spans_become_marks_and_text_is_escaped():
    text = "a < b & <script>attention</script>"
    html = str(mark_html(text, [(16, 25)]))
    assert html == "a &lt; b &amp; &lt;script&gt;<mark>attention</mark>&lt;/script&gt;"


def test_overlapping_and_out_of_range_spans_merge_and_clip():
    assert str(mark_html("abcdef", [(3, 5), (0, 2), (1, 4), (5, 99), (4, 4)])) == \
        "<mark>abcdef</mark>"
    assert hf_highlighted("abc", []) == "abc"


def test_snippet_centres_on_the_first_match():
    text = " ".join(f"w{i}" for i in range(300))
    start = text.index("w250")
    shown, spans = snippet(text, [(start, start + 4)], width=120)
    assert shown.startswith("… ") and shown.endswith(" …")
    s, e = spans[0]
    assert shown[s:e] == "w250"
    short, same = snippet("short text", [(0, 5)])
    assert short == "short text" and same == [(0, 5)]
