"""`paperboy migrate-store`: move a deployment between stores (see store/transfer.py)."""

from __future__ import annotations

import click

from paperboy.config import Settings
from paperboy.store import open_store


@click.command("migrate-store")
@click.option("--from", "source", required=True, metavar="URL",
              help="The SQLite store to copy: sqlite:///path/to/paperboy.sqlite3")
@click.option("--to", "target", required=True, metavar="URL",
              help="The store to fill: postgresql://user@host/dbname")
def migrate_store(source, target):
    """Copy every table from one store to another; rerun to resume; counts are checked."""
    from paperboy.store.transfer import copy_store

    src = open_store(Settings.load(database_url=source))
    dst = open_store(Settings.load(database_url=target))
    last_table = None

    def progress(table: str, copied: int) -> None:
        nonlocal last_table
        if table != last_table:
            last_table = table
            click.echo(f"{table}: ...", err=True)
        click.echo(f"{table}: {copied:,} rows copied", err=True)

    report = copy_store(src, dst, on_progress=progress)
    for t in report:
        click.echo(f"{t.name}: {t.source_rows:,} rows in source, {t.target_rows:,} in target "
                   f"({t.copied:,} copied this run)")
    click.echo(f"done: {dst.location} matches {src.location}")
    src.close()
    dst.close()
