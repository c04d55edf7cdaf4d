"""The polite HTTP client against a real server on loopback: retries, limits, clear failures."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from itertools import pairwise

import pytest

from paperboy.sources import SourceError
from paperboy.sources.http import PoliteClient, retry_after_seconds
from tests.environment import subprocess_env
from tests.replay import ReplayServer, Reply, closed_port, loopback_settings

FEED = "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>ok</title></feed>"


@pytest.fixture
def server():
    with ReplayServer() as srv:
        yield srv


def gaps(hits) -> list[float]:
    times = sorted(h.at for h in hits)
    return [b - a for a, b in pairwise(times)]


def test_429_with_retry_after_is_retried_after_the_wait_it_asks_for(server, tmp_path):
    server.route("/q", [Reply(429, "slow down", headers={"Retry-After": "1"}), Reply(200, FEED)])
    with PoliteClient(loopback_settings(tmp_path)) as client:
        root = client.get_xml(server.url("/q"))
    assert root.findtext("{http://www.w3.org/2005/Atom}title") == "ok"
    assert len(server.hits) == 2
    assert gaps(server.hits)[0] >= 1.0


def test_503_then_200_is_retried_with_backoff(server, tmp_path):
    server.route("/q", [Reply(503), Reply(200, FEED)])
    settings = loopback_settings(tmp_path, http_backoff=0.1)
    with PoliteClient(settings) as client:
        response = client.get(server.url("/q"))
    assert response.status_code == 200
    assert len(server.hits) == 2
    assert gaps(server.hits)[0] >= 0.1


def test_backoff_grows_exponentially_with_bounded_jitter(tmp_path):
    settings = loopback_settings(tmp_path, http_backoff=1.0, http_retry_after_max=100.0)
    with PoliteClient(settings) as client:
        for attempt, base in ((1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0)):
            delays = {client._backoff(attempt, None) for _ in range(50)}
            assert all(base <= d <= 1.5 * base for d in delays)
            assert len(delays) > 1  # jittered, not a fixed schedule
        assert client._backoff(3, 7.0) == 7.0  # Retry-After wins


def test_upstream_that_stays_down_raises_a_clear_error(server, tmp_path):
    server.route("/q", Reply(503, "maintenance"))
    settings = loopback_settings(tmp_path, http_retries=2)
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        client.get(server.url("/q"), {"id_list": "2405.15738"})
    message = str(err.value)
    assert server.url("/q?id_list=2405.15738") in message
    assert "HTTP 503" in message and "3 tries" in message and "try again later" in message
    assert len(server.hits) == 3


def test_a_server_that_hangs_times_out_and_is_retried(server, tmp_path):
    server.route("/q", Reply(200, FEED, hang=30))
    settings = loopback_settings(tmp_path, http_timeout=0.3, http_retries=1)
    started = time.monotonic()
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        client.get(server.url("/q"))
    assert "no answer within 0.3 s" in str(err.value)
    assert len(server.hits) == 2
    assert time.monotonic() - started < 10


def test_a_dropped_connection_is_retried(server, tmp_path):
    server.route("/q", [Reply(drop=True), Reply(200, FEED)])
    with PoliteClient(loopback_settings(tmp_path)) as client:
        assert client.get(server.url("/q")).status_code == 200
    assert len(server.hits) == 2


def test_a_closed_port_is_a_dead_upstream(tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/api/query"
    with (
        PoliteClient(loopback_settings(tmp_path, http_retries=1)) as client,
        pytest.raises(SourceError) as err,
    ):
        client.get(url)
    assert url in str(err.value)
    assert "connection failed" in str(err.value)


def test_a_host_that_does_not_resolve_fails_at_once_saying_no_network(tmp_path):
    # .invalid never resolves (RFC 6761): no request leaves the machine. With these settings a
    # retried failure would take at least 1 + 2 + 4 + 8 + 16 = 31 s.
    settings = loopback_settings(
        tmp_path, http_retries=5, http_backoff=1.0, http_retry_after_max=100.0
    )
    started = time.monotonic()
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        client.get("http://export.arxiv.invalid/api/query", {"id_list": "2405.15738"})
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "no network (cannot resolve export.arxiv.invalid" in message
    assert "http://export.arxiv.invalid/api/query?id_list=2405.15738" in message
    assert client.requests == 1


def test_client_errors_are_not_retried(server, tmp_path):
    server.route("/q", Reply(404, "no such thing", content_type="text/plain"))
    with PoliteClient(loopback_settings(tmp_path)) as client, pytest.raises(SourceError) as err:
        client.get(server.url("/q"))
    assert "HTTP 404" in str(err.value) and "no such thing" in str(err.value)
    assert len(server.hits) == 1


def test_accepted_client_errors_come_back_to_the_caller(server, tmp_path):
    server.route("/q", Reply(400, FEED))
    with PoliteClient(loopback_settings(tmp_path)) as client:
        assert client.get(server.url("/q"), accept=(400,)).status_code == 400


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00\x01 garbage", b"<html><body>Oops</body>", b"<?xml version='1.0'?><feed><entry>"],
)
def test_garbage_instead_of_xml_names_the_url(server, tmp_path, body):
    server.route("/q", Reply(200, body))
    with PoliteClient(loopback_settings(tmp_path)) as client, pytest.raises(SourceError) as err:
        client.get_xml(server.url("/q"), {"start": 0})
    assert server.url("/q?start=0") in str(err.value)
    assert "not valid XML" in str(err.value)


def test_garbage_instead_of_json_names_the_url(server, tmp_path):
    server.route("/api/daily_papers", Reply(200, "<html>Bad gateway</html>"))
    with PoliteClient(loopback_settings(tmp_path)) as client, pytest.raises(SourceError) as err:
        client.get_json(server.url("/api/daily_papers"), {"date": "2026-08-21"})
    assert "daily_papers?date=2026-08-21" in str(err.value)
    assert "not valid JSON" in str(err.value)


def test_retry_after_longer_than_we_wait_ends_at_once(server, tmp_path):
    server.route("/q", Reply(429, headers={"Retry-After": "3600"}))
    settings = loopback_settings(tmp_path, http_retry_after_max=60.0)
    with PoliteClient(settings) as client, pytest.raises(SourceError) as err:
        client.get(server.url("/q"))
    assert "wait 3600 s" in str(err.value) and "PAPERBOY_HTTP_RETRY_AFTER_MAX" in str(err.value)
    assert len(server.hits) == 1


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after_seconds("7") == 7.0
    later = datetime.now(UTC) + timedelta(seconds=120)
    assert 100 < retry_after_seconds(format_datetime(later, usegmt=True)) <= 120
    past = datetime.now(UTC) - timedelta(days=1)
    assert retry_after_seconds(format_datetime(past, usegmt=True)) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_requests_to_a_host_keep_the_minimum_interval(server, tmp_path):
    server.route("/q", Reply(200, FEED))
    settings = loopback_settings(tmp_path, http_min_interval=0.2)
    with PoliteClient(settings) as client:
        for _ in range(4):
            client.get(server.url("/q"))
    assert len(server.hits) == 4
    assert min(gaps(server.hits)) >= 0.2


def test_the_interval_holds_across_clients_and_retries(server, tmp_path):
    server.route("/q", [Reply(503), Reply(200, FEED)])
    server.route("/r", Reply(200, FEED))
    settings = loopback_settings(tmp_path, http_min_interval=0.2, http_backoff=0.01)
    with PoliteClient(settings) as first, PoliteClient(settings) as second:
        first.get(server.url("/q"))  # a 503 and its retry
        second.get(server.url("/r"))
        first.get(server.url("/r"))
    assert len(server.hits) == 4
    assert min(gaps(server.hits)) >= 0.2


def test_one_request_at_a_time_even_from_several_threads(server, tmp_path):
    server.route("/q", Reply(200, FEED, hang=0.15))
    settings = loopback_settings(tmp_path)

    def fetch():
        with PoliteClient(settings) as client:
            client.get(server.url("/q"))

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(server.hits) == 3
    # Each request arrives only after the previous answer (sent 0.15 s after it arrived).
    assert min(gaps(server.hits)) >= 0.15


FETCH_THREE = """
import sys
from pathlib import Path
from paperboy.config import Settings
from paperboy.sources.http import PoliteClient
settings = Settings(data_dir=Path(sys.argv[1]), http_min_interval=0.3, http_retries=0)
with PoliteClient(settings) as client:
    for _ in range(3):
        client.get(sys.argv[2])
"""


def test_the_interval_holds_across_processes_sharing_a_data_dir(server, tmp_path):
    server.route("/q", Reply(200, FEED))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", FETCH_THREE, str(tmp_path / "data"), server.url("/q")],
            env=subprocess_env(),
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    assert len(server.hits) == 6
    assert min(gaps(server.hits)) >= 0.3 - 0.005  # the shared time is kept to the millisecond


def test_requests_carry_our_user_agent(server, tmp_path):
    server.route("/q", Reply(200, FEED))
    settings = loopback_settings(tmp_path, user_agent="paperboy-test/1 (+mailto:x@example.org)")
    with PoliteClient(settings) as client:
        client.get(server.url("/q"))
    headers = {k.lower(): v for k, v in server.hits[0].headers.items()}
    assert headers["user-agent"] == "paperboy-test/1 (+mailto:x@example.org)"
