"""First-page thumbnails: fetch a paper's PDF politely, draw page one, keep a small WebP.

    run = make_thumbnails(store, settings, limit=100)   # ThumbnailRun: made, failed, stopped
    thumbnail_path(settings, "2405.15738.webp")         # where the web serves it from

The PDF (settings.arxiv_pdf_url/ID) comes through the one polite HTTP client
(sources/http.py: one request at a time per host, arXiv's 3 s apart, retries with backoff),
read as a stream and refused past `thumbnail_max_mb` or `thumbnail_timeout` seconds in all.
Page one is drawn by pypdfium2 (PDFium, the PDF engine of Chromium, as a self-contained wheel:
no system package, no subprocess per paper; poppler's pdftoppm would need both) at
`thumbnail_width` pixels and saved as WebP by Pillow under data_dir/thumbnails/.

Each paper's outcome is recorded (store/media.py) as soon as it is known, so an interrupted
run resumes with the papers not tried yet. A PDF that is not a PDF, too big, too slow or
refused is recorded as failed with its reason, and the run goes on (`--retry-failed` tries
those again); only a problem of the whole run (no network) stops it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from paperboy.config import Settings
from paperboy.progress import Progress
from paperboy.sources import SourceError
from paperboy.sources.http import PoliteClient, Unreachable
from paperboy.store.media import Thumbnails

WEBP_QUALITY = 70  # measured in docs/benchmarks.md: ~10 KB at 320 px, text still readable
MAX_ASPECT = 1.6  # taller pages (a poster, a long scroll) are cut to this height / width


class ThumbnailError(ValueError):
    """A PDF we cannot draw; the message says why."""


@dataclass
class ThumbnailRun:
    made: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (paper id, reason)
    stopped: str | None = None  # why the run ended early

    def summary(self) -> str:
        return f"thumbnails: made {self.made}, failed {len(self.failed)}"


def thumbnail_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "thumbnails"


def thumbnail_name(paper_id: str) -> str:
    """The file name of a paper's thumbnail (old-style ids hold a '/')."""
    return paper_id.replace("/", "_") + ".webp"


def thumbnail_path(settings: Settings, name: str) -> Path:
    return thumbnail_dir(settings) / name


def render_first_page(pdf: bytes, width: int) -> bytes:
    """Page one of `pdf` as a WebP image `width` pixels wide; ThumbnailError if impossible."""
    import pypdfium2 as pdfium  # loaded only by the runs that draw

    if b"%PDF-" not in pdf[:1024]:  # the header may follow a little junk (PDF 1.7, 7.5.2)
        raise ThumbnailError(f"not a PDF: it starts {pdf[:40]!r}")
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"a damaged PDF: {exc}") from None
    try:
        if len(document) == 0:
            raise ThumbnailError("a PDF without pages")
        page = document[0]
        page_width, page_height = page.get_size()
        if page_width <= 0 or page_height <= 0:
            raise ThumbnailError("a PDF whose first page has no size")
        scale = width / page_width
        height = min(page_height * scale, width * MAX_ASPECT)
        bitmap = page.render(scale=scale, crop=(0, page_height - height / scale, 0, 0))
        image = bitmap.to_pil().convert("RGB")
    except pdfium.PdfiumError as exc:
        raise ThumbnailError(f"a PDF that cannot be drawn: {exc}") from None
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def _write(folder: Path, name: str, image: bytes) -> None:
    """Write atomically: a run killed mid-write leaves no half image under the final name."""
    partial = folder / (name + ".part")
    partial.write_bytes(image)
    os.replace(partial, folder / name)


def pdf_url(settings: Settings, paper_id: str) -> str:
    return f"{settings.arxiv_pdf_url.rstrip('/')}/{paper_id}"


def make_thumbnails(
    store,
    settings: Settings,
    limit: int | None = None,
    every_paper: bool = False,
    retry_failed: bool = False,
    show_progress: bool = True,
) -> ThumbnailRun:
    """Thumbnails for papers without one (feed papers, newest day first; every paper with
    `every_paper`; those that failed before too with `retry_failed`), at most `limit`."""
    thumbs = Thumbnails(store)
    ids = thumbs.pending(limit if limit is not None else 2**62, every_paper, retry_failed)
    run = ThumbnailRun()
    if not ids:
        return run
    folder = thumbnail_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    max_bytes = int(settings.thumbnail_max_mb * 1_000_000)
    with (
        PoliteClient(settings) as client,
        Progress("thumbnails", total=len(ids), unit="paper", enabled=show_progress) as bar,
    ):
        for done, paper_id in enumerate(ids, start=1):
            try:
                pdf = client.get_bytes(
                    pdf_url(settings, paper_id), max_bytes, settings.thumbnail_timeout
                )
                image = render_first_page(pdf, settings.thumbnail_width)
            except Unreachable as exc:
                run.stopped = str(exc)
                break
            except (SourceError, ThumbnailError) as exc:
                thumbs.record_failed(paper_id, str(exc))
                run.failed.append((paper_id, str(exc)))
            else:
                name = thumbnail_name(paper_id)
                _write(folder, name, image)
                thumbs.record_done(paper_id, name, len(image))
                run.made += 1
            bar.set_position(done, run.made)
    return run
