"""Digests from the account: sign-up's "mail me the digest" box and the account page's form.

An account's email address is not verified, so the account never manages a subscription by
itself: both forms ask for one exactly as /subscribe does (web/subscriptions.py), and the mail
that answers goes to the address. A new address gets the confirmation link; an address that is
already subscribed gets its preferences link (period, topics, pause, unsubscribe). Whoever
signs up with someone else's address so learns nothing and changes nothing; the same limits
(`limits.SUBSCRIBE` per client address, one mail per address per mail_confirm_interval) hold.

    POST /account/digests   frequency=daily|weekly   (signed in, CSRF)
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse

from paperboy.mail.send import DeliveryError
from paperboy.mail.subscriptions import InvalidSubscription, Subscriptions
from paperboy.web import auth, limits
from paperboy.web.accounts import account_page
from paperboy.web.deps import web_of

log = logging.getLogger("paperboy.mail")
router = APIRouter(include_in_schema=False)


def ask_for_digest(
    request: Request, background: BackgroundTasks, email: str, name: str, frequency: str = "daily"
) -> str | None:
    """Ask for a digest subscription for `email`; the mail goes out after the response.
    None when asked, else why not (a bad period, too many requests)."""
    web = web_of(request)
    subs = Subscriptions(web.store, web.settings)
    try:
        form = subs.check_form(email, frequency=frequency, name=name)
        limits.check(web.store, limits.SUBSCRIBE, f"ip:{limits.client_address(request)}")
    except InvalidSubscription as exc:
        return str(exc)
    except limits.RateLimited:
        return "too many subscription requests from your network; try again later"
    background.add_task(_send_quietly, subs, subs.ask(form))
    return None


def _send_quietly(subs: Subscriptions, answer) -> None:
    try:
        subs.send_request_mail(answer)
    except DeliveryError as exc:
        log.warning(
            "could not send the %s mail to %s: %s", answer.mail, answer.subscriber.email, exc
        )


@router.post("/account/digests")
def account_digests(
    request: Request,
    background: BackgroundTasks,
    frequency: str = Form("daily"),
    csrf_token: str = Form(""),
):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    user = auth.session_user(web.store, request)
    if user is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/account"}), status_code=303)
    if not user.email:
        return RedirectResponse("/account", status_code=303)  # the page says to add one
    problem = ask_for_digest(request, background, user.email, user.name, frequency[:20])
    if problem:  # said on this answer, never carried in a URL another site could forge
        return account_page(request, user, status=400, digest="error", why=problem)
    return RedirectResponse("/account?digest=asked", status_code=303)
