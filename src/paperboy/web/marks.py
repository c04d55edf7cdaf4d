"""Search highlights as HTML: character spans from the search engine become <mark> elements.

A small stand-in until `paperboy.search.highlight` lands; the web imports only `mark_html`,
`hf_highlighted` and `snippet` from here, so swapping the implementation is one import.

    mark_html("Attention is all", [(0, 9)])  ->  Markup('<mark>Attention</mark> is all')
"""

from __future__ import annotations

from markupsafe import Markup, escape


def _clean(spans, length: int) -> list[tuple[int, int]]:
    """Spans clipped to the text, sorted, overlaps merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted((max(0, s), min(length, e)) for s, e in spans):
        if start >= end:
            continue
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def mark_html(text: str, spans) -> Markup:
    """The text, HTML-escaped, with each span wrapped in <mark>."""
    parts, pos = [], 0
    for start, end in _clean(spans, len(text)):
        parts.append(escape(text[pos:start]))
        parts.append(Markup("<mark>") + escape(text[start:end]) + Markup("</mark>"))
        pos = end
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)


def hf_highlighted(text: str, spans) -> str:
    """The API's highlightedTitle/highlightedSummary: escaped text with <mark> around matches."""
    return str(mark_html(text, spans))


def snippet(text: str, spans, width: int = 320) -> tuple[str, list[tuple[int, int]]]:
    """A window of about `width` characters around the first match, with spans shifted into it."""
    spans = _clean(spans, len(text))
    if len(text) <= width:
        return text, spans
    start = 0
    if spans and spans[0][1] > width - 40:
        start = max(0, spans[0][0] - width // 3)
        start = text.rfind(" ", 0, start) + 1 if start else 0
    end = start + width
    end = text.rfind(" ", start, end) if text.rfind(" ", start, end) > start else end
    shown = text[start:end]
    moved = [(s - start, e - start) for s, e in spans if s >= start and e <= end]
    prefix = "… " if start else ""
    moved = [(s + len(prefix), e + len(prefix)) for s, e in moved]
    return prefix + shown + " …", moved
