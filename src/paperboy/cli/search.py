"""The search commands: `paperboy search "..."` and `paperboy index` (rebuild, check, backfill).

Added to the `paperboy` group by paperboy/cli/main.py.

`paperboy search` prints what a reader needs, all on stdout in reading order: how many papers
were found, the engine's note (on a line of its own), then each paper's rank, id, title, day
and first authors, with LaTeX shown as text. Scores and which index found a paper are the
engine's business (the JSON API has `score`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from paperboy.cli.common import fail
from paperboy.latex import pieces
from paperboy.search import SORTS

if TYPE_CHECKING:
    from paperboy.config import Settings
    from paperboy.search.backends import Encoder


def _show(text: str, spans: list[tuple[int, int]], color: bool) -> str:
    """`text` with its LaTeX shown as text and, on a terminal, the matches in bold yellow."""
    spans = sorted(spans) if color else []
    out = []
    for piece in pieces(text):
        if piece.kind in ("open", "close"):
            continue
        if piece.kind != "text":  # a macro or math: marked whole when a match touches it
            hit = any(s < piece.end and e > piece.start for s, e in spans)
            out.append(_mark(piece.shown) if hit else piece.shown)
            continue
        at = piece.start
        for start, end in spans:
            start, end = max(start, at), min(end, piece.end)
            if start < end:
                out += [text[at:start], _mark(text[start:end])]
                at = end
        out.append(text[at : piece.end])
    return "".join(out)


def _mark(text: str) -> str:
    return click.style(text, bold=True, fg="yellow")


@click.command()
@click.argument("query", nargs=-1, required=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 200))
@click.option("--offset", default=0, type=click.IntRange(0, 10_000))
@click.option("--abstracts", is_flag=True, help="Print each abstract under its title.")
@click.pass_obj
def search(
    obj: Any, query: tuple[str, ...], sort: str, limit: int, offset: int, abstracts: bool
) -> None:
    """Search the papers: words, "exact phrases", -exclusions, author:NAME, cat:cs.CL,
    year:2024, after:/before:YYYY-MM-DD, has:code, or an arXiv id or URL."""
    from paperboy.search import open_search

    engine = open_search(obj.store, obj.settings)
    result = engine.search(" ".join(query), sort=sort, limit=limit, offset=offset)
    color = sys.stdout.isatty()
    found = f"{result.total} paper{'' if result.total == 1 else 's'} found"
    if result.hits:
        found += f", showing {offset + 1}-{offset + len(result.hits)}"
    click.echo(found)
    if result.message:
        click.echo(f"note: {result.message}")
    for rank, hit in enumerate(result.hits, start=offset + 1):
        p = hit.paper
        day = p.announced or p.published or (p.entry.day if p.entry else "")
        click.echo(f"{rank:>3}. {p.id:<12} {_show(p.title, hit.title_spans, color)}")
        authors = ", ".join(p.authors[:3]) + (" et al." if len(p.authors) > 3 else "")
        click.echo(f"     {day}  {authors}".rstrip())
        if abstracts:
            click.echo(f"     {_show(p.abstract, hit.abstract_spans, color)}\n")


@click.command()
@click.option("--check", is_flag=True, help="Verify the indexes match the store; exit 1 if not.")
@click.option(
    "--backfill",
    is_flag=True,
    help="Give transformer vectors to papers that only have fast static ones.",
)
@click.option("--limit", type=click.IntRange(1), help="With --backfill: at most this many.")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="With --backfill: encode on the CPU or on an NVIDIA GPU (onnxruntime-gpu).",
)
@click.option(
    "--checkpoint-every",
    type=click.IntRange(1),
    default=2048,
    show_default=True,
    help=(
        "With --backfill: save every this many papers (what a crash can cost; between two "
        "saves other writers, a sync or an import, may update the indexes)."
    ),
)
@click.option("--drop-vectors", is_flag=True, help="Re-encode every paper (slow).")
@click.option(
    "--snapshot",
    "snapshot_to",
    type=click.Path(dir_okay=False, writable=True),
    help="Write this host's index files to an archive (to start another host from).",
)
@click.option(
    "--from-snapshot",
    "snapshot_from",
    type=click.Path(dir_okay=False, exists=True),
    help="Start from another host's archived index files, then catch up with the store.",
)
@click.option("--quiet", is_flag=True, help="No progress output.")
@click.pass_obj
def index(
    obj: Any,
    check: bool,
    backfill: bool,
    limit: int | None,
    device: str,
    checkpoint_every: int,
    drop_vectors: bool,
    snapshot_to: str | None,
    snapshot_from: str | None,
    quiet: bool,
) -> None:
    """Rebuild the search indexes from the store (keeps vectors whose text is unchanged)."""
    from paperboy.search.upkeep import backfill_indexes, check_indexes, rebuild_indexes

    store, settings = obj.store, obj.settings
    if snapshot_to or snapshot_from:
        _snapshot(store, settings, snapshot_to, snapshot_from, quiet)
        return
    if check:
        problems = check_indexes(store, settings)
        for problem in problems:
            click.echo(f"problem: {problem}")
        if problems:
            sys.exit(1)
        click.echo(f"indexes match the store ({store.count_papers()} papers)")
        return
    if backfill:
        encoders = _backfill_encoders(settings, device)
        done, left = backfill_indexes(
            store,
            settings,
            limit=limit,
            progress=not quiet,
            save_every=checkpoint_every,
            encoders=encoders,
        )
        click.echo(f"encoded {done} papers with {settings.search_model}; {left} left")
        return
    report = rebuild_indexes(store, settings, progress=not quiet, drop_vectors=drop_vectors)
    click.echo(report.summary())


def _snapshot(
    store: Any, settings: Settings, to: str | None, source: str | None, quiet: bool
) -> None:
    """`index --snapshot` / `--from-snapshot` (search/files/snapshot.py)."""
    from paperboy.search.files.snapshot import install_snapshot, write_snapshot
    from paperboy.search.upkeep import search_backend, update_indexes

    if to and source:
        fail("give --snapshot or --from-snapshot, not both")
    if search_backend(store, settings) != "files":
        fail(
            "snapshots are of index files; with search_backend postgres the index is in the "
            "database already"
        )
    if to:
        path = write_snapshot(settings, to)
        click.echo(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
        return
    assert source is not None
    watermark = install_snapshot(settings, source)
    click.echo(f"installed {source} (it had reached change {watermark}); catching up")
    report = update_indexes(store, settings, progress=not quiet)
    click.echo(report.summary() if report else "another process is updating the indexes")


def _backfill_encoders(settings: Settings, device: str) -> dict[str, Encoder]:
    """The transformer for a backfill, loaded first so that a missing GPU is one line."""
    if device == "cpu":
        return {}
    from paperboy.search.encoders import EncoderError, load_encoder

    try:
        return {
            settings.search_model: load_encoder(
                settings.search_model, settings.search_threads or None, device
            )
        }
    except EncoderError as exc:
        fail(str(exc))
