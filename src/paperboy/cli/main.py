"""The `paperboy` group: its options, its error handling, and every command, added in one list.

Every command is a plain `@click.command()` (or group) in the module of its topic; this module
adds them all, so the list below is the whole CLI (docs/cli.md is checked against it).
"""

from __future__ import annotations

import click

from paperboy.cli import mail, media, papers, search, store, submissions, sync, web
from paperboy.cli.common import Context, fail
from paperboy.config import ConfigError
from paperboy.sources import SourceError
from paperboy.store import StoreError


class Group(click.Group):
    """Turns the errors a user can fix into one clear line instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (ConfigError, StoreError, SourceError) as exc:
            fail(str(exc))


@click.group(cls=Group)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    envvar="PAPERBOY_CONFIG",
    help="A TOML config file (default: none; PAPERBOY_CONFIG).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the store and indexes live (default: PAPERBOY_DATA_DIR or the per-user data dir).",
)
@click.version_option(package_name="paperboy")
@click.pass_context
def main(ctx, config, data_dir):
    """paperboy: a self-hosted research-paper feed and search."""
    ctx.obj = Context(config, data_dir)


COMMANDS = [
    papers.import_,
    papers.runs,
    papers.papers,
    papers.demo,  # the store's papers
    sync.sync,
    sync.harvest,
    sync.fetch,  # sources
    submissions.submissions,  # the queue of papers submitted on the web
    search.search,
    search.index,  # search and its indexes
    media.thumbnails,
    media.stars,
    media.keywords,  # paper media: first pages, stars, keywords
    web.serve,
    web.user,  # the web service and its accounts
    mail.subscribe,
    mail.unsubscribe,
    mail.subscribers,
    mail.digest,  # digests and alerts
    store.migrate_store,  # moving a deployment
]
for _command in COMMANDS:
    main.add_command(_command)
