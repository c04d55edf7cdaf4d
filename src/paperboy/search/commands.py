"""The search commands: `paperboy search "..."` and `paperboy index` (rebuild, check, backfill).

Registered on the main command group by `register(main)` at the end of cli.py.
"""

from __future__ import annotations

import sys

import click

from paperboy.search import SORTS


def _show(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    if not color or not spans:
        return text
    out, at = [], 0
    for start, end in sorted(spans):
        if start < at:
            continue
        out += [text[at:start], click.style(text[start:end], bold=True, fg="yellow")]
        at = end
    return "".join(out) + text[at:]


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--offset", default=0, type=click.IntRange(0, 10_000))
@click.option("--abstracts", is_flag=True, help="Print each abstract under its title.")
@click.pass_obj
def search(obj, query, sort, limit, offset, abstracts):
    """Search the papers: words, "exact phrases", -exclusions, author:NAME, cat:cs.CL,
    year:2024, after:/before:YYYY-MM-DD, has:code, or an arXiv id or URL."""
    from paperboy.search import open_search

    engine = open_search(obj.store, obj.settings)
    result = engine.search(" ".join(query), sort=sort, limit=limit, offset=offset)
    color = sys.stdout.isatty()
    if result.message:
        click.echo(f"note: {result.message}", err=True)
    click.echo(f"{result.total} found" + (f", showing {offset + 1}-{offset + len(result.hits)}"
                                           if result.hits else ""))
    for rank, hit in enumerate(result.hits, start=offset + 1):
        p = hit.paper
        day = (p.announced or p.published or "")
        click.echo(f"{rank:>3}. {p.id:<12} {_show(p.title, hit.title_spans, color)}")
        authors = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
        click.echo(f"     {day}  {authors}  [{hit.why}, {hit.score:.3f}]")
        if abstracts:
            click.echo(f"     {_show(p.abstract, hit.abstract_spans, color)}\n")


@click.command()
@click.option("--check", is_flag=True, help="Verify the indexes match the store; exit 1 if not.")
@click.option("--backfill", is_flag=True,
              help="Give transformer vectors to papers that only have fast static ones.")
@click.option("--limit", type=click.IntRange(1), help="With --backfill: at most this many.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="With --backfill: encode on the CPU or on an NVIDIA GPU (onnxruntime-gpu).")
@click.option("--checkpoint-every", type=click.IntRange(1), default=2048, show_default=True,
              help="With --backfill: save every this many papers (what a crash can cost).")
@click.option("--drop-vectors", is_flag=True, help="Re-encode every paper (slow).")
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.pass_obj
def index(obj, check, backfill, limit, device, checkpoint_every, drop_vectors, quiet):
    """Rebuild the search indexes from the store (keeps vectors whose text is unchanged)."""
    from paperboy.search.index import indexes_lock, open_indexes, rebuild_indexes

    store, settings = obj.store, obj.settings
    if check:
        problems = open_indexes(store, settings).check(store)
        for problem in problems:
            click.echo(f"problem: {problem}")
        if problems:
            sys.exit(1)
        click.echo(f"indexes match the store ({store.count_papers()} papers)")
        return
    if backfill:
        encoders = _backfill_encoders(settings, device)
        with indexes_lock(store, settings):
            indexes = open_indexes(store, settings, encoders=encoders)
            indexes.update(store, progress=not quiet)
            done = indexes.backfill(store, limit=limit, progress=not quiet,
                                    save_every=checkpoint_every)
        left = max(0, store.count_papers() - len(indexes.dense))
        click.echo(f"encoded {done} papers with {settings.search_model}; {left} left")
        return
    report = rebuild_indexes(store, settings, progress=not quiet, drop_vectors=drop_vectors)
    click.echo(report.summary())


def _backfill_encoders(settings, device: str) -> dict:
    """The transformer for a backfill, loaded first so that a missing GPU is one line."""
    if device == "cpu":
        return {}
    from paperboy.search.encoders import EncoderError, load_encoder

    try:
        return {settings.search_model: load_encoder(settings.search_model,
                                                    settings.search_threads or None, device)}
    except EncoderError as exc:
        click.echo(f"error: {exc}", err=True)  # as the CLI's other errors read
        sys.exit(1)


def register(group: click.Group) -> None:
    group.add_command(search)
    group.add_command(index)
