"""Highlight spans to <mark> HTML and API segments: escaping, overlaps, snippets."""

from paperboy.web.marks import snippet, to_html, to_segments


def test_spans_become_marks_and_text_is_escaped():
    text = "a < b & <script>attention</script>"
    assert (
        to_html(text, [(16, 25)])
        == "a &lt; b &amp; &lt;script&gt;<mark>attention</mark>&lt;/script&gt;"
    )


def test_segments_join_back_to_the_text():
    text = "Sparse Attention Transformers"
    segments = to_segments(text, [(7, 16)])
    assert "".join(s["text"] for s in segments) == text
    assert [s["highlighted"] for s in segments] == [False, True, False]
    assert to_segments("abc", []) == [{"text": "abc", "highlighted": False}]


def test_out_of_range_spans_are_ignored():
    assert to_html("abcdef", [(4, 99), (-3, 2)]) == "<mark>ab</mark>cd<mark>ef</mark>"


def test_snippet_centres_on_the_first_match():
    text = " ".join(f"w{i}" for i in range(300))
    start = text.index("w250")
    shown, spans = snippet(text, [(start, start + 4)], width=120)
    assert shown.startswith("… ") and shown.endswith(" …")
    s, e = spans[0]
    assert shown[s:e] == "w250"
    short, same = snippet("short text", [(0, 5)])
    assert short == "short text" and same == [(0, 5)]
