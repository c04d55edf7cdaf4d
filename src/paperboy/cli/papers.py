"""`paperboy import`, `runs`, `papers` and `demo`: papers into the store, and what it holds.

paperboy import arxiv-metadata-oai-snapshot.json.gz
paperboy runs --id 3
paperboy papers --date 2026-08-21
paperboy demo
"""

from __future__ import annotations

from pathlib import Path

import click

from paperboy.cli.common import DAY, Context, fail, report_run


@click.command("import")
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
    from paperboy.ingest.runs import one_index_update

    failed = []
    # A big import is indexed while it is stored (both cores busy); the one update after the
    # last file does the rest, or everything after a small import.
    with one_index_update(
        obj.store, obj.settings, progress=not quiet, files=[Path(f) for f in files]
    ) as indexed:
        for path in files:
            run = import_file(obj.store, Path(path), obj.settings, show_progress=not quiet)
            report_run(obj.store, run, path)
            if run.status == "failed":
                failed.append(run)
    click.echo(indexed.report.summary())
    if failed:
        fail("; ".join(run.message for run in failed))


@click.command()
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


@click.command()
@click.option(
    "--date",
    "asked",
    type=DAY,
    help="YYYY-MM-DD (default: the latest day with papers). A day "
    "without papers shows the day before with papers; a later "
    "day than the newest shows the newest.",
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def papers(obj: Context, asked, limit):
    """List one day of the daily feed, most upvoted first."""
    from paperboy.feeds import shown_day, with_shown_votes
    from paperboy.latex import to_text

    store = obj.store
    when = store.latest_day()
    if when is None:
        fail("the store has no papers yet: run `paperboy import FILE` or `paperboy demo`")
    if asked:
        shown = shown_day(store, asked)
        when = shown.day
        if shown.note:
            click.echo(shown.note)
    # The votes the site shows and ranks by (feeds.shown_votes): upstream plus local.
    found = with_shown_votes(store.ranked_between(when, when, limit=limit))
    count = store.count_between(when, when)
    click.echo(f"{when.isoformat()}: {count} paper{'' if count == 1 else 's'}")
    for p in found:
        authors = ", ".join(p.authors[:3]) + (
            f" +{len(p.authors) - 3}" if len(p.authors) > 3 else ""
        )
        click.echo(f"{p.upvotes or 0:>5} ▲  {p.id:<12} {to_text(p.title)}\n{'':21}{authors}")


@click.command()
@click.option("--no-serve", is_flag=True, help="Load the demo corpus, list it, and exit.")
@click.option("--port", type=click.IntRange(1, 65535), help="Port to serve on (default 8000).")
@click.pass_obj
def demo(obj: Context, no_serve, port):
    """Load the bundled demo corpus (real HF daily papers) if the store is empty, then serve."""
    from paperboy.demo import load_demo
    from paperboy.demo_dir import mark_demo

    if not obj.store.count_papers():  # never turn a real store into a demo
        mark_demo(obj.settings.data_dir)  # demo mode: mail to the outbox, shown at /_outbox
    loaded = load_demo(obj.store, obj.settings)
    if loaded is not None:
        click.echo(f"demo corpus: {loaded.summary()}")
    ctx = click.get_current_context()
    if no_serve:
        ctx.invoke(papers)
        return
    from paperboy.cli.web import run_server

    run_server(obj, None, port, workers=1, access_log=False)
