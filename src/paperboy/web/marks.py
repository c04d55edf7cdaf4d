"""Search highlights for the web: spans from the search engine become <mark> HTML (pages) and
{"text", "highlighted"} segments (the API's highlightedTitle / highlightedSummary).

`to_html` and `to_segments` come from `paperboy.search.highlight` when that module is installed
(the hybrid search engine's); the small versions below stand in until then, with the same names
and behaviour. `snippet` (a window of an abstract around its first match) is the web's own.

    to_html("a < b, attention", [(9, 18)])   ->  'a &lt; b, <mark>attention</mark>'
"""

from __future__ import annotations

import html
import importlib
import importlib.util


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


def _pieces(text: str, spans):
    at = 0
    for start, end in _clean(spans, len(text)):
        if start > at:
            yield text[at:start], False
        yield text[start:end], True
        at = end
    if at < len(text):
        yield text[at:], False


def _to_html(text: str, spans) -> str:
    """HTML-escaped text with each span wrapped in <mark>."""
    return "".join(f"<mark>{html.escape(p)}</mark>" if marked else html.escape(p)
                   for p, marked in _pieces(text or "", spans))


def _to_segments(text: str, spans) -> list[dict]:
    """The text as {"text", "highlighted"} pieces that join back to the original."""
    return [{"text": p, "highlighted": marked} for p, marked in _pieces(text or "", spans)]


if importlib.util.find_spec("paperboy.search.highlight") is not None:
    _engine = importlib.import_module("paperboy.search.highlight")
    to_html, to_segments = _engine.to_html, _engine.to_segments
else:
    to_html, to_segments = _to_html, _to_segments


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
    cut = text.rfind(" ", start, end)
    end = cut if cut > start else end
    prefix = "… " if start else ""
    moved = [(s - start + len(prefix), e - start + len(prefix))
             for s, e in spans if s >= start and e <= end]
    return prefix + text[start:end] + " …", moved
