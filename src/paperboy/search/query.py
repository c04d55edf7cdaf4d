"""Parse what a user types into a search box into words, phrases, exclusions and filters.

    >>> q = parse_query('"diffusion model" author:ho -video cat:cs.CV after:2024-01-01')
    >>> q.phrases, q.excluded, q.authors, q.categories, q.date_from
    (['diffusion model'], ['video'], ['ho'], ['cs.CV'], datetime.date(2024, 1, 1))

The parser never raises: anything it cannot use becomes plain text or a note in `notes`
("unbalanced quote", "year:abc is not a year"), so the engine can tell the user what it did.
Operators: `"exact phrase"`, `-word`, `-"phrase"`, `author:NAME` (quote a full name),
`cat:cs.CL`, `year:2024`, `after:YYYY-MM-DD`, `before:YYYY-MM-DD` (a year or YYYY-MM works too),
`has:code`, `sort:date|upvotes|relevance`. An arXiv id or URL anywhere puts that paper first.

Text pasted into the box (a title, a sentence, an abstract: more than `PROSE_WORDS` words) is
read as plain words: its quotes, hyphens and colons are punctuation, not operators, and it is
kept whole up to `MAX_PROSE_CHARS`, so searching by a pasted abstract reads all of it.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from paperboy.papers import ArxivId, try_parse_arxiv_id

MAX_QUERY_CHARS = 1000  # a query with operators is cut here (and the user told)
MAX_CLAUSES = 64  # words + phrases + operators kept; the rest is dropped with a note
PROSE_WORDS = 12  # more words than this: pasted text, read as plain words
MAX_PROSE_CHARS = 20_000  # pasted text is cut here (an abstract is ~2,000 characters)
MAX_PROSE_WORDS = 2_000  # and read up to this many words
SORTS = ("relevance", "date", "upvotes")

_OPERATORS = {"author", "au", "cat", "category", "year", "after", "before", "has", "sort"}
_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z-]+)?$", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)
# A number, as after the minus of "-20 degrees", "-0.5" or "-1e5": text, not an exclusion.
_NUMBER = re.compile(r"[\d.,]*\d(?:[eE][-+]?\d+)?%?(?=\s|$)")
_OPERATOR_TOKEN = re.compile(
    r"(?:^|\s)(?:{}):\S".format("|".join(sorted(_OPERATORS))), re.IGNORECASE
)


@dataclass
class ParsedQuery:
    raw: str
    words: list[str] = field(default_factory=list)  # free words, as typed
    phrases: list[str] = field(default_factory=list)  # "exact phrase"
    excluded: list[str] = field(default_factory=list)  # -word and -"phrase"
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None
    has_code: bool | None = None
    sort: str | None = None
    arxiv_ids: list[ArxivId] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prose: bool = False  # pasted text, read as plain words (no operators)

    @property
    def text(self) -> str:
        """The free text (words and phrases) for semantic search."""
        return " ".join(self.phrases + self.words).strip()

    @property
    def has_text(self) -> bool:
        return any(_WORD.search(part) for part in self.phrases + self.words)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors
            or self.categories
            or self.date_from
            or self.date_to
            or self.has_code is not None
        )

    @property
    def is_empty(self) -> bool:
        return not (self.has_text or self.has_filters or self.arxiv_ids or self.excluded)


def clean_input(text: str) -> str:
    """Drop control and format characters (NUL, escapes, zero-width), keep everything else."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    kept = []
    for ch in text:
        kind = unicodedata.category(ch)
        if kind in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(" " if ch in "\t\n\r" else "")
        else:
            kept.append(ch)
    return "".join(kept)


def _split(text: str, notes: list[str]) -> list[tuple[str, str]]:
    """Split into (kind, value) tokens: ("word", w), ("phrase", p), ("-word"/"-phrase", x),
    ("op", "name\x00value"). Quotes that never close are treated as plain text."""
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        # "-word", "-3D" and '-"phrase"' exclude; "-20", "-0.5" (numbers) and "--" are words.
        negate = (
            text[i] == "-"
            and i + 1 < n
            and not text[i + 1].isspace()
            and text[i + 1] != "-"
            and not _NUMBER.match(text, i + 1)
        )
        start = i + 1 if negate else i
        if start < n and text[start] == '"':
            end = text.find('"', start + 1)
            if end == -1:
                notes.append("a quote was not closed, so it was ignored")
                text = text[:start] + " " + text[start + 1 :]
                continue
            value = text[start + 1 : end].strip()
            if value:
                tokens.append(("-phrase" if negate else "phrase", value))
            i = end + 1
            continue
        end = start
        while end < n and not text[end].isspace():
            end += 1
        chunk = text[start:end]
        name, sep, value = chunk.partition(":")
        if sep and name.lower() in _OPERATORS and not negate:
            if value.startswith('"'):
                close = text.find('"', start + len(name) + 2)
                if close != -1:
                    value = text[start + len(name) + 2 : close]
                    end = close + 1
                else:
                    value = value.strip('"')
                    notes.append("a quote was not closed, so it was ignored")
            tokens.append(("op", f"{name.lower()}\x00{value.strip()}"))
        elif chunk:
            tokens.append(("-word" if negate else "word", chunk))
        i = end
    return tokens


def _parse_day(value: str, end_of_period: bool) -> date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD; the first (or last) day of the period."""
    m = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", value.strip())
    if not m:
        return None
    year, month, day = int(m[1]), m[2], m[3]
    try:
        if month is None:
            return date(year, 12, 31) if end_of_period else date(year, 1, 1)
        month = int(month)
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return date(year, month, last if end_of_period else 1)
        return date(year, month, int(day))
    except ValueError:
        return None


def _apply_operator(q: ParsedQuery, name: str, value: str) -> None:
    if not value:
        q.notes.append(f"{name}: needs a value, e.g. {_EXAMPLES.get(name, name + ':x')}")
        return
    if name in ("author", "au"):
        q.authors.append(value)
    elif name in ("cat", "category"):
        if _CATEGORY.match(value):
            q.categories.append(value)
        else:
            q.notes.append(f"cat:{value} is not an arXiv category such as cs.CL; ignored")
    elif name == "year":
        first, last = _parse_day(value, False), _parse_day(value, True)
        if first is None or not re.fullmatch(r"\d{4}", value):
            q.notes.append(f"year:{value} is not a year such as 2024; ignored")
            return
        q.date_from = max(filter(None, (q.date_from, first)))
        q.date_to = min(filter(None, (q.date_to, last)))
    elif name in ("after", "before"):
        day = _parse_day(value, end_of_period=name == "before")
        if day is None:
            q.notes.append(f"{name}:{value} is not a date such as 2025-01-31; ignored")
        elif name == "after":
            q.date_from = max(filter(None, (q.date_from, day)))
        else:
            q.date_to = min(filter(None, (q.date_to, day)))
    elif name == "has":
        if value.lower() == "code":
            q.has_code = True
        else:
            q.notes.append(f"has:{value} is not known; use has:code")
    elif name == "sort":
        if value.lower() in SORTS:
            q.sort = value.lower()
        else:
            q.notes.append(f"sort:{value} is not known; use relevance, date or upvotes")


_EXAMPLES = {
    "author": "author:hinton",
    "au": "au:hinton",
    "cat": "cat:cs.CL",
    "category": "category:cs.CL",
    "year": "year:2024",
    "after": "after:2025-01-01",
    "before": "before:2025-12-31",
    "has": "has:code",
    "sort": "sort:date",
}


def is_prose(text: str) -> bool:
    """Whether the text reads as pasted prose rather than a typed query: many words, and
    none of them an operator (`cat:cs.LG`) that only a query would hold."""
    return len(text.split(None, PROSE_WORDS)) > PROSE_WORDS and not _OPERATOR_TOKEN.search(text)


def _parse_prose(q: ParsedQuery, raw: str) -> ParsedQuery:
    if len(raw) > MAX_PROSE_CHARS:
        q.notes.append(f"the text was cut to its first {MAX_PROSE_CHARS} characters")
        raw = raw[:MAX_PROSE_CHARS]
    q.prose = True
    q.words = [w for w in (_WORD_EDGES.sub("", chunk) for chunk in raw.split()) if w]
    if len(q.words) > MAX_PROSE_WORDS:
        q.notes.append(f"only the first {MAX_PROSE_WORDS} words were used")
        q.words = q.words[:MAX_PROSE_WORDS]
    return q


def prose_query(text: str) -> ParsedQuery:
    """Text read as plain words whatever its length (similar papers query by a paper's own
    title and abstract)."""
    raw = clean_input(text)
    return _parse_prose(ParsedQuery(raw=raw), raw)


# Punctuation around a pasted word ("(BERT),", '"attention"') is not part of it; inner
# hyphens, dots and slashes are ("self-attention", "GPT-4.5", "TCP/IP").
_WORD_EDGES = re.compile(r"^[^\w]+|[^\w]+$", re.UNICODE)


def parse_query(text: str) -> ParsedQuery:
    """Parse a user's query; never raises."""
    raw = clean_input(text)
    q = ParsedQuery(raw=raw)
    if is_prose(raw):
        return _parse_prose(q, raw)
    if len(raw) > MAX_QUERY_CHARS:
        q.notes.append(f"the query was cut to its first {MAX_QUERY_CHARS} characters")
        raw = raw[:MAX_QUERY_CHARS]
    whole = try_parse_arxiv_id(raw) if raw.strip() else None
    if whole is not None:
        q.arxiv_ids.append(whole)
        return q
    tokens = _split(raw, q.notes)
    if len(tokens) > MAX_CLAUSES:
        q.notes.append(f"only the first {MAX_CLAUSES} words and operators were used")
        tokens = tokens[:MAX_CLAUSES]
    for kind, value in tokens:
        if kind == "op":
            name, _, val = value.partition("\x00")
            _apply_operator(q, name, val)
        elif kind == "phrase":
            q.phrases.append(value)
        elif kind in ("-word", "-phrase"):
            q.excluded.append(value)
        else:
            found = try_parse_arxiv_id(value)
            if found is not None:
                q.arxiv_ids.append(found)
            else:
                q.words.append(value)
    if q.date_from and q.date_to and q.date_from > q.date_to:
        q.notes.append(f"no date is after {q.date_from} and before {q.date_to}")
    return q


def keyword_terms(text: str) -> list[str]:
    """The lower-cased word tokens of a text (what the keyword index and highlighter see)."""
    return [w.lower() for w in _WORD.findall(text)]


def has_constraints(q: ParsedQuery) -> bool:
    """Whether the query holds anything every result must satisfy: phrases, exclusions,
    filters (the semantic candidates are checked against them)."""
    return bool(q.phrases or q.excluded or q.has_filters)
