"""Mark the query's words in a title or abstract: spans, HTML for pages, segments for the API.

    spans = match_spans("Sparse Attention Transformers", parse_query("attention transformer"))
    to_html("Sparse Attention Transformers", spans)
    # 'Sparse <mark>Attention</mark> <mark>Transformers</mark>'
    to_segments("Sparse Attention Transformers", spans)
    # [{'text': 'Sparse ', 'highlighted': False}, {'text': 'Attention', 'highlighted': True}, ...]

A word matches when the keyword index's analyzer turns it into a query term (so
"transformers" matches "transformer", and stop words never light up); phrases and
author names match too. Spans are (start, end) character offsets, the shape `Hit` carries.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache

from paperboy.search.files.keyword import analyze
from paperboy.search.query import ParsedQuery

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_SPANS = 200  # per text; enough for any abstract, bounded for pathological input


def query_terms(q: ParsedQuery) -> set[str]:
    """The analysed terms a text's words are compared with."""
    terms: set[str] = set()
    for part in q.words + q.phrases:
        terms.update(analyze(part))
    return terms


@lru_cache(maxsize=65536)
def _term(word: str) -> str | None:
    """A word's index term (None for a stop word); cached, as abstracts repeat words."""
    analysed = analyze(word)
    return analysed[0] if analysed else None


@lru_cache(maxsize=256)
def _candidates(terms: frozenset[str]) -> re.Pattern[str]:
    """Words that could stem to one of the terms: a stem's first three letters begin the word
    (Snowball keeps the front of a word), so the regex engine skips the rest of the text."""
    heads = sorted({re.escape(t[:3]) for t in terms}, key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(heads)})\w*", re.IGNORECASE | re.UNICODE)


def match_spans(text: str, q: ParsedQuery | set[str]) -> list[tuple[int, int]]:
    """Offsets of the words in `text` that match the query, merged when adjacent."""
    terms = query_terms(q) if isinstance(q, ParsedQuery) else q
    if not text or not terms:
        return []
    spans: list[tuple[int, int]] = []
    for m in _candidates(frozenset(terms)).finditer(text):
        term = _term(m.group(0))
        if term is not None and term in terms:
            start, end = m.span()
            if spans and text[spans[-1][1] : start].strip() == "" and start - spans[-1][1] <= 1:
                spans[-1] = (spans[-1][0], end)  # "neural network" marked as one span
            else:
                spans.append((start, end))
            if len(spans) >= MAX_SPANS:
                break
    return spans


def _pieces(text: str, spans: list[tuple[int, int]]) -> Iterator[tuple[str, bool]]:
    """(piece, highlighted) in order, ignoring spans that are out of range or overlap."""
    at = 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        if start > at:
            yield text[at:start], False
        yield text[start:end], True
        at = end
    if at < len(text):
        yield text[at:], False


def to_html(text: str, spans: list[tuple[int, int]], tag: str = "mark") -> str:
    """HTML-escaped text with the spans wrapped in <mark> (safe to put in a page as is)."""
    return "".join(
        f"<{tag}>{html.escape(piece)}</{tag}>" if marked else html.escape(piece)
        for piece, marked in _pieces(text or "", spans)
    )


def to_segments(text: str, spans: list[tuple[int, int]]) -> list[dict[str, object]]:
    """Hugging Face style `highlightedTitle` / `highlightedSummary`: the text as a list of
    {"text", "highlighted"} segments that join back to the original (no HTML to parse)."""
    return [{"text": piece, "highlighted": marked} for piece, marked in _pieces(text or "", spans)]
