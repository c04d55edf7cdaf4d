"""The environment tests give paperboy: never the developer's PAPERBOY_* settings.

Tests that are not about search quality index with the bundled static model and no passages:
the transformer would spend seconds on every test store. The search tests choose their models
themselves (tests/search_helpers.py), and the search benchmarks use the defaults.
"""

import os

FAST_SEARCH = {
    "PAPERBOY_SEARCH_MODEL": "static",
    "PAPERBOY_SEARCH_PASSAGES": "false",
    # A sync would fetch PDFs from arxiv.org; the thumbnail tests turn this on.
    "PAPERBOY_SYNC_THUMBNAILS": "0",
    "PAPERBOY_SYNC_STARS": "0",
}


def subprocess_env() -> dict[str, str]:
    """The environment for a paperboy subprocess: the test machine's, less PAPERBOY_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERBOY_")}
    return env | FAST_SEARCH


def reset(monkeypatch) -> None:
    """Remove the developer's PAPERBOY_* variables for one test; keep the fast search."""
    for name in list(os.environ):
        if name.startswith("PAPERBOY_"):
            monkeypatch.delenv(name)
    for name, value in FAST_SEARCH.items():
        monkeypatch.setenv(name, value)
