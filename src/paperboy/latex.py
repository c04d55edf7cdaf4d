"""Text-mode LaTeX in titles and abstracts, shown the way a reader expects.

arXiv titles and abstracts are written in LaTeX: `\\textbf{fast}`, `50\\%`, `1--2`, `\\$400K`,
a paper's own macro `\\ours`. Shown raw they read as noise. This module turns the text-mode
parts into plain characters (`to_text`, for <title>, Atom and the terminal) or into escaped
HTML with bold and italics (`to_html`), and leaves math (`$...$`, `$$...$$`, `\\(...\\)`,
`\\[...\\]`) exactly as written for KaTeX on the paper page.

    >>> to_text(r"\\textbf{50\\%} cheaper, 1--2 days, \\$400K with \\ours{}")
    '50% cheaper, 1–2 days, $400K with ours'
    >>> to_html(r"\\emph{Fast} $O(n^2)$ <attention>")
    '<em>Fast</em> $O(n^2)$ &lt;attention&gt;'

What it reads: font commands (`\\textbf{}`, `\\emph{}`, `{\\bf ...}`), escaped characters
(`\\% \\$ \\& \\# \\_ \\{ \\}`), dashes, quotes, `~`, accents (`\\'e`, `\\"{o}`), common symbols
(`\\ldots`, `\\LaTeX`), `\\url{}` and `\\href{}{}`; any other macro shows as its name without
the backslash. A bare `%` stays a percent sign: upstream summaries (Hugging Face) use it so,
and reading it as a LaTeX comment would drop the rest of the line.

`to_html(..., spans)` wraps search matches (character offsets into the raw text, as the
search engine gives them) in <mark>; `links=True` makes URLs links, only through the
outside-link allow-list (`paperboy.links.allowed_url`). Everything else is escaped.

Why not a library: pylatexenc (the maintained LaTeX-to-text converter) reads a bare `%` as a
comment, drops unknown macros with their names and renders math to text; measured on the
examples above it lost words. The subset here is small, and offsets into the raw text, which
the search highlights need, come for free from a hand-written scanner.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

from paperboy.links import allowed_url


@dataclass(frozen=True)
class Piece:
    """A stretch of the raw text (start..end) and what a reader sees of it.

    kind: "text" (shown as written), "sub" (shown as `shown`), "math" (kept for KaTeX),
    "dollar" (a literal $), "url" (`target` is the link), "open"/"close" (`shown` is a tag).
    """

    start: int
    end: int
    shown: str
    kind: str
    target: str = ""


# Font commands with one argument, and the HTML they become ("" = just the text).
_STYLES = {
    "textbf": "b",
    "textit": "i",
    "textsl": "i",
    "emph": "em",
    "texttt": "code",
    "underline": "u",
    "textsuperscript": "sup",
    "textsubscript": "sub",
    "textsc": "sc",
    "textrm": "",
    "textsf": "",
    "textup": "",
    "textnormal": "",
    "textmd": "",
    "text": "",
    "mbox": "",
    "hbox": "",
    "mathrm": "",
    "operatorname": "",
}
# Old-style switches that style the rest of their group: {\bf fast}.
_SWITCHES = {
    "bf": "b",
    "bfseries": "b",
    "it": "i",
    "itshape": "i",
    "sl": "i",
    "em": "em",
    "tt": "code",
    "ttfamily": "code",
    "sc": "sc",
    "scshape": "sc",
    "rm": "",
    "sf": "",
}
_TAGS = {
    "b": ("<b>", "</b>"),
    "i": ("<i>", "</i>"),
    "em": ("<em>", "</em>"),
    "code": ("<code>", "</code>"),
    "u": ("<u>", "</u>"),
    "sup": ("<sup>", "</sup>"),
    "sub": ("<sub>", "</sub>"),
    "sc": ('<span class="tex-sc">', "</span>"),
}
_SYMBOLS = {
    "ldots": "…",
    "dots": "…",
    "textellipsis": "…",
    "LaTeX": "LaTeX",
    "TeX": "TeX",
    "LaTeXe": "LaTeX2ε",
    "textendash": "–",
    "textemdash": "—",
    "textasciitilde": "~",
    "textbackslash": "\\",
    "textbar": "|",
    "textless": "<",
    "textgreater": ">",
    "textquoteleft": "‘",
    "textquoteright": "’",
    "textquotedblleft": "“",
    "textquotedblright": "”",
    "ss": "ß",
    "ae": "æ",
    "AE": "Æ",
    "oe": "œ",
    "OE": "Œ",
    "o": "ø",
    "O": "Ø",
    "aa": "å",
    "AA": "Å",
    "l": "ł",
    "L": "Ł",
    "i": "ı",
    "j": "ȷ",
    "S": "§",
    "P": "¶",
    "copyright": "©",
    "textregistered": "®",
    "texttrademark": "™",
    "pounds": "£",
    "euro": "€",
    "texteuro": "€",
    "textdegree": "°",
    "degree": "°",
    "times": "×",
    "pm": "±",
    "sim": "~",
    "approx": "≈",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "infty": "∞",
    "textbullet": "•",
    "dag": "†",
    "ddag": "‡",
    "textperthousand": "‰",
    "newline": " ",
    "quad": " ",
    "qquad": " ",
    "noindent": "",
    "xspace": "",
    "relax": "",
    "par": " ",
    "item": "•",
}
_ESCAPES = {
    "%": "%",
    "&": "&",
    "#": "#",
    "_": "_",
    "{": "{",
    "}": "}",
    " ": " ",
    ",": "\u2009",
    ";": " ",
    ":": " ",
    "!": "",
    "-": "",
    "/": "",
    "@": "",
    "\\": " ",
    "\n": " ",
}
# Accents: \'e, \"{o}, \v{c} -> é, ö, č (a base letter and a combining mark, composed).
_ACCENTS = {
    "'": "\u0301",
    "`": "\u0300",
    "^": "\u0302",
    '"': "\u0308",
    "~": "\u0303",
    "=": "\u0304",
    ".": "\u0307",
    "c": "\u0327",
    "v": "\u030c",
    "u": "\u0306",
    "H": "\u030b",
    "k": "\u0328",
    "r": "\u030a",
    "d": "\u0323",
    "b": "\u0331",
}
_PUNCT = {"---": "—", "--": "–", "``": "“", "''": "”", "~": "\u00a0"}
_MACRO = re.compile(r"\\([A-Za-z]+)")
# A URL runs to whitespace or a character that cannot be in one; LaTeX-escaped \_ \% \# \&
# \~ inside it are the characters themselves (arXiv abstracts write github.com/a\_b).
_URL = re.compile(r"https?://(?:[^\s<>\"'{}\\|^`\[\]]|\\[_%#&~])+", re.IGNORECASE)
_URL_TAIL = ".,;:!?'\")]"
# A stretch of characters none of which can start anything above: read in one step (a page of
# cards reads ~50 abstracts; one step per character was most of the daily page's time).
_PLAIN = re.compile(r"[^$\\{}hH\-`'~]+")


def pieces(text: str) -> tuple[Piece, ...]:
    """The raw text cut into what a reader sees, in order, with offsets into `text`."""
    return _pieces(text)


@functools.lru_cache(maxsize=4096)
def _pieces(text: str) -> tuple[Piece, ...]:
    # Cached: the same titles and abstracts are shown on every page view (Pieces are frozen).
    return tuple(_Scanner(text).run())


def to_text(text: str) -> str:
    """Plain text for places without markup: <title>, Atom, the terminal."""
    return "".join(p.shown for p in pieces(text or "") if p.kind not in ("open", "close"))


def to_html(text: str, spans=(), links: bool = False) -> str:
    """Escaped HTML: styles as tags, math as written (for KaTeX), `spans` (offsets into the
    raw text) in <mark>, and with `links` the URLs that pass the allow-list as links."""
    spans = sorted((s, e) for s, e in spans if e > s)
    out = []
    for p in pieces(text or ""):
        if p.kind == "open":
            out.append(_TAGS[p.shown][0])
        elif p.kind == "close":
            out.append(_TAGS[p.shown][1])
        elif p.kind == "text":
            out.append(_marked_text(p, spans))
        else:
            out.append(_marked(_whole(p, links), _overlaps(p, spans)))
    return "".join(out)


def _whole(p: Piece, links: bool) -> str:
    shown = html.escape(p.shown)
    if p.kind == "dollar":  # KaTeX skips this class: a literal $ never opens math
        return f'<span class="tex-dollar">{shown}</span>'
    if p.kind == "url" and links and (url := allowed_url(p.target)):
        return f'<a href="{html.escape(url)}" rel="noopener nofollow">{shown}</a>'
    return shown


def _overlaps(p: Piece, spans) -> bool:
    return any(s < p.end and e > p.start for s, e in spans)


def _marked(inner: str, marked: bool) -> str:
    return f"<mark>{inner}</mark>" if marked and inner else inner


def _marked_text(p: Piece, spans) -> str:
    """A piece shown as written, with the parts inside spans marked (character exact)."""
    out, at = [], p.start
    for s, e in spans:
        s, e = max(s, p.start), min(e, p.end)
        if s >= e or e <= at:
            continue
        s = max(s, at)
        out += [
            html.escape(p.shown[at - p.start : s - p.start]),
            _marked(html.escape(p.shown[s - p.start : e - p.start]), True),
        ]
        at = e
    out.append(html.escape(p.shown[at - p.start :]))
    return "".join(out)


class _Scanner:
    """One left-to-right pass; `groups` holds, per open brace, the tags to close at its end."""

    def __init__(self, text: str):
        self.text = text
        self.out: list[Piece] = []
        self.groups: list[list[str]] = [[]]  # [0] is the top level, closed at the end
        self.run_start: int | None = None  # start of the current stretch of plain text

    def run(self) -> list[Piece]:
        i, text = 0, self.text
        while i < len(text):
            i = self.step(i)
        self.flush(len(text))
        for tags in reversed(self.groups):  # unclosed braces (a cut snippet): close their tags
            self.close(tags, len(text))
        return self.out

    # -- emitting ----------------------------------------------------------------------------
    def flush(self, at: int) -> None:
        if self.run_start is not None and at > self.run_start:
            self.out.append(Piece(self.run_start, at, self.text[self.run_start : at], "text"))
        self.run_start = None

    def emit(self, start: int, end: int, shown: str, kind: str = "sub", target: str = "") -> int:
        self.flush(start)
        self.out.append(Piece(start, end, shown, kind, target))
        return end

    def open(self, tag: str, at: int) -> None:
        if tag:
            self.emit(at, at, tag, "open")
            self.groups[-1].append(tag)

    def close(self, tags: list[str], at: int) -> None:
        for tag in reversed(tags):
            self.emit(at, at, tag, "close")
        tags.clear()

    # -- reading -----------------------------------------------------------------------------
    def step(self, i: int) -> int:
        text, c = self.text, self.text[i]
        if c in "hH" and (url := _URL.match(text, i)):
            return self.url(i, url.group())
        if c == "$":
            return self.math(i)
        if c == "\\":
            return self.backslash(i)
        if c == "{":
            self.flush(i)
            self.groups.append([])
            return self.emit(i, i + 1, "")
        if c == "}":
            if len(self.groups) > 1:
                self.flush(i)
                self.close(self.groups.pop(), i)
            return self.emit(i, i + 1, "")  # a stray } (a cut snippet) is dropped
        for mark, shown in _PUNCT.items():
            if text.startswith(mark, i):
                return self.emit(i, i + len(mark), shown)
        if self.run_start is None:
            self.run_start = i
        plain = _PLAIN.match(text, i + 1)
        return plain.end() if plain else i + 1

    def url(self, i: int, url: str) -> int:
        while url and url[-1] in _URL_TAIL:
            if url[-1] == ")" and url.count("(") >= url.count(")"):
                break
            url = url[:-1]
        target = re.sub(r"\\([_%#&~])", r"\1", url)
        return self.emit(i, i + len(url), target, "url", target)

    def math(self, i: int) -> int:
        text = self.text
        fence = "$$" if text.startswith("$$", i) else "$"
        end = _unescaped(text, fence, i + len(fence))
        if end < 0 or end == i + len(fence):  # no closing $ (or $$ with nothing inside)
            return self.emit(i, i + 1, "$", "dollar")
        stop = end + len(fence)
        return self.emit(i, stop, text[i:stop], "math")

    def backslash(self, i: int) -> int:
        text = self.text
        nxt = text[i + 1 : i + 2]
        if nxt in ("(", "["):
            close = "\\)" if nxt == "(" else "\\]"
            end = text.find(close, i + 2)
            if end >= 0:
                return self.emit(i, end + 2, text[i : end + 2], "math")
            return self.emit(i, i + 2, nxt)
        if nxt == "$":
            return self.emit(i, i + 2, "$", "dollar")
        if nxt in _ACCENTS and not nxt.isalpha():
            return self.accent(i, i + 2, _ACCENTS[nxt])
        if nxt in _ESCAPES:
            return self.emit(i, i + 2, _ESCAPES[nxt])
        macro = _MACRO.match(text, i)
        if macro is None:  # a backslash before anything else: show what follows it
            return self.emit(i, i + 1, "")
        return self.named(i, macro.group(1), macro.end())

    def named(self, i: int, name: str, end: int) -> int:
        text = self.text
        if name in _STYLES and text.startswith("{", end):
            self.emit(i, end + 1, "")
            self.groups.append([])
            self.open(_STYLES[name], end + 1)
            return end + 1
        if name in _SWITCHES:
            self.emit(i, end, "")
            self.open(_SWITCHES[name], end)
            return _skip_space(text, end)
        if name in ("url", "href") and text.startswith("{", end):
            return self.link(i, name, end)
        if (
            len(name) == 1
            and name in _ACCENTS
            and (text.startswith("{", end) or text.startswith(" ", end))
        ):
            return self.accent(i, _skip_space(text, end), _ACCENTS[name])
        shown = _SYMBOLS.get(name, name)  # an unknown macro (\ours) shows as its name
        stop = end + 2 if text.startswith("{}", end) else end
        return self.emit(i, stop, shown)

    def link(self, i: int, name: str, end: int) -> int:
        text = self.text
        close = text.find("}", end)
        if close < 0:
            return self.emit(i, end, "")
        target = re.sub(r"\\([_%#&~])", r"\1", text[end + 1 : close].strip())
        shown = target
        stop = close + 1
        if name == "href" and text.startswith("{", stop):
            label_end = text.find("}", stop)
            if label_end > 0:
                shown, stop = to_text(text[stop + 1 : label_end]) or target, label_end + 1
        return self.emit(i, stop, shown, "url", target)

    def accent(self, i: int, at: int, mark: str) -> int:
        """An accent on the next letter, written `x`, `{x}` or `{\\i}`."""
        text = self.text
        m = re.match(r"\{\\?([A-Za-z])\}|\\?([A-Za-z])", text[at : at + 4])
        if m is None:
            return self.emit(i, at, "")
        base = m.group(1) or m.group(2)
        return self.emit(i, at + m.end(), unicodedata.normalize("NFC", base + mark))


def _unescaped(text: str, fence: str, start: int) -> int:
    """Where `fence` next occurs at or after `start` without a backslash before it; -1 if not."""
    at = text.find(fence, start)
    while at > 0 and text[at - 1] == "\\":
        at = text.find(fence, at + 1)
    return at


def _skip_space(text: str, at: int) -> int:
    while at < len(text) and text[at] == " ":
        at += 1
    return at
