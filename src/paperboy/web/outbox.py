"""GET /_outbox: the mail the demo has sent, decoded, newest first (demo mode only).

The demo has no mail relay: its mail goes to data_dir/outbox/ (mail/backends.py), and this page
lets a newcomer read it and open its links (confirm a subscription, change preferences). The
router is mounted only when the data directory is the demo's (demo_dir.py), never in a normal
deployment, whatever its mail_backend: the page shows every address and signed link in it.
Links to this paperboy (public_url) become relative links, so they work on whatever port the
demo runs; no other text becomes a link.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from paperboy.mail.backends import read_outbox

router = APIRouter(include_in_schema=False)
SHOWN = 50
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def own_links(text: str, public_url: str) -> list[tuple[str, str | None]]:
    """The text as (piece, href) pairs: href is the relative path of a link to this site."""
    base = public_url.rstrip("/")
    pattern = re.compile(re.escape(base) + r"(/(?!/)[^\s<>\"']*)")
    pieces: list[tuple[str, str | None]] = []
    last = 0
    for match in pattern.finditer(text):
        pieces.append((text[last : match.start()], None))
        pieces.append((match.group(0), match.group(1)))
        last = match.end()
    pieces.append((text[last:], None))
    return pieces


@router.get("/_outbox")
def outbox(request: Request):
    web = request.app.state.web
    letters = read_outbox(web.settings, limit=SHOWN)
    shown = [(letter, own_links(letter.text, web.settings.public_url)) for letter in letters]
    return web.render(request, "outbox.html", letters=shown, headers=PRIVATE)
