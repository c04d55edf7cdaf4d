"""Subscription pages: the subscribe form, confirmation, one-click unsubscribe, preferences.

    app.include_router(paperboy.web.subscriptions.router)

The routes read the settings and the store through `web_of(request)` (web/deps.py) and render
templates/mail/ with the site's one template environment and layout (`base.html`); feed pages
can include `mail/subscribe_form.html`, which posts to /subscribe.

- GET/POST /subscribe: the form; the answer is the same whether or not the address is known,
  and the mail (confirmation or notice) goes out in the background after the response. One
  mail per address per `mail_confirm_interval` (claimed in the store before sending), and
  `limits.SUBSCRIBE` requests per client address: a form cannot be turned into a mail cannon.
- GET/POST /subscriptions/confirm: the link in the confirmation mail shows a button; the POST
  confirms. (Link scanners in mail systems open links; they do not press buttons.)
- POST /subscriptions/unsubscribe?token=...: RFC 8058 one-click unsubscribe, what mail clients
  call for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`. GET shows a button for people.
- GET/POST /subscriptions/preferences: frequency, topics, top papers on/off, pause,
  unsubscribe; reached by the signed link in every digest.

Tokens are the only credential, so these pages send `Referrer-Policy: no-referrer` and
`Cache-Control: no-store`: a token must not leak to the sites a page links to.
"""

from __future__ import annotations

import logging
import math

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse

from paperboy.mail.links import LinkExpired, LinkInvalid, Links
from paperboy.mail.send import DeliveryError
from paperboy.mail.subscriptions import InvalidSubscription, Subscriptions
from paperboy.web import auth, limits
from paperboy.web.deps import web_of

log = logging.getLogger("paperboy.mail")
router = APIRouter(include_in_schema=False)  # HTML forms, not the JSON API

MAX_FIELD = 5000  # form fields longer than this are refused before any parsing of them

_PRIVATE = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _subscriptions(request: Request) -> Subscriptions:
    web = web_of(request)
    return Subscriptions(web.store, web.settings, links=_links(request))


def _links(request: Request) -> Links:
    """One `Links` per app: its signing keys are derived once, from the secret key file."""
    state = request.app.state
    links = getattr(state, "mail_links", None)
    if links is None:
        links = state.mail_links = Links(web_of(request).settings)
    return links


def _page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    # No fresh CSRF value: these forms carry their own token or none, and a subscribe answer
    # must read the same whoever asks (it must not tell who subscribes).
    return web_of(request).render(
        request, f"mail/{template}", status, headers=_PRIVATE, new_csrf=False, **context
    )


def _message(
    request: Request,
    heading: str,
    text: str,
    status: int = 200,
    tone: str = "ok",
    more: str = "",
    link: str = "",
    link_text: str = "",
    ask_again: bool = False,
) -> HTMLResponse:
    return _page(
        request,
        "message.html",
        status,
        heading=heading,
        text=text,
        tone=tone,
        more=more,
        link=link,
        link_text=link_text,
        ask_again=ask_again,
        values={},
    )


def _bad_link(request: Request, exc: LinkInvalid) -> HTMLResponse:
    if isinstance(exc, LinkExpired):
        return _message(
            request,
            "This link has expired",
            "For your safety, links in our mails work for a limited time.",
            status=400,
            tone="error",
            more="Enter your address below: we will mail you a fresh link.",
            ask_again=True,
        )
    reason = str(exc)
    return _message(
        request,
        "This link does not work",
        f"{reason[:1].upper()}{reason[1:]}.",
        status=400,
        tone="error",
        more="Copy the whole link from the mail, or ask for a new one below.",
        ask_again=True,
    )


def _too_long(*values: str) -> bool:
    return any(len(v) > MAX_FIELD for v in values)


# -- subscribe -------------------------------------------------------------------------------
@router.get("/subscribe", response_class=HTMLResponse)
def subscribe_form(request: Request, topic: str = ""):
    """The subscribe form; `?topic=` pre-fills a topic alert (e.g. from a search page)."""
    values = {"topics": topic[:200]} if topic else {}
    return _page(request, "subscribe.html", values=values, error="")


@router.post("/subscribe", response_class=HTMLResponse)
def subscribe(
    request: Request,
    background: BackgroundTasks,
    email: str = Form(""),
    name: str = Form(""),
    topics: str = Form(""),
    frequency: str = Form("daily"),
    include_top: str = Form(""),
):
    values = {
        "email": email[:254],
        "name": name[:100],
        "topics": topics[:2200],
        "frequency": frequency,
        "include_top": bool(include_top),
    }
    auth.check_origin(request)  # 403 for a form posted from another site
    if _too_long(email, name, topics, frequency):
        return _page(
            request,
            "subscribe.html",
            400,
            values=values,
            error="That is far more text than a subscription needs.",
        )
    subs = _subscriptions(request)
    try:
        form = subs.check_form(
            email, topics=topics, frequency=frequency, name=name, include_top=bool(include_top)
        )
    except InvalidSubscription as exc:
        return _page(request, "subscribe.html", 400, values=values, error=str(exc))
    try:
        # Counted whether or not a mail follows, so the limit tells nothing about an address.
        limits.check(subs.store, limits.SUBSCRIBE, f"ip:{limits.client_address(request)}")
    except limits.RateLimited as exc:
        minutes = math.ceil(exc.retry_after / 60)
        page = _page(
            request,
            "subscribe.html",
            429,
            values=values,
            error=f"Too many subscription requests from your network: try again in "
            f"{minutes} minute{'' if minutes == 1 else 's'}.",
        )
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    answer = subs.ask(form)
    background.add_task(_send_quietly, subs, answer)
    # The same words whatever the address's state: the form must not tell who subscribes.
    return _message(
        request,
        "Check your inbox",
        f"If {answer.subscriber.email} can receive mail, a message is on its way. "
        "Open the link in it to confirm.",
        more="Nothing arrives? Look in the spam folder, or try again in a few minutes.",
    )


def _send_quietly(subs: Subscriptions, answer) -> None:
    try:
        subs.send_request_mail(answer)
    except DeliveryError as exc:
        log.warning(
            "could not send the %s mail to %s: %s", answer.mail, answer.subscriber.email, exc
        )


# -- confirm ---------------------------------------------------------------------------------
@router.get("/subscriptions/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: str = ""):
    subs = _subscriptions(request)
    try:
        subscriber_id, nonce = subs.links.read("confirm", token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    subscriber = subs.store.subscriber(subscriber_id)
    if subscriber is None or subscriber.nonce != nonce:
        return _bad_link(
            request,
            LinkInvalid("this confirmation link was replaced by a newer one: use the latest mail"),
        )
    if subscriber.status != "pending":
        return _confirmed(request, subs, subscriber)
    return _page(request, "confirm.html", subscriber=subscriber, token=token)


@router.post("/subscriptions/confirm", response_class=HTMLResponse)
def confirm(request: Request, token: str = Form("")):
    subs = _subscriptions(request)
    try:
        subscriber = subs.confirm(token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    return _confirmed(request, subs, subscriber)


def _confirmed(request: Request, subs: Subscriptions, subscriber) -> HTMLResponse:
    if subscriber.status in ("active", "paused"):
        return _message(
            request,
            "You are subscribed",
            f"{subscriber.email} will get the {subscriber.frequency} digest.",
            link=subs.links.preferences_url(subscriber),
            link_text="Change frequency or topics",
        )
    return _message(
        request,
        "Not subscribed",
        f"{subscriber.email} is {subscriber.status}: no mail goes to it.",
        tone="error",
        link="/subscribe",
        link_text="Subscribe again",
    )


# -- unsubscribe -----------------------------------------------------------------------------
@router.get("/subscriptions/unsubscribe", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str = ""):
    subs = _subscriptions(request)
    try:
        subscriber_id, _ = subs.links.read("unsubscribe", token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    subscriber = subs.store.subscriber(subscriber_id)
    if subscriber is None or subscriber.status == "unsubscribed":
        return _message(request, "Unsubscribed", "No more mail goes to this address.")
    return _page(
        request,
        "unsubscribe.html",
        subscriber=subscriber,
        token=token,
        preferences_url=subs.links.preferences_url(subscriber),
    )


@router.post("/subscriptions/unsubscribe", response_class=HTMLResponse)
def unsubscribe(request: Request, token: str = ""):
    """RFC 8058 one-click: the token is in the URL; the body (List-Unsubscribe=One-Click) and
    the Origin do not matter, mail providers post from their own servers."""
    subs = _subscriptions(request)
    try:
        subscriber = subs.unsubscribe(token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    return _message(
        request,
        "Unsubscribed",
        f"No more mail goes to {subscriber.email}.",
        link="/subscribe",
        link_text="Changed your mind? Subscribe again",
    )


# -- preferences -----------------------------------------------------------------------------
def _preferences(
    request: Request,
    subs: Subscriptions,
    subscriber,
    token: str,
    status: int = 200,
    saved: bool = False,
    error: str = "",
    typed: str | None = None,
) -> HTMLResponse:
    topics_text = typed if typed is not None else "\n".join(subscriber.topics)
    return _page(
        request,
        "preferences.html",
        status,
        subscriber=subscriber,
        token=token,
        saved=saved,
        error=error,
        topics_text=topics_text,
        max_topics=subs.settings.mail_max_topics,
    )


@router.get("/subscriptions/preferences", response_class=HTMLResponse)
def preferences_page(request: Request, token: str = ""):
    subs = _subscriptions(request)
    try:
        subscriber = subs.for_preferences(token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    return _preferences(request, subs, subscriber, token)


@router.post("/subscriptions/preferences", response_class=HTMLResponse)
def save_preferences(
    request: Request,
    token: str = Form(""),
    frequency: str = Form("daily"),
    topics: str = Form(""),
    include_top: str = Form(""),
    paused: str = Form(""),
    action: str = Form("save"),
):
    subs = _subscriptions(request)
    try:
        subscriber = subs.for_preferences(token)
    except LinkInvalid as exc:
        return _bad_link(request, exc)
    if action == "unsubscribe":
        subs.store.unsubscribe(subscriber.id)
        return _message(
            request,
            "Unsubscribed",
            f"No more mail goes to {subscriber.email}.",
            link="/subscribe",
            link_text="Changed your mind? Subscribe again",
        )
    if _too_long(topics, frequency):
        return _preferences(
            request, subs, subscriber, token, 400, error="That is far more text than topics need."
        )
    try:
        subscriber = subs.save_preferences(
            token, frequency, topics, bool(include_top), bool(paused)
        )
    except InvalidSubscription as exc:
        return _preferences(
            request, subs, subscriber, token, 400, error=str(exc), typed=topics[:2200]
        )
    return _preferences(request, subs, subscriber, token, saved=True)
