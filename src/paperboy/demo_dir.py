"""The demo's data directory: how `paperboy demo` marks it and how the CLI finds it again.

`paperboy demo` writes a marker file into its data directory. A data directory with the marker
is a demo: mail goes to a local outbox (mail_backend "auto") and the site shows it at /_outbox.
Run from the clone, every `paperboy` command without --data-dir or PAPERBOY_DATA_DIR uses the
demo's `.demo-data/` when it holds the marker, and says so, so the README's lines read the demo.
"""

from __future__ import annotations

from pathlib import Path

MARKER = "DEMO"
DEMO_DIR = ".demo-data"  # the Makefile's DEMO_DIR


def is_demo(data_dir: Path) -> bool:
    return (Path(data_dir) / MARKER).is_file()


def mark_demo(data_dir: Path) -> None:
    path = Path(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text(
        "Made by `paperboy demo`: mail goes to outbox/ and the site lists it at /_outbox.\n"
    )


def demo_dir_here(cwd: Path | None = None) -> Path | None:
    """The demo's data directory under the working directory, when `paperboy demo` made one."""
    candidate = (cwd or Path.cwd()) / DEMO_DIR
    return candidate if is_demo(candidate) else None
