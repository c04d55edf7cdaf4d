"""Accounts on the web: argon2 passwords, session cookies, API tokens and CSRF checks.

- A session is a random cookie value; the store keeps only its SHA-256, so a copied database
  does not sign anyone in. Cookies are HttpOnly, SameSite=Lax, and Secure over https.
- CSRF: every page sets a random `pb_csrf` cookie and puts the same value in its forms (and in
  a <meta> tag for scripts); a state-changing request must send it back as the `csrf_token`
  field or the `X-CSRF-Token` header, and a foreign `Origin` is refused outright.
- API clients may send `Authorization: Bearer <token>` instead; such requests carry no ambient
  credential, so they need no CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import HTTPException, Request, Response

from paperboy.store.accounts import User

SESSION_COOKIE = "pb_session"
CSRF_COOKIE = "pb_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_DAYS = 30
NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{1,31}")
MIN_PASSWORD = 8
_UNSET = object()

_hasher = PasswordHasher()  # stateless: argon2id with the library's recommended parameters
# Verified against when a name is unknown, so a failed sign-in takes the same time either way.
DUMMY_HASH = _hasher.hash("not a real password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_account(name: str, password: str) -> str | None:
    """Why this name/password cannot be used, or None when they can."""
    if not NAME_RULE.fullmatch(name or ""):
        return "a name is 2 to 32 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if len(password or "") < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    return None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(store, response: Response, request: Request, user: User) -> None:
    token = new_token()
    expires = datetime.now(UTC) + timedelta(days=SESSION_DAYS)
    store.create_session(user.id, token_hash(token), expires)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )
    # A fresh CSRF value at sign-in, so a value planted before it is worthless after.
    set_csrf_cookie(response, request, new_token())


def end_session(store, response: Response, request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        store.delete_session(token_hash(token))
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request)
    )


def session_user(store, request: Request) -> User | None:
    """The signed-in user (cached on the request), or None."""
    user = getattr(request.state, "user", _UNSET)
    if user is _UNSET:
        token = request.cookies.get(SESSION_COOKIE)
        user = request.state.user = store.session_user(token_hash(token)) if token else None
    return user


def signed_in(store, request: Request, csrf_token: str | None = None) -> User:
    """The signed-in user, or 401 "sign in first". With `csrf_token` (a form post's field,
    "" when it sent none) the request's CSRF token is checked first: 403 when it fails."""
    if csrf_token is not None:
        check_csrf(request, csrf_token)
    user = session_user(store, request)
    if user is None:
        raise HTTPException(401, "sign in first")
    return user


def bearer_user(store, request: Request) -> User | None:
    """The user of an `Authorization: Bearer` API token; 401 when a token is given but wrong."""
    header = request.headers.get("authorization", "")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "the Authorization header must be 'Bearer <API token>'")
    user = store.api_token_user(token_hash(token.strip()))
    if user is None:
        raise HTTPException(401, "unknown or revoked API token")
    return user


def csrf_value(request: Request) -> str:
    """The CSRF value for this page's forms: the cookie's, or a new one set on the response."""
    value = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not value:
        value = request.state.new_csrf = new_token()
    return value


def set_csrf_cookie(response: Response, request: Request, value: str) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        value,
        max_age=SESSION_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def check_origin(request: Request) -> None:
    """Refuse a state-changing request that a browser says came from another site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = urlsplit(origin).netloc
        if host != request.headers.get("host", ""):
            raise HTTPException(403, f"cross-site request refused (Origin {origin})")


def check_csrf(request: Request, submitted: str | None) -> None:
    """403 unless the submitted value (form field or header) matches the CSRF cookie."""
    check_origin(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    submitted = submitted or request.headers.get(CSRF_HEADER)
    # Compared as bytes: compare_digest raises TypeError on non-ASCII str (a forged value).
    if not cookie or not submitted or not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise HTTPException(
            403, "the form's security token is missing or stale: reload the page and try again"
        )
