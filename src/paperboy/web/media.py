"""What cards and paper pages show beside the paper (issue #14): thumbnails, GitHub stars, the
machine-written summary and keywords; and the route that serves the thumbnails.

    GET /thumbnails/2405.15738.webp    the first page of a paper's PDF (paperboy thumbnails)

A thumbnail is served from data_dir/thumbnails only when the store records it as made (so no
path a client writes reaches the disk), with a week of browser caching: a paper's first page
does not change once drawn. Nothing here waits on an upstream; the images and the star counts
are fetched by `paperboy thumbnails`, `paperboy stars` and `sync`.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException

from paperboy.store.media import Keywords, Stars, Summaries, Thumbnails
from paperboy.thumbnails import thumbnail_name, thumbnail_path

router = APIRouter()
THUMBNAIL_CACHE = "public, max-age=604800"  # a week; the image of a paper never changes
MAX_KEYWORD_SPANS = 60  # marks in one abstract, bounded whatever the keywords


def attach_media(store, cards: list) -> list:
    """Fill each card's thumbnail URL and star count (two queries for the whole page)."""
    if not cards:
        return cards
    files = Thumbnails(store).files(c.paper.id for c in cards)
    stars = Stars(store).of_papers(c.paper for c in cards)
    for card in cards:
        if card.paper.id in files:
            card.thumbnail = f"/thumbnails/{files[card.paper.id]}"
        card.stars = stars.get(card.paper.id)
    return cards


def paper_words(store, paper) -> dict:
    """The paper page's summary and keywords: upstream ones, or those extracted here."""
    extracted = [] if paper.keywords else Keywords(store).extracted([paper.id]).get(paper.id, [])
    keywords = paper.keywords or extracted
    return {
        "summary": Summaries(store).of([paper.id]).get(paper.id),
        "keywords": keywords,
        "keywords_extracted": bool(extracted),
        "keyword_spans": keyword_spans(paper.abstract or "", keywords),
    }


def keyword_spans(text: str, keywords: list[str]) -> list[tuple[int, int]]:
    """Where the keywords stand in the text, as HF marks them in its abstracts: each keyword
    as a whole phrase (case and spacing aside, not inside a longer word), overlaps merged.
    Offsets into the raw text, the shape latex.to_html marks."""
    phrases = sorted({k.strip() for k in keywords if k and k.strip()}, key=len, reverse=True)
    if not text or not phrases:
        return []
    words = (r"\s+".join(re.escape(w) for w in phrase.split()) for phrase in phrases)
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(words)})(?!\w)", re.IGNORECASE)
    spans: list[tuple[int, int]] = []
    for m in pattern.finditer(text):
        if spans and m.start() <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], m.end()))
        else:
            spans.append(m.span())
        if len(spans) >= MAX_KEYWORD_SPANS:
            break
    return spans


@router.get("/thumbnails/{name}", include_in_schema=False)
def thumbnail(request: Request, name: str):
    from paperboy.web.deps import web_of

    web = web_of(request)
    paper_id = name.removesuffix(".webp").replace("_", "/")
    found = Thumbnails(web.store).get(paper_id)
    if (
        found is None
        or found.status != "done"
        or found.file != thumbnail_name(paper_id)
        or name != found.file
    ):
        raise HTTPException(404, f"no thumbnail {name!r}")
    path = thumbnail_path(web.settings, found.file)
    if not path.is_file():
        raise HTTPException(404, f"no thumbnail {name!r}")
    return FileResponse(path, media_type="image/webp", headers={"Cache-Control": THUMBNAIL_CACHE})
