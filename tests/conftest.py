"""Shared fixtures: a real store (SQLite file, or a real PostgreSQL database), fixture paths.

Tests that take `store` run against BOTH backends: `store[sqlite]` and `store[postgres]`.
`-m "not postgres"` skips the PostgreSQL runs (e.g. on a machine without the server wheel).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paperboy.config import Settings
from paperboy.store import open_store
from tests.environment import reset

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "postgres" in callspec.params.values():
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def postgres_server():
    from tests.postgres import TestPostgres

    server = TestPostgres()
    yield server
    server.stop()


@pytest.fixture
def clean_env(monkeypatch):
    # Tests never read the developer's own config or data.
    reset(monkeypatch)


@pytest.fixture
def settings(tmp_path, clean_env) -> Settings:
    """Settings for an SQLite store in a temporary data directory."""
    return Settings.load(data_dir=tmp_path / "data")


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    return request.param


@pytest.fixture
def database_url(backend, request) -> str:
    """ "" (SQLite in the data dir) or a fresh PostgreSQL database (dropped afterwards), for
    the backend parameter."""
    if backend == "sqlite":
        yield ""
        return
    server = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def backend_settings(database_url, tmp_path, clean_env) -> Settings:
    """Settings for the parametrised backend (a fresh PostgreSQL database per test)."""
    return Settings.load(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def store(backend_settings):
    store = open_store(backend_settings)
    yield store
    store.close()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


pytest_plugins = ["tests.mail_fixtures"]
