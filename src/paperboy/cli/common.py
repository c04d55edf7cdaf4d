"""What every `paperboy` command shares: the context (settings and store, opened on first use),
the one way to stop with an error, the one date option type, and the run report.

    @click.command()
    @click.option("--since", type=DAY, help="YYYY-MM-DD")
    @click.pass_obj
    def sync(obj: Context, since: date | None): ...
        fail("the store has no papers yet")   # "error: ..." on stderr, exit status 1
"""

from __future__ import annotations

import os
from datetime import date
from typing import NoReturn

import click

from paperboy.config import Settings
from paperboy.store import open_store


class Context:
    """The settings this command runs with (PAPERBOY_* env, --config, --data-dir) and the
    store, both made on first use so `--help` and usage errors touch neither."""

    def __init__(self, config: str | None, data_dir: str | None):
        self.config_file, self._data_dir = config, data_dir
        self._settings: Settings | None = None
        self._store = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = Settings.load(self.config_file, data_dir=self._demo_or(self._data_dir))
        return self._settings

    def _demo_or(self, data_dir: str | None) -> str | None:
        """Run from the clone after `make demo`, with no data dir asked for: the demo's."""
        from paperboy.demo_dir import demo_dir_here

        if (
            data_dir
            or self.config_file
            or os.environ.get("PAPERBOY_DATA_DIR")
            or os.environ.get("PAPERBOY_DATABASE_URL")
        ):
            return data_dir
        found = demo_dir_here()
        if found is not None:
            click.echo(
                f"(using the demo's store in {found.name}/; set PAPERBOY_DATA_DIR or "
                "--data-dir for another)",
                err=True,
            )
            return str(found)
        return None

    def use_settings(self, settings: Settings) -> None:
        """Run with these settings instead (before the store is opened)."""
        self._settings = settings

    @property
    def store(self):
        if self._store is None:
            self._store = open_store(self.settings)
        return self._store


class Failed(click.ClickException):
    """An error the user can fix: one line, `error: ...`, on stderr; exit status 1."""

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


def fail(message: str) -> NoReturn:
    raise Failed(message)


def parse_day(value: str) -> date:
    """A YYYY-MM-DD day; ValueError with the message every date option shows."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date; expected YYYY-MM-DD") from None


class Day(click.ParamType):
    """The date option type: YYYY-MM-DD, or a usage error naming the option."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> date:
        if isinstance(value, date):
            return value
        try:
            return parse_day(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


DAY = Day()


def report_run(store, run, label: str) -> None:
    """A run's summary line, then up to ten of its rejected records with where and why."""
    resumed = " (resumed)" if run.resumed else ""
    click.echo(f"{label}{resumed}: {run.summary()}")
    for location, reason in store.rejections(run.id, limit=10):
        click.echo(f"  rejected {location}: {reason}")
    if run.rejected > 10:
        click.echo(f"  ... and {run.rejected - 10} more (paperboy runs --id {run.id})")
