"""The `paperboy thumbnails` command (see paperboy.thumbnails), and the step `sync` ends with."""

from __future__ import annotations

import click


def report(run, out=click.echo) -> None:
    """The run's counts, then each failure with its reason (the first 20)."""
    out(run.summary())
    for paper_id, reason in run.failed[:20]:
        out(f"  failed {paper_id}: {reason}", err=True)
    if len(run.failed) > 20:
        out(f"  ... and {len(run.failed) - 20} more failed", err=True)
    if run.stopped:
        out(f"thumbnails stopped: {run.stopped}", err=True)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="Make at most this many.")
@click.option("--all", "every_paper", is_flag=True,
              help="Every stored paper, not only those in the daily feed.")
@click.option("--retry-failed", is_flag=True, help="Try again the papers that failed before.")
@click.option("--quiet", is_flag=True, help="No progress output, only the summary.")
@click.pass_obj
def thumbnails(obj, limit, every_paper, retry_failed, quiet):
    """Draw first-page thumbnails for papers that have none.

    Each paper's PDF is fetched politely (one request at a time, arXiv's 3 s apart), page one
    drawn at the thumbnail_width setting and kept under data_dir/thumbnails. Feed papers come
    first, newest day first. Stopping and running again goes on where it stopped; a PDF that
    cannot be read is reported with the reason and skipped. Exit status 1 when the run stopped
    early (no network).
    """
    from paperboy.thumbnails import make_thumbnails

    run = make_thumbnails(obj.store, obj.settings, limit=limit, every_paper=every_paper,
                          retry_failed=retry_failed, show_progress=not quiet)
    report(run)
    if run.stopped:
        raise SystemExit(1)


def after_sync(obj, quiet: bool) -> None:
    """The thumbnails `sync` makes for new feed papers (the sync_thumbnails setting); their
    failures are reported but do not fail the sync."""
    if obj.settings.sync_thumbnails <= 0:
        return
    from paperboy.thumbnails import make_thumbnails

    report(make_thumbnails(obj.store, obj.settings, limit=obj.settings.sync_thumbnails,
                           show_progress=not quiet))
