"""`paperboy migrate-store`: move a deployment between stores (see store/transfer.py)."""

from __future__ import annotations

from pathlib import Path

import click

from paperboy.config import Settings
from paperboy.store import open_store


@click.command("migrate-store")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="URL",
    help="The SQLite store to copy: sqlite:///path/to/paperboy.sqlite3",
)
@click.option(
    "--to",
    "target",
    required=True,
    metavar="URL",
    help="The store to fill: postgresql://user@host/dbname",
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The data dir whose index/vectors/ to carry over (default: the SQLite file's folder).",
)
def migrate_store(source, target, index_dir):
    """Copy every table from one store to another; rerun to resume; counts are checked.

    Into PostgreSQL (with search_backend auto or postgres), the embedding vectors already
    computed are copied into its tables too, so no paper is encoded again."""
    from paperboy.store.transfer import copy_store

    src = open_store(Settings.load(database_url=source))
    target_settings = Settings.load(database_url=target)
    dst = open_store(target_settings)
    last_table = None

    def progress(table: str, copied: int) -> None:
        nonlocal last_table
        if table != last_table:
            last_table = table
            click.echo(f"{table}: ...", err=True)
        click.echo(f"{table}: {copied:,} rows copied", err=True)

    report = copy_store(src, dst, on_progress=progress)
    for t in report:
        click.echo(
            f"{t.name}: {t.source_rows:,} rows in source, {t.target_rows:,} in target "
            f"({t.copied:,} copied this run)"
        )
    click.echo(f"done: {dst.location} matches {src.location}")
    _carry_vectors(src, dst, target_settings, index_dir)
    src.close()
    dst.close()


def _carry_vectors(src, dst, settings: Settings, index_dir: Path | None) -> None:
    from paperboy.search.upkeep import search_backend

    if search_backend(dst, settings) != "postgres":
        return
    from paperboy.search.postgres import carry_vectors

    folder = index_dir or Path(src.location).parent
    copied = carry_vectors(
        folder,
        dst,
        settings,
        on_progress=lambda model, n: click.echo(f"vectors {model}: {n:,}", err=True),
    )
    for model, rows in copied.items():
        click.echo(f"vectors {model}: {rows:,} rows carried over from {folder / 'index'}")
    if not copied:
        click.echo(
            f"no vectors under {folder / 'index'}: the search tables are filled from "
            "the store on first use (paperboy index)"
        )
