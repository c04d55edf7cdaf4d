"""The search backends keep the declared contract (search/backends.py), and stay apart: the
engine and the updater know the Protocols, not the backends, and neither backend imports the
other (only postgres/carry.py reads files to fill tables)."""

from __future__ import annotations

import ast
from pathlib import Path

from paperboy.config import Settings
from paperboy.search.backends import IndexSet, KeywordIndex, VectorIndex
from paperboy.search.upkeep import open_indexes
from paperboy.store import open_store

SEARCH = Path(__file__).resolve().parents[1] / "src" / "paperboy" / "search"


def test_each_backend_answers_the_declared_protocols(backend, database_url, tmp_path, clean_env):
    settings = Settings.load(
        data_dir=tmp_path / "d",
        database_url=database_url,
        search_model="static",
        search_bulk_model="static",
    )
    store = open_store(settings)
    try:
        indexes = open_indexes(store, settings)
        assert type(indexes).__module__.startswith(
            "paperboy.search.files" if backend == "sqlite" else "paperboy.search.postgres"
        )
        assert isinstance(indexes, IndexSet)
        assert isinstance(indexes.keyword, KeywordIndex)
        for vectors in (indexes.dense, indexes.bulk):
            assert isinstance(vectors, VectorIndex)
        # the fusion weighs the keyword side by how it ranks (fusion.keyword_weight_for)
        assert indexes.keyword_ranking == ("bm25" if backend == "sqlite" else "ts_rank")
    finally:
        store.close()


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_backends_do_not_import_each_other_nor_the_engine_them():
    rules = {  # folder or module -> what it must not import
        "files": ("paperboy.search.postgres",),
        "postgres": ("paperboy.search.files",),
        "updater.py": (
            "paperboy.search.files",
            "paperboy.search.postgres",
            "paperboy.search.upkeep",
        ),
        "engine.py": ("paperboy.search.files", "paperboy.search.postgres"),
        "backends.py": (
            "paperboy.search.files",
            "paperboy.search.postgres",
            "paperboy.search.updater",
            "paperboy.search.upkeep",
        ),
    }
    allowed = {
        ("postgres/carry.py", "paperboy.search.files.indexes"),
        ("postgres/carry.py", "paperboy.search.files.vectors"),
    }
    crossings = []
    for name, banned in rules.items():
        paths = (
            sorted((SEARCH / name).rglob("*.py")) if (SEARCH / name).is_dir() else [SEARCH / name]
        )
        for path in paths:
            rel = path.relative_to(SEARCH).as_posix()
            crossings += [
                (rel, module)
                for module in _imports(path)
                if module.startswith(banned) and (rel, module) not in allowed
            ]
    assert not crossings, f"search backends crossing each other: {crossings}"
