"""Thumbnails from a real PDF served on loopback: drawn, stored, resumable, and every bad PDF
(not a PDF, too big, hanging, trickling, refused) failing alone with its reason."""

from __future__ import annotations

import io
import subprocess
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from paperboy.papers import FeedEntry, Paper
from paperboy.sources.http import PoliteClient, TooLarge, TooSlow
from paperboy.store import open_store
from paperboy.store.media import Thumbnails
from paperboy.thumbnails import (
    ThumbnailError,
    make_thumbnails,
    render_first_page,
    thumbnail_path,
)
from tests.replay import FIXTURES, ReplayServer, Reply, closed_port, loopback_settings

PDF = (FIXTURES / "pdf" / "2405.15738.pdf").read_bytes()
GOOD, NOT_PDF, TOO_BIG, HANGS, GONE = (
    "2405.15738",
    "2608.00002",
    "2608.00003",
    "2608.00004",
    "2608.00005",
)


@pytest.fixture
def server():
    with ReplayServer() as srv:
        srv.route(f"/pdf/{GOOD}", Reply(200, PDF, content_type="application/pdf"))
        srv.route(
            f"/pdf/{NOT_PDF}", Reply(200, "<html>PDF not ready</html>", content_type="text/html")
        )
        srv.route(
            f"/pdf/{TOO_BIG}", Reply(200, PDF + b"\0" * 200_000, content_type="application/pdf")
        )
        srv.route(f"/pdf/{HANGS}", Reply(200, PDF, hang=30))
        srv.route(f"/pdf/{GONE}", Reply(404, "no such paper", content_type="text/plain"))
        yield srv


def _settings(tmp_path, server, **extra):
    return loopback_settings(
        tmp_path,
        server,
        arxiv_pdf_url=server.url("/pdf"),
        http_timeout=0.5,
        http_retries=0,
        thumbnail_max_mb=0.15,
        **extra,
    )


def _store_with(settings, ids):
    store = open_store(settings)
    store.upsert(
        [
            Paper(pid, f"Paper {pid}", "An abstract.", entry=FeedEntry(date(2026, 8, 21 - n), "hf"))
            for n, pid in enumerate(ids)
        ]
    )
    return store


def test_a_real_pdf_becomes_a_small_webp_of_its_first_page():
    image = render_first_page(PDF, 320)
    assert image[:4] == b"RIFF" and image[8:12] == b"WEBP"
    with Image.open(io.BytesIO(image)) as drawn:
        assert drawn.width == 320 and 400 < drawn.height < 420  # an A4 page's proportions
        # Not blank: the title and abstract leave dark pixels on the white page.
        assert drawn.convert("L").getextrema()[0] < 100
    assert len(image) < 30_000


@pytest.mark.parametrize(
    "data, why",
    [
        (b"<html>PDF not ready</html>", "not a PDF"),
        (b"%PDF-1.5\n garbage", "damaged PDF"),
    ],
)
def test_what_is_not_a_pdf_is_refused_with_the_reason(data, why):
    with pytest.raises(ThumbnailError, match=why):
        render_first_page(data, 320)


def test_a_run_draws_what_it_can_and_records_why_the_rest_failed(tmp_path, server):
    settings = _settings(tmp_path, server)
    store = _store_with(settings, [GOOD, NOT_PDF, TOO_BIG, HANGS, GONE])
    started = time.monotonic()
    run = make_thumbnails(store, settings, show_progress=False)
    assert time.monotonic() - started < 10  # the hanging PDF did not hold the run
    assert run.made == 1 and run.stopped is None
    reasons = dict(run.failed)
    assert set(reasons) == {NOT_PDF, TOO_BIG, HANGS, GONE}
    assert "not a PDF" in reasons[NOT_PDF]
    assert f"{len(PDF) + 200_000:,} bytes, more than the 150,000 bytes accepted" in reasons[TOO_BIG]
    assert "not answering" in reasons[HANGS] and "no answer within 0.5 s" in reasons[HANGS]
    assert "HTTP 404" in reasons[GONE]
    thumbs = Thumbnails(store)
    assert thumbs.files([GOOD, NOT_PDF]) == {GOOD: f"{GOOD}.webp"}
    assert thumbnail_path(settings, f"{GOOD}.webp").read_bytes()[8:12] == b"WEBP"
    assert thumbs.get(NOT_PDF).reason == reasons[NOT_PDF]
    # Nothing is left to do; the failures are tried again only when asked.
    hits = len(server.hits)
    assert make_thumbnails(store, settings, show_progress=False).made == 0
    assert len(server.hits) == hits
    again = make_thumbnails(store, settings, retry_failed=True, show_progress=False)
    assert len(again.failed) == 4 and len(server.hits) == hits + 4


def test_an_interrupted_run_resumes_with_the_papers_not_tried(tmp_path, server):
    settings = _settings(tmp_path, server)
    store = _store_with(settings, [GOOD, NOT_PDF])
    assert make_thumbnails(store, settings, limit=1, show_progress=False).made == 1
    rest = make_thumbnails(store, settings, show_progress=False)
    assert (rest.made, [pid for pid, _ in rest.failed]) == (0, [NOT_PDF])
    assert [h.path for h in server.hits] == [f"/pdf/{GOOD}", f"/pdf/{NOT_PDF}"]


def test_no_network_stops_the_run_without_marking_papers(tmp_path):
    settings = loopback_settings(
        tmp_path, arxiv_pdf_url="http://no-such-host.invalid/pdf", http_retries=0
    )
    store = _store_with(settings, [GOOD, NOT_PDF])
    run = make_thumbnails(store, settings, show_progress=False)
    assert run.stopped and "no network" in run.stopped
    assert Thumbnails(store).pending(10) == [GOOD, NOT_PDF]


class _Streaming(BaseHTTPRequestHandler):
    """Bodies without a Content-Length: one endless, one trickling a byte at a time."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/pdf")
        self.end_headers()
        try:
            if self.path == "/endless":
                while True:
                    self.wfile.write(b"%PDF-" + b"0" * 65536)
            for _ in range(100):
                self.wfile.write(b"%")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the client hung up, as it should
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def streaming():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Streaming)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_body_is_cut_at_its_size_or_total_time_without_a_content_length(tmp_path, streaming):
    settings = loopback_settings(tmp_path, http_retries=0, http_timeout=2.0)
    with PoliteClient(settings) as client:
        with pytest.raises(TooLarge, match="more than the 1,000,000 bytes accepted"):
            client.get_bytes(f"{streaming}/endless", max_bytes=1_000_000, deadline=30)
        started = time.monotonic()
        with pytest.raises(TooSlow, match="not complete after 1 s"):
            client.get_bytes(f"{streaming}/trickle", max_bytes=1_000_000, deadline=1)
        assert time.monotonic() - started < 3


def test_a_refused_connection_is_a_failure_of_that_paper(tmp_path):
    settings = loopback_settings(
        tmp_path, arxiv_pdf_url=f"http://127.0.0.1:{closed_port()}/pdf", http_retries=0
    )
    store = _store_with(settings, [GOOD])
    run = make_thumbnails(store, settings, show_progress=False)
    assert run.made == 0 and "connection failed" in run.failed[0][1]


def test_the_command_reports_counts_and_reasons(tmp_path, server):
    from tests.environment import subprocess_env

    settings = _settings(tmp_path, server)
    _store_with(settings, [GOOD, NOT_PDF]).close()
    env = subprocess_env() | {
        "PAPERBOY_DATA_DIR": str(settings.data_dir),
        "PAPERBOY_ARXIV_PDF_URL": server.url("/pdf"),
        "PAPERBOY_HTTP_MIN_INTERVAL": "0",
        "PAPERBOY_HTTP_RETRIES": "0",
    }
    done = subprocess.run(
        [sys.executable, "-m", "paperboy", "thumbnails", "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "thumbnails: made 1, failed 1" in done.stdout
    assert f"failed {NOT_PDF}: " in done.stderr and "not a PDF" in done.stderr
