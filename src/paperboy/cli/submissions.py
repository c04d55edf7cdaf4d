"""`paperboy submissions run` and `paperboy submissions list` (see paperboy.submissions).

    paperboy submissions run          # fetch what is due, then exit (cron, or no `serve`)
    paperboy submissions list --status failed

`run` prints what it stored; when arXiv could not be reached it says so on one line and exits
with status 1 (the submissions wait for their next try). While `paperboy serve`'s worker holds
the queue, `run` says so and leaves the work to it (exit status 0).
"""

from __future__ import annotations

import click


@click.group()
def submissions():
    """The queue of papers submitted by id, waiting to be fetched from arXiv."""


@submissions.command("run")
@click.pass_obj
def run(obj):
    """Fetch every queued submission that is due, then exit."""
    from paperboy.submissions import QueueBusy, drain

    try:
        report = drain(obj.store, obj.settings)
    except QueueBusy as exc:
        click.echo(str(exc))
        return
    click.echo(f"submissions: {report.summary()}")
    for problem in report.problems:
        click.echo(f"error: {problem}", err=True)
    if report.problems:
        raise SystemExit(1)


@submissions.command("list")
@click.option(
    "--status",
    type=click.Choice(["queued", "fetching", "done", "failed"]),
    help="Only submissions in this state.",
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def list_(obj, status, limit):
    """Submissions, newest first, with their state."""
    counts = obj.store.count_submissions()
    click.echo(
        ", ".join(f"{counts.get(s, 0)} {s}" for s in ("queued", "fetching", "done", "failed"))
    )
    for sub in obj.store.submissions(status, limit):
        click.echo(
            f"#{sub.id:<6} {sub.created_at[:19]}  {sub.paper_id:<18} {sub.status:<8} "
            f"by {sub.submitted_by}" + (f"\n        {sub.message}" if sub.message else "")
        )
