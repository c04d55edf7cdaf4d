"""The guessing and mail limits against the real server, on each store backend.

The server is the production command (`paperboy serve --workers 2`: two processes share every
limit through the store) in a subprocess. Each client connects from its own loopback address
(Linux routes all of 127/8 to lo), so the server sees an attacker and an owner as different
addresses, as it would on the internet. Mail goes to a real SMTP server process
(tests/smtp_sink.py), which waits half a second before accepting each message; the request
returns before its mail is sent, as in production.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from types import SimpleNamespace

import httpx
import pytest

from paperboy.web import limits
from tests.environment import subprocess_env
from tests.mail_fixtures import SMTPSink

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    data = tmp_path_factory.mktemp(f"limits-{request.param}")
    database_url = ""
    if request.param == "postgres":
        database_url = request.getfixturevalue("postgres_server").create_database()
    # A mail server that takes its time, as real ones do: mail is still going out while the
    # next requests come in.
    sink = SMTPSink(data / "mailbox", "--delay", "0.5")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env() | {
        "PAPERBOY_DATABASE_URL": database_url,
        "PAPERBOY_PUBLIC_URL": base,
        "PAPERBOY_SMTP_HOST": "127.0.0.1",
        "PAPERBOY_SMTP_PORT": str(sink.port),
        "PAPERBOY_MAIL_FROM": "digest@papers.example.org",
        "PAPERBOY_MAIL_RETRY_BACKOFF": "0.01",
    }
    with open(data / "server.log", "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "paperboy",
                "--data-dir",
                str(data),
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_until_up(proc, base, data)
            yield SimpleNamespace(base=base, sink=sink)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            sink.stop()
            if database_url:
                request.getfixturevalue("postgres_server").drop_database(database_url)


def wait_until_up(proc: subprocess.Popen, base: str, data) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(base + "/signin", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    pytest.fail(f"the server did not start: {(data / 'server.log').read_text()}")


def client_at(server, address: str) -> httpx.Client:
    """A client whose connections come from `address` (127.0.0.2 and up)."""
    return httpx.Client(
        base_url=server.base, timeout=60, transport=httpx.HTTPTransport(local_address=address)
    )


def mails_to(server, wanted, expected: int) -> list:
    """The messages the sink got for the address `wanted` (or any address it accepts, when
    it is a function), once `expected` came and a while passed in which more could have come
    (mail goes out after the response)."""

    def received():
        return [
            m
            for m in server.sink.messages()
            if (wanted(m["X-Sink-Rcpt"]) if callable(wanted) else m["X-Sink-Rcpt"] == wanted)
        ]

    deadline = time.monotonic() + 30
    while len(received()) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2)
    return received()


def test_requests_at_once_for_one_address_send_one_mail(server):
    start = threading.Barrier(10)
    codes = []

    def ask(i: int) -> None:
        with client_at(server, f"127.0.0.{10 + i}") as client:
            start.wait()
            codes.append(client.post("/subscribe", data={"email": "race@example.org"}).status_code)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == [200] * 10
    assert len(mails_to(server, "race@example.org", 1)) == 1  # before the fix: 10


def test_requests_one_after_another_for_one_address_send_one_mail(server):
    for i in range(10):
        with client_at(server, f"127.0.0.{30 + i}") as client:
            assert client.post("/subscribe", data={"email": "again@example.org"}).status_code == 200
    assert len(mails_to(server, "again@example.org", 1)) == 1  # before the fix: 10


def test_one_client_cannot_mail_many_addresses(server):
    with client_at(server, "127.0.0.50") as client:
        codes = [
            client.post("/subscribe", data={"email": f"many{i}@example.org"}).status_code
            for i in range(40)
        ]
    allowed = limits.SUBSCRIBE.hits
    assert codes == [200] * allowed + [429] * (40 - allowed)  # was 40 times 200
    sent = mails_to(server, lambda rcpt: rcpt.startswith("many"), allowed)
    assert sorted(m["X-Sink-Rcpt"] for m in sent) == sorted(
        f"many{i}@example.org" for i in range(allowed)
    )


def test_the_name_typed_into_the_form_is_not_in_the_mail(server):
    words = "Your account is locked, call +1 555 0100"
    with client_at(server, "127.0.0.60") as client:
        assert (
            client.post(
                "/subscribe", data={"email": "named@example.org", "name": words}
            ).status_code
            == 200
        )
    [mail] = mails_to(server, "named@example.org", 1)
    shown = (
        str(mail["To"])
        + mail.get_body(("plain",)).get_content()
        + mail.get_body(("html",)).get_content()
    )
    assert "locked" not in shown and "555" not in shown and "named@example.org" in shown


def sign_in(client: httpx.Client, name: str, password: str) -> httpx.Response:
    if "pb_csrf" not in client.cookies:
        client.get("/signin")
    return client.post(
        "/signin",
        data={"name": name, "password": password, "csrf_token": client.cookies["pb_csrf"]},
    )


def test_wrong_passwords_from_one_address_do_not_lock_the_owner_out(server):
    with client_at(server, "127.0.0.70") as owner:
        owner.get("/signin")
        made = owner.post(
            "/signup",
            data={
                "name": "ada",
                "password": "correct horse",
                "csrf_token": owner.cookies["pb_csrf"],
            },
        )
        assert made.status_code == 303
        owner.cookies.clear()
        with client_at(server, "127.0.0.71") as attacker:
            codes = [sign_in(attacker, "ada", f"guess-{i}").status_code for i in range(12)]
            assert codes.count(401) >= limits.BACKOFF_FREE and 429 in codes  # slowed
            took = time.monotonic()
            right = sign_in(owner, "ada", "correct horse")
            took = time.monotonic() - took
            assert right.status_code == 303 and "pb_session" in owner.cookies  # was 429
            assert took < 10  # at once: no wait, just the password check
            held = sign_in(attacker, "ada", "correct horse")
            assert held.status_code == 429 and int(held.headers["retry-after"]) > 0
