"""The `paperboy` command: import, sync, list the feed, run the demo.

Every command reads the same Settings (PAPERBOY_* env, --config file, then its own options).
Errors a user can fix end with a one-line message and exit status 1, never a traceback.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from paperboy.config import ConfigError, Settings
from paperboy.store import StoreError, open_store


class Context:
    def __init__(self, config: str | None, data_dir: str | None):
        self._config, self._data_dir = config, data_dir
        self._settings = None
        self._store = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self._config, data_dir=self._data_dir)
        return self._settings

    @property
    def store(self):
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store


def fail(message: str) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(1)


class Group(click.Group):
    """Turns the errors a user can fix into one clear line instead of a traceback."""

    def invoke(self, ctx):
        from paperboy.sources import SourceError

        try:
            return super().invoke(ctx)
        except (ConfigError, StoreError, SourceError) as exc:
            fail(str(exc))


@click.group(cls=Group)
@click.option("--config", type=click.Path(dir_okay=False), envvar="PAPERBOY_CONFIG",
              help="A TOML config file (default: none; PAPERBOY_CONFIG).")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Where the store and indexes live (default: PAPERBOY_DATA_DIR or the "
                   "per-user data dir).")
@click.version_option(package_name="paperboy")
@click.pass_context
def main(ctx, config, data_dir):
    """paperboy: a self-hosted research-paper feed and search."""
    ctx.obj = Context(config, data_dir)


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--quiet", is_flag=True, help="No progress output, only the summary.")
@click.pass_obj
def import_(obj: Context, files, quiet):
    """Bulk-load papers from FILES (JSON lines, plain or .gz, or a JSON array).

    Reads the arXiv metadata snapshot, Hugging Face daily-papers items and arXiv listing rows.
    Records that break a field's type or size limit are rejected with file:line and the reason;
    the rest is stored. Interrupted or failed imports resume where they stopped when run again.
    Exits with status 1 when a file's every record was rejected.
    """
    from paperboy.ingest import import_file
    from paperboy.search import update_indexes
    from paperboy.search.index import IndexAlongside

    failed = []
    # A big import is indexed while it is stored (both cores busy); the update after it
    # does the rest, or everything after a small import.
    with IndexAlongside(obj.store, obj.settings, progress=not quiet,
                        files=[Path(f) for f in files]) as alongside:
        for path in files:
            run = import_file(obj.store, Path(path), obj.settings, show_progress=not quiet)
            _report(obj.store, run, path)
            if run.status == "failed":
                failed.append(run)
    report = update_indexes(obj.store, obj.settings, progress=not quiet)
    click.echo(alongside.report.plus(report).summary())
    if failed:
        fail("; ".join(run.message for run in failed))


def _report(store, run, label: str) -> None:
    resumed = " (resumed)" if run.resumed else ""
    click.echo(f"{label}{resumed}: {run.summary()}")
    for location, reason in store.rejections(run.id, limit=10):
        click.echo(f"  rejected {location}: {reason}")
    if run.rejected > 10:
        click.echo(f"  ... and {run.rejected - 10} more (paperboy runs --id {run.id})")


@main.command()
@click.option("--id", "run_id", type=int, help="Show one run with its rejected records.")
@click.pass_obj
def runs(obj: Context, run_id):
    """Recent import, sync and harvest runs with their counts."""
    store = obj.store
    if run_id is not None:
        for location, reason in store.rejections(run_id, limit=1000):
            click.echo(f"{location}: {reason}")
        return
    for r in store.runs():
        click.echo(
            f"#{r['id']} {r['started_at']} {r['kind']} {r['status']}: added {r['added']}, "
            f"updated {r['updated']}, unchanged {r['unchanged']}, rejected {r['rejected']}"
            f"  {r['source']}" + (f"\n    {r['message']}" if r["message"] else "")
        )


@main.command()
@click.option("--date", "day", help="YYYY-MM-DD (default: the latest day with papers). A day "
                                    "without papers shows the day before with papers; a later "
                                    "day than the newest shows the newest.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def papers(obj: Context, day, limit):
    """List one day of the daily feed, most upvoted first."""
    from paperboy.feeds import shown_day
    from paperboy.latex import to_text

    asked = None
    if day:
        try:
            asked = date.fromisoformat(day)
        except ValueError:
            fail(f"--date {day!r} is not a date; expected YYYY-MM-DD")
    store = obj.store
    when = store.latest_day()
    if when is None:
        fail("the store has no papers yet: run `paperboy import FILE` or `paperboy demo`")
    if asked:
        shown = shown_day(store, asked)
        when = shown.day
        if shown.note:
            click.echo(shown.note)
    found = store.papers_on(when, limit=limit)
    count = store.count_between(when, when)
    click.echo(f"{when.isoformat()}: {count} paper{'' if count == 1 else 's'}")
    for p in found:
        authors = ", ".join(p.authors[:3]) + (f" +{len(p.authors) - 3}" if len(p.authors) > 3
                                             else "")
        click.echo(f"{p.upvotes or 0:>5} ▲  {p.id:<12} {to_text(p.title)}\n{'':21}{authors}")


@main.command()
@click.option("--no-serve", is_flag=True, help="Load the demo corpus, list it, and exit.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on (default 8000).")
@click.pass_obj
def demo(obj: Context, no_serve, port):
    """Load the bundled demo corpus (real HF daily papers) if the store is empty, then serve."""
    from paperboy.demo import load_demo

    loaded = load_demo(obj.store, obj.settings)
    if loaded is not None:
        click.echo(f"demo corpus: {loaded.summary()}")
    ctx = click.get_current_context()
    if no_serve:
        ctx.invoke(papers)
        return
    from paperboy.web.cli import run_server

    run_server(obj, None, port, workers=1, access_log=False)


def _register() -> None:
    """Commands that live in their own modules."""
    from paperboy.cli_store import migrate_store
    from paperboy.submissions_commands import submissions
    from paperboy.sync_commands import fetch, harvest, sync
    from paperboy.media_commands import keywords, stars, thumbnails

    main.add_command(migrate_store)
    main.add_command(submissions)  # the queue of papers submitted on the web
    for command in (sync, harvest, fetch):  # sources (paperboy/sync_commands.py)
        main.add_command(command)
    main.add_command(thumbnails)  # paper media (paperboy/media_commands.py)
    main.add_command(stars)
    main.add_command(keywords)
    from paperboy.web.cli import serve, user

    for command in (serve, user):  # the web service (paperboy/web/cli.py)
        main.add_command(command)


_register()


from paperboy.mail.cli import register as register_mail  # noqa: E402  (issue 5: mail commands)

register_mail(main)


from paperboy.search.commands import register as _register_search  # noqa: E402

_register_search(main)

if __name__ == "__main__":  # pragma: no cover
    main()
