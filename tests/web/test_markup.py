"""Comment Markdown to safe HTML (web/markup.py): what may run or load never survives, what a
reader wrote does; math stays text for KaTeX. The browser test (test_discussions_browser.py)
posts the same payloads through the site and watches for a dialog."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from paperboy.web.markup import comment_html, comment_text

# Each is a way script has got into pages; none may leave a tag, a handler or a script URL.
ATTACKS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="#" onclick="alert(1)">click</a>',
    "<svg onload=alert(1)><circle r=5 /></svg>",
    "<svg><script>alert(1)</script></svg>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '<iframe src="https://evil.example.com"></iframe>',
    "<style>body{display:none}</style>",
    r"$\href{javascript:alert(1)}{click}$",
    r"$$\url{javascript:alert(1)}$$",
    "$</p><script>alert(1)</script>$",
    r"\(<img src=x onerror=alert(1)>\)",
    "`<script>alert(1)</script>`",
    '[a](https://github.com/x "title" onmouseover=alert(1))',
    # Math put back inside a link's title must not close the attribute (review finding).
    '[a](https://example.com "$x" onmouseover=alert(1) style=x id=y rel=x$")',
]


class Tags(HTMLParser):
    """Every tag and attribute a browser would build from the HTML (escaped text is text)."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, attrs))


SAFE_TAGS = {
    "p",
    "br",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "hr",
    "h4",
}


@pytest.mark.parametrize("text", ATTACKS)
def test_nothing_that_runs_or_loads_survives(text):
    out = str(comment_html(text))
    for tag, attrs in Tags(out).found:
        assert tag in SAFE_TAGS, out
        for name, value in attrs:
            assert name in {"href", "rel", "title", "start"}, out  # no on*= handler, no src
            if name == "href":
                assert re.match(r"https://|http://", value or ""), out
            if name == "rel":
                assert value == "nofollow noopener ugc", out


def test_markdown_renders_what_readers_write():
    out = str(comment_html("**Bold** and *it*, `code`\n\n- one\n- two\n\n> quoted"))
    assert "<strong>Bold</strong>" in out and "<em>it</em>" in out and "<code>code</code>" in out
    assert "<li>one</li>" in out and "<blockquote>" in out


def test_links_pass_the_allow_list_and_are_marked_as_the_commenters():
    out = str(comment_html("[code](https://github.com/org/repo) and [lan](http://10.0.0.1/x)"))
    assert '<a href="https://github.com/org/repo" rel="nofollow noopener ugc">code</a>' in out
    assert "10.0.0.1" not in out and ">lan</a>" in out  # private host: the text, no link


def test_math_is_left_as_text_for_katex_with_markdown_characters_intact():
    out = str(comment_html(r"Is $a_1 * b_2 * c_3$ right? $$\sum_i x_i^2$$"))
    assert r"$a_1 * b_2 * c_3$" in out and r"$$\sum_i x_i^2$$" in out
    assert "<em>" not in out


def test_math_holding_markup_stays_escaped_text():
    out = str(comment_html("$a<b>c$"))
    assert "$a&lt;b&gt;c$" in out and "<b>" not in out


def test_headings_inside_a_comment_never_outrank_the_page():
    out = str(comment_html("# Big\n\n## Bigger"))
    assert "<h1>" not in out and "<h2>" not in out and out.count("<h4>") == 2


def test_the_private_use_slot_characters_cannot_smuggle_math_back():
    out = str(comment_html("\ue0000\ue001 <script>x</script> $y$"))
    assert "<script>" not in out and "$y$" in out


def test_plain_text_of_a_comment():
    assert comment_text("**Hi** <there> $x$") == "Hi <there> $x$"
