"""The `paperboy sync`, `paperboy harvest` and `paperboy fetch` commands (see paperboy.sync).

Each prints its run's summary like `paperboy import`. When an upstream stays down, the summary
of what was stored comes first, then the reason on one line, and the exit status is 1.
"""

from __future__ import annotations

import click

from paperboy.cli.common import DAY, report_run
from paperboy.sync import RunFailed


def _finish(obj, label: str, action) -> bool:
    """Run `action()` -> Run and report it; False (after the report) when it failed. The run
    updates the search indexes itself (ingest/runs.py), also with what it stored before a
    failure."""

    try:
        run = action()
    except RunFailed as failed:
        report_run(obj.store, failed.run, label)
        click.echo(f"error: {failed}", err=True)
        return False
    report_run(obj.store, run, label)
    return True


@click.command()
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Sync only this source (hf, rss); repeatable. Default: the sync_sources setting.",
)
@click.option(
    "--since", type=DAY, help="hf: fetch from this day (YYYY-MM-DD) instead of the last synced day."
)
@click.option("--until", type=DAY, help="hf: fetch up to this day (default: today, UTC).")
@click.option("--quiet", is_flag=True, help="No progress output, only the summaries.")
@click.pass_obj
def sync(obj, sources, since, until, quiet):
    """Fetch new papers from the configured sources since the last sync.

    hf: Hugging Face daily papers, each dated by the day it entered HF's feed.
    rss: today's arXiv announcements for the arxiv_categories setting.
    A source that stays down ends with exit status 1; the others still run.
    Then GitHub star counts (sync_stars) and first-page thumbnails (sync_thumbnails) of the
    feed papers' repositories and PDFs, and the reply notices that are due (each sent once).
    """
    from paperboy.ingest.runs import one_index_update
    from paperboy.sync import SYNC_SOURCES, sync_source

    names = sources or obj.settings.sync_sources
    unknown = [n for n in names if n not in SYNC_SOURCES]
    if unknown:
        raise click.UsageError(f"unknown source {unknown[0]!r}; known: {', '.join(SYNC_SOURCES)}")
    ok = True
    with one_index_update(obj.store, obj.settings):  # once, after the last source
        for name in names:
            ok &= _finish(
                obj,
                f"sync {name}",
                lambda name=name: sync_source(
                    obj.store, obj.settings, name, today=until, since=since, show_progress=not quiet
                ),
            )
    from paperboy.cli.media import after_sync

    after_sync(obj, quiet)
    if not ok:
        raise SystemExit(1)


@click.command()
@click.option(
    "--set",
    "set_spec",
    required=True,
    help="OAI-PMH set: an archive such as cs, math or physics:hep-th.",
)
@click.option("--from", "from_", required=True, type=DAY, help="First datestamp, YYYY-MM-DD.")
@click.option("--until", type=DAY, help="Last datestamp, YYYY-MM-DD (default: up to now).")
@click.option("--quiet", is_flag=True, help="No progress output, only the summary.")
@click.pass_obj
def harvest(obj, set_spec, from_, until, quiet):
    """Backfill papers from arXiv's OAI-PMH interface (ListRecords, metadataPrefix=arXiv).

    Papers added or changed from --from to --until in the set. An interrupted harvest resumes
    where it stopped when the same command runs again.
    """
    from paperboy.sync import harvest as run_harvest

    if not _finish(
        obj,
        f"harvest {set_spec}",
        lambda: run_harvest(
            obj.store, obj.settings, set_spec, from_, until, show_progress=not quiet
        ),
    ):
        raise SystemExit(1)


@click.command()
@click.argument("ids", nargs=-1, required=True)
@click.option("--quiet", is_flag=True, help="No progress output, only the summary.")
@click.pass_obj
def fetch(obj, ids, quiet):
    """Look papers up in the arXiv API and store them.

    IDS in any form: 2405.15738, 2405.15738v2, hep-th/9901001, arXiv:..., arxiv.org abs/pdf
    URLs or huggingface.co/papers URLs. Unknown or malformed ids are reported as rejected.
    """
    from paperboy.sync import fetch as run_fetch

    if not _finish(
        obj, "fetch", lambda: run_fetch(obj.store, obj.settings, ids, show_progress=not quiet)
    ):
        raise SystemExit(1)
