"""The layers of docs/architecture.md hold: no module imports a layer above its own.

    domain (papers, records, config, bounds, links, system, progress, data)
      <- store, sources  <- search, feeds  <- ingest, sync, submissions, mail  <- web, cli

`KNOWN` listed the crossings that were there when this test was written; the architecture
issue removed them all, so the test now fails on any upward import. Keep it empty.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "paperboy"

LAYERS = {
    "papers": 0,
    "config": 0,
    "bounds": 0,
    "links": 0,
    "system": 0,
    "progress": 0,
    "data": 0,
    "latex": 0,
    "demo_dir": 0,
    "records": 0,
    "library": 0,
    "citations": 0,
    "store": 1,
    "sources": 1,
    "search": 2,
    "feeds": 2,
    "foryou": 2,
    "ingest": 3,
    "sync": 3,
    "submissions": 3,
    "mail": 3,
    "demo": 3,
    "thumbnails": 3,
    "stars": 3,
    "web": 4,
    "cli": 4,
    "__main__": 4,
    "__init__": 0,
}

# (importer, imported) pairs by top-level name, to be removed; never add to this list.
KNOWN: set[tuple[str, str]] = set()


def _layer(module: str) -> int:
    top = module.split(".")[0]
    if top not in LAYERS:
        raise AssertionError(
            f"paperboy.{module} has no layer: add it to LAYERS and to docs/architecture.md"
        )
    return LAYERS[top]


def _imports(path: Path) -> set[str]:
    """The paperboy modules a file imports (relative to the package), at any depth."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "paperboy":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("paperboy."):
                found.add(node.module.removeprefix("paperboy."))
        elif isinstance(node, ast.Import):
            found.update(
                a.name.removeprefix("paperboy.")
                for a in node.names
                if a.name.startswith("paperboy.")
            )
    return found


def _crossings() -> set[tuple[str, str]]:
    crossings = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        own = _layer(rel.parts[0].removesuffix(".py"))
        for module in _imports(path):
            if _layer(module) > own:
                crossings.add((rel.as_posix(), module.split(".")[0]))
    return crossings


def test_no_module_imports_a_layer_above_its_own():
    new = _crossings() - KNOWN
    assert not new, f"upward imports (see docs/architecture.md): {sorted(new)}"


def test_the_known_crossings_are_still_there_or_struck_off():
    gone = KNOWN - _crossings()
    assert not gone, f"remove these from KNOWN, they are fixed: {sorted(gone)}"
