"""A real SMTP server for tests and the mail benchmark: aiosmtpd on loopback, one file a message.

    python tests/smtp_sink.py --dir OUT [--port 0] [--delay 0.05] [--reject bad] ...

Prints `READY <port>` once it listens, then stores every accepted message as OUT/<n>.eml
(written to a temporary name first and renamed, so a reader never sees half a message).
Behaviours for fault tests:
  --delay S            wait S seconds in DATA before storing and answering 250
  --store-first        with --delay: store the message first, then wait, then answer 250
                       (an MTA that commits before it replies: a client killed while waiting
                       has delivered a message it never heard was accepted)
  --reject PREFIX      refuse recipients whose local part starts with PREFIX (550)
  --tempfail PREFIX    refuse those recipients with 451 the first --tempfail-times times
  --data-tempfail N    answer the first N DATA commands with 451
  --auth USER:PASS     require AUTH (PLAIN or LOGIN) with these credentials
  --tls-cert/--tls-key with --mode starttls|tls   STARTTLS, or implicit TLS on connect
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult


class Sink:
    def __init__(self, args):
        self.args = args
        self.counter = itertools.count(1)
        self.tempfailed: dict[str, int] = {}
        self.data_tempfails = args.data_tempfail

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if self.args.reject and local.startswith(self.args.reject):
            return "550 5.1.1 No such user here"
        if self.args.tempfail and local.startswith(self.args.tempfail):
            seen = self.tempfailed.get(address, 0)
            if seen < self.args.tempfail_times:
                self.tempfailed[address] = seen + 1
                return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_tempfails > 0:
            self.data_tempfails -= 1
            return "451 4.3.0 Temporary local problem"
        if self.args.delay and not self.args.store_first:
            await asyncio.sleep(self.args.delay)
        self.store(envelope)
        if self.args.delay and self.args.store_first:
            await asyncio.sleep(self.args.delay)
        return "250 2.0.0 Stored"

    def store(self, envelope) -> None:
        number = next(self.counter)
        name = f"{os.getpid()}-{number:07d}.eml"
        tmp = os.path.join(self.args.dir, f".{name}.tmp")
        with open(tmp, "wb") as fh:
            fh.write(f"X-Sink-Rcpt: {', '.join(envelope.rcpt_tos)}\r\n".encode())
            fh.write(f"X-Sink-From: {envelope.mail_from}\r\n".encode())
            fh.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.args.dir, name))


def authenticator(expected: tuple[str, str]):
    def check(server, session, envelope, mechanism, auth_data):
        login = getattr(auth_data, "login", b"")
        password = getattr(auth_data, "password", b"")
        login = login.decode() if isinstance(login, bytes) else login
        password = password.decode() if isinstance(password, bytes) else password
        ok = (login, password) == expected
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535

    return check


async def serve(args) -> None:
    sink = Sink(args)
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    options = {"hostname": "sink.test", "data_size_limit": 64 * 1024 * 1024}
    if args.auth:
        user, _, password = args.auth.partition(":")
        options.update(
            auth_required=True,
            auth_require_tls=False,
            authenticator=authenticator((user, password)),
        )
    if context is not None and args.mode == "starttls":
        options.update(tls_context=context, require_starttls=True)

    def factory():
        return SMTP(sink, **options)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, host="127.0.0.1", port=args.port, ssl=context if args.mode == "tls" else None
    )
    port = server.sockets[0].getsockname()[1]
    print(f"READY {port}", flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--store-first", action="store_true")
    parser.add_argument("--reject", default="")
    parser.add_argument("--tempfail", default="")
    parser.add_argument("--tempfail-times", type=int, default=1)
    parser.add_argument("--data-tempfail", type=int, default=0)
    parser.add_argument("--auth", default="")
    parser.add_argument("--tls-cert", default="")
    parser.add_argument("--tls-key", default="")
    parser.add_argument("--mode", choices=("plain", "starttls", "tls"), default="plain")
    args = parser.parse_args(argv)
    os.makedirs(args.dir, exist_ok=True)
    asyncio.run(serve(args))


if __name__ == "__main__":
    sys.exit(main())
