"""Records the store hands out for the web service's accounts: users and API tokens.

The SQL lives in store/sql.py (the accounts part of `SQLStore`, which both backends run);
these are the plain records and errors every backend shares.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperboy.store import StoreError


class NameTaken(StoreError):
    """A user with this name (case-insensitive) exists already."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str | None
    is_admin: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class ApiToken:
    """An API token's metadata; the token itself is shown once and only its hash is stored."""

    id: int
    name: str
    created_at: str
