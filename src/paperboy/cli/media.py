"""The `paperboy thumbnails`, `paperboy stars` and `paperboy keywords` commands
(paperboy/thumbnails.py, paperboy/stars.py, paperboy/search/keywords.py), and the steps `sync`
ends with."""

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
        out(f"{run.summary().split(':')[0]} stopped: {run.stopped}", err=True)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), help="Make at most this many.")
@click.option(
    "--all",
    "every_paper",
    is_flag=True,
    help="Every stored paper, not only those in the daily feed.",
)
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

    run = make_thumbnails(
        obj.store,
        obj.settings,
        limit=limit,
        every_paper=every_paper,
        retry_failed=retry_failed,
        show_progress=not quiet,
    )
    report(run)
    if run.stopped:
        raise SystemExit(1)


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Read at most this many repositories.",
)
@click.option("--quiet", is_flag=True, help="No progress output, only the summary.")
@click.pass_obj
def stars(obj, limit, quiet):
    """Read the GitHub star counts of the feed papers' code repositories.

    Repositories of the newest feed days first, each read at most once a day; the counts are
    kept day by day, so trending knows how fast a repository grows. GitHub allows 60 requests
    an hour without the github_token setting, 5,000 with it; a run stopped by that limit says
    when to run again (exit status 1) and resumes with the repositories not read yet.
    """
    from paperboy.stars import read_stars

    run = read_stars(obj.store, obj.settings, limit, show_progress=not quiet)
    report(run)
    if run.stopped:
        raise SystemExit(1)


@click.command()
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Extract for at most this many papers.",
)
@click.pass_obj
def keywords(obj, limit):
    """Extract keywords for feed papers that came without any, from their abstracts.

    Phrases of the abstract ranked by similarity to the paper with the search_model, kept
    diverse (KeyBERT's method; no language model writes anything). Hugging Face's keywords
    always win; paper pages say which keywords were extracted here. Newest feed days first.
    """
    from paperboy.search.keywords import extract_missing

    found = extract_missing(obj.store, obj.settings, limit)
    click.echo(f"keywords: extracted for {len(found)} papers")


def after_sync(obj, quiet: bool) -> None:
    """What `sync` does after its sources: star counts (the sync_stars setting) and
    thumbnails (sync_thumbnails) for feed papers, and the reply notices that are due
    (mail/replies.py). Their failures are reported but do not fail the sync: the papers are
    stored either way."""
    if obj.settings.sync_stars > 0:
        from paperboy.stars import read_stars

        report(
            read_stars(obj.store, obj.settings, obj.settings.sync_stars, show_progress=not quiet)
        )
    if obj.settings.sync_thumbnails > 0:
        from paperboy.thumbnails import make_thumbnails

        report(
            make_thumbnails(
                obj.store, obj.settings, limit=obj.settings.sync_thumbnails, show_progress=not quiet
            )
        )
    from paperboy.mail.replies import send_queued_replies

    try:
        replies = send_queued_replies(obj.store, obj.settings)
    except Exception as exc:  # a mail set-up problem must not fail the sync: say it
        click.echo(f"reply notices not sent: {exc}", err=True)
        return
    if replies.handled:
        click.echo(replies.summary())
