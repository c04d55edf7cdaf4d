"""Comment Markdown to safe HTML, with LaTeX left for the page's local KaTeX.

    >>> str(comment_html("See *Table 2*: $O(n^2)$ <script>alert(1)</script>"))
    '<p>See <em>Table 2</em>: $O(n^2)$ &lt;script&gt;alert(1)&lt;/script&gt;</p>'

Three steps, each a guard on its own:
1. Math (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) is set aside before Markdown sees it, so
   `_` and `*` inside a formula stay LaTeX; it comes back as escaped text for KaTeX, which
   runs without `trust`, so `\\href` and `\\url` never become links.
2. markdown-it-py (CommonMark, raw HTML off: a typed `<script>` is text) renders the rest.
3. nh3 (Rust's ammonia) keeps only the tags and attributes listed below, and every link must
   pass paperboy/links.py (http or https to a public host) or it is dropped, its text kept.
Why these libraries: docs/security.md.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from paperboy.links import allowed_url

TAGS = {
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
    "h3",
    "h4",
}
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
LINK_REL = "nofollow noopener ugc"  # links in comments are the commenter's, not ours
# Longest delimiters first, so `$$x$$` is display math, not two empty inline formulas.
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$])\$[^$\n]+?\$", re.DOTALL)
_SLOT = "\ue000{}\ue001"  # private-use characters: nothing a person types, kept by Markdown
_SLOT_BACK = re.compile("\ue000(\\d+)\ue001")

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Headings inside a comment would outrank the page's own; they render one step down.
_markdown.disable("lheading")
# No images: a picture from anywhere would load in every reader's browser (and the page's
# Content-Security-Policy refuses it anyway); `![alt](url)` stays a plain link.
_markdown.disable("image")


def _set_math_aside(text: str) -> tuple[str, list[str]]:
    found: list[str] = []

    def slot(match: re.Match) -> str:
        found.append(match.group(0))
        return _SLOT.format(len(found) - 1)

    return _MATH.sub(slot, text.replace("\ue000", "").replace("\ue001", "")), found


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "a" and attribute == "href":
        return allowed_url(value)  # None drops the href: the text stays, not a link
    return value


def _headings_down(rendered: str) -> str:
    return re.sub(r"<(/?)h[1-6]>", lambda m: f"<{m[1]}h4>", rendered)


# Rendered comments kept per worker: a discussion is read far more often than written, and
# rendering costs about 0.6 ms a comment (a paper page or API read of 60 comments: 36 ms).
# The output depends on the text alone. At most 1,024 (10,000-character bodies at worst:
# some tens of MB; a few hundred characters each, as usual: about 1 MB).
COMMENTS_CACHED = 1024


@lru_cache(maxsize=COMMENTS_CACHED)
def comment_html(text: str) -> Markup:
    """Safe HTML for a comment's Markdown; math stays as text for KaTeX."""
    prose, math = _set_math_aside(text)
    rendered = _headings_down(_markdown.render(prose))
    clean = nh3.clean(
        rendered,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
        attribute_filter=_keep_attribute,
        strip_comments=True,
    )
    # The math returns escaped, quotes included: whatever it holds, it is text until KaTeX
    # reads it, also where Markdown put it inside an attribute (a link's title).
    restored = _SLOT_BACK.sub(lambda m: html.escape(math[int(m[1])], quote=True), clean)
    return Markup(restored.strip())


def comment_text(text: str) -> str:
    """The comment as plain text (mail, titles): the HTML's text, math left as written."""
    return html.unescape(re.sub(r"<[^>]+>", "", str(comment_html(text)))).strip()
