"""Sign-up, sign-in, sign-out and the account page (API tokens), all without third parties.

Passwords are hashed with argon2id; sign-up is rate limited per client address, sign-in per
client address and per name from that address, and wrong passwords for a name slow down the
addresses that sent them (never the others: see web/limits.py); every form carries the CSRF
token.
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from paperboy.store.accounts import NameTaken
from paperboy.store.library import Library
from paperboy.store.people import People
from paperboy.store.replies import Replies
from paperboy.web import auth, limits
from paperboy.web.deps import web_of
from paperboy.web.pages import safe_next

router = APIRouter(include_in_schema=False)


@router.get("/signup")
def signup_form(request: Request, next: str = ""):
    return web_of(request).render(
        request, "signup.html", error=None, name="", email="", next=safe_next(next)
    )


@router.post("/signup")
def signup(
    request: Request,
    background: BackgroundTasks,
    name: str = Form(""),
    password: str = Form(""),
    email: str = Form(""),
    digest: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    limits.check(web.store, limits.SIGN_UP, f"ip:{limits.client_address(request)}")
    name, email = name.strip(), email.strip()
    problem = auth.check_new_account(name, password)
    if email and ("@" not in email or len(email) > 254):
        problem = f"{email!r} does not look like an email address"
    if problem is None:
        try:
            user = web.store.create_user(name, auth.hash_password(password), email or None)
        except NameTaken:
            problem = f"the name {name!r} is taken; choose another"
    if problem:
        return web.render(
            request,
            "signup.html",
            status=400,
            error=problem,
            name=name,
            email=email,
            next=safe_next(next),
        )
    if email and digest:  # the confirmation mail goes to the address (account_digests.py)
        from paperboy.web.account_digests import ask_for_digest

        ask_for_digest(request, background, email, name)
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.start_session(web.store, response, request, user)
    return response


@router.get("/signin")
def signin_form(request: Request, next: str = ""):
    return web_of(request).render(request, "signin.html", error=None, name="", next=safe_next(next))


@router.post("/signin")
def signin(
    request: Request,
    name: str = Form(""),
    password: str = Form(""),
    csrf_token: str = Form(""),
    next: str = Form(""),
):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    name, address = name.strip(), limits.client_address(request)
    limits.check_signin(web.store, name, address)
    found = web.store.credentials(name)
    # Verify against a dummy hash for unknown names too, so timing does not reveal accounts
    # (and unknown names count failures alike, so the backoff does not reveal them either).
    ok = auth.verify_password(found[1] if found else auth.DUMMY_HASH, password)
    if not found or not ok:
        limits.signin_failed(web.store, name, address)
        return web.render(
            request,
            "signin.html",
            status=401,
            name=name,
            next=safe_next(next),
            error="wrong name or password",
        )
    limits.signin_succeeded(web.store, name, address)
    response = RedirectResponse(safe_next(next), status_code=303)
    auth.start_session(web.store, response, request, found[0])
    return response


@router.post("/signout")
def signout(request: Request, csrf_token: str = Form("")):
    web = web_of(request)
    auth.check_csrf(request, csrf_token)
    response = RedirectResponse("/", status_code=303)
    auth.end_session(web.store, response, request)
    return response


def account_page(request: Request, user, status: int = 200, **context) -> HTMLResponse:
    """The account page with everything every answer shows on it (tokens, digest, reply-mail
    and vote settings); `context` adds what one answer says (a new token, a refusal)."""
    web = web_of(request)
    values = {
        "tokens": web.store.api_tokens(user.id),
        "new_token": None,
        "digest": "",
        "replies_state": "",
        "votes_hidden": People(web.store).votes_hidden(user.id),
        "reply_mail_to": Replies(web.store).address(user.id),
        "verified_email": Library(web.store).verified_email(user.id),
        "verify_state": "",
    }
    return web.render(request, "account.html", status=status, **(values | context))


@router.get("/account")
def account(request: Request, digest: str = "", replies: str = "", verify: str = ""):
    web = web_of(request)
    user = auth.session_user(web.store, request)
    if user is None:
        return RedirectResponse("/signin?" + urlencode({"next": "/account"}), status_code=303)
    return account_page(
        request,
        user,
        digest="asked" if digest == "asked" else "",
        replies_state="asked" if replies == "asked" else "",
        verify_state="asked" if verify == "asked" else "",
    )


@router.post("/account/tokens")
def create_token(request: Request, name: str = Form(""), csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    label = name.strip()[:64] or "API token"
    token = auth.new_token()
    web.store.create_api_token(user.id, label, auth.token_hash(token))
    return account_page(request, user, status=201, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, token_id: int, csrf_token: str = Form("")):
    web = web_of(request)
    user = auth.signed_in(web.store, request, csrf_token)
    if not web.store.revoke_api_token(user.id, token_id):
        raise HTTPException(404, f"you have no API token #{token_id}")
    return RedirectResponse("/account", status_code=303)
