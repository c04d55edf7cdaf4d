"""Reply mail and the address check from the account page, and their signed links
(mail/replies.py).

    POST /account/replies   on=1|0 (signed in, CSRF)  on: mail the opt-in link; 0: stop
    POST /account/verify-email   (signed in, CSRF)   mail the "this address is mine" link
    GET  /account/verify-email?token=...  that link, opened signed in as that account: the
                                          address is verified, so digests to it carry the
                                          account's "For you" section
    GET  /replies/confirm?token=...       the opt-in link: reply mail starts
    GET  /replies/unsubscribe?token=...   a page with the button
    POST /replies/unsubscribe?token=...   RFC 8058 one-click unsubscribe (List-Unsubscribe-Post)

The opt-in mail goes out after the response (a background task); notices themselves are
queued with the reply and sent by `drain_in_background` (web/discussions.py adds it).
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperboy.mail.links import LinkInvalid, Links
from paperboy.mail.replies import ask_to_confirm, ask_to_verify, send_replies
from paperboy.mail.send import DeliveryError
from paperboy.store.library import Library
from paperboy.store.replies import Replies
from paperboy.web import auth, limits
from paperboy.web.deps import web_of

log = logging.getLogger("paperboy.mail")
router = APIRouter(include_in_schema=False)
_PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def drain_in_background(background: BackgroundTasks, request: Request) -> None:
    """Send queued reply notices after the response, so no request waits on SMTP."""
    web = web_of(request)
    background.add_task(_send_quietly, web.store, web.settings)


def _send_quietly(store, settings) -> None:
    try:
        send_replies(store, settings)
    except Exception:  # a background task has no one to answer: log, the queue keeps it
        log.exception("sending reply notices failed")


def _mail_quietly(ask, what: str, settings, user_id: int, name: str, address: str) -> None:
    """Send one of an account's confirmation mails after the response (`ask`: ask_to_confirm
    or ask_to_verify); a failed delivery is logged, the user can ask again."""
    try:
        ask(settings, user_id, name, address)
    except DeliveryError as exc:
        log.warning("could not send the %s to %s: %s", what, address, exc)


@router.post("/account/replies")
def account_replies(
    request: Request, background: BackgroundTasks, on: str = Form("1"), csrf_token: str = Form("")
):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    if on != "1":
        Replies(web.store).set_address(user.id, None)
        return RedirectResponse("/account?" + urlencode({"replies": "off"}), status_code=303)
    if not user.email:
        raise HTTPException(400, "your account has no email address to mail replies to")
    limits.check(web.store, limits.SUBSCRIBE, f"user:{user.id}")
    background.add_task(
        _mail_quietly,
        ask_to_confirm,
        "reply-mail opt-in",
        web.settings,
        user.id,
        user.name,
        user.email,
    )
    return RedirectResponse("/account?" + urlencode({"replies": "asked"}), status_code=303)


@router.post("/account/verify-email")
def account_verify_email(request: Request, background: BackgroundTasks, csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    if not user.email:
        raise HTTPException(400, "your account has no email address to verify")
    limits.check(web.store, limits.SUBSCRIBE, f"verify-user:{user.id}")  # 5 mails an hour
    background.add_task(
        _mail_quietly, ask_to_verify, "address check", web.settings, user.id, user.name, user.email
    )
    return RedirectResponse("/account?" + urlencode({"verify": "asked"}), status_code=303)


@router.get("/account/verify-email", response_class=HTMLResponse)
def verify_email(request: Request, token: str = ""):
    web = web_of(request)
    try:
        user_id, address = Links(web.settings).read("email-verify", token)
    except LinkInvalid as exc:
        return _message(request, "This link does not work", f"{exc}.", 400)
    # The account must open it too: whoever reads the address proves it is theirs only for
    # their own account, never for another that typed it in (and mailed them this link).
    user = auth.session_user(web.store, request)
    if user is None:
        here = "/account/verify-email?" + urlencode({"token": token})
        return RedirectResponse("/signin?" + urlencode({"next": here}), status_code=303)
    if user.id != user_id:
        return _message(
            request,
            "This link is for another account",
            f"It confirms {address} for another paperboy account than {user.name!r}, which "
            "someone else made; nothing was changed. If you did not ask for it, ignore it.",
            400,
        )
    if not Library(web.store).verify_email(user_id, address):
        return _message(
            request, "This link does not work", "The account's address has changed since.", 400
        )
    return _message(
        request,
        "Your address is confirmed",
        f'Digests to {address} now carry a "For you" section from your account.',
    )


def _message(request: Request, heading: str, text: str, status: int = 200) -> HTMLResponse:
    return web_of(request).render(
        request,
        "mail/message.html",
        status,
        headers=_PRIVATE,
        new_csrf=False,
        heading=heading,
        text=text,
        tone="ok" if status == 200 else "error",
        more="",
        link="/account",
        link_text="Your account",
        ask_again=False,
    )


@router.get("/replies/confirm", response_class=HTMLResponse)
def confirm(request: Request, token: str = ""):
    web = web_of(request)
    try:
        user_id, address = Links(web.settings).read("replies-confirm", token)
    except LinkInvalid as exc:
        return _message(request, "This link does not work", f"{exc}.", 400)
    if not Replies(web.store).set_address(user_id, address):
        return _message(
            request, "This link does not work", "The account's address has changed since.", 400
        )
    return _message(
        request, "Reply mail is on", f"Replies to your comments will be mailed to {address}."
    )


@router.get("/replies/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str = ""):
    web = web_of(request)
    try:
        Links(web.settings).read("replies-unsubscribe", token)
    except LinkInvalid as exc:
        return _message(request, "This link does not work", f"{exc}.", 400)
    return web.render(
        request, "replies_unsubscribe.html", headers=_PRIVATE, new_csrf=False, token=token
    )


@router.post("/replies/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str = ""):
    """RFC 8058 one-click: the token is in the URL; the body and Origin do not matter."""
    web = web_of(request)
    try:
        user_id, _ = Links(web.settings).read("replies-unsubscribe", token)
    except LinkInvalid as exc:
        return _message(request, "This link does not work", f"{exc}.", 400)
    Replies(web.store).set_address(user_id, None)
    return _message(request, "Reply mail is off", "No more reply mail goes to this account.")
