"""Shared fixtures: a real SQLite store in a temporary data directory, and fixture paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperboy.config import Settings
from paperboy.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    # Tests never read the developer's own config or data.
    for name in list(__import__("os").environ):
        if name.startswith("PAPERBOY_"):
            monkeypatch.delenv(name)
    return Settings.load(data_dir=tmp_path / "data")


@pytest.fixture
def store(settings):
    store = open_store(settings)
    yield store
    store.close()


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
