"""Search highlights for the web: spans from the search engine become <mark> HTML and
{"text", "highlighted"} segments (the API's highlightedTitle / highlightedSummary).

`to_html` and `to_segments` are the search engine's (`paperboy.search.highlight`); `snippet`
(a window of an abstract around its first match) is the web's own. The search page marks
its results with `paperboy.latex.to_html`, which also shows their LaTeX as the cards do.

    to_html("a < b, attention", [(9, 18)])   ->  'a &lt; b, <mark>attention</mark>'
"""

from __future__ import annotations

from paperboy.search.highlight import to_html, to_segments

__all__ = ["snippet", "to_html", "to_segments"]


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
    moved = [
        (s - start + len(prefix), e - start + len(prefix))
        for s, e in spans
        if s >= start and e <= end
    ]
    return prefix + text[start:end] + " …", moved
