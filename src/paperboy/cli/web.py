"""`paperboy serve` (the production web server) and `paperboy user ...` (accounts, admin role).

paperboy serve --host 0.0.0.0 --port 8000 --workers 2
paperboy user create alice --admin       # asks for the password
echo "$PASSWORD" | paperboy user create bob   # or reads it from a pipe
paperboy user admin alice --revoke
paperboy user token alice --name ci      # prints a new API token once
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace

import click

from paperboy.cli.common import Context, fail


def run_server(
    obj: Context, host: str | None, port: int | None, workers: int, access_log: bool
) -> None:
    """Serve the app with uvicorn; every worker builds its app from this command's settings."""
    import uvicorn

    from paperboy.web.app import SETTINGS_HANDOFF

    # Each worker serves many requests at once from its thread pool: BLAS and ONNX thread
    # pools of their own per request oversubscribe the cores (measured: the paper page went
    # from 26 to 755 req/s on 2 cores). One thread each, unless the user says otherwise.
    # (These are read by the native libraries as they load: environment, not settings.)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    settings = obj.settings
    if settings.search_threads == 0 and "PAPERBOY_SEARCH_THREADS" not in os.environ:
        obj.use_settings(settings := replace(settings, search_threads=1))
    store = obj.store  # open once here, so migrations run before several workers start at once
    host = host or settings.host
    port = port or settings.port
    healthcheck = _healthcheck_timeout(settings)
    click.echo(
        f"paperboy: serving {store.location} on http://{host}:{port}/ "
        f"with {workers} worker{'s' if workers > 1 else ''} (Ctrl-C stops)"
    )
    from paperboy.mail.schedule import scheduler_running
    from paperboy.submissions import worker_running

    # One scheduler for the whole server (in this, the supervising process), however many
    # workers serve requests; it sends digests at mail_send_at when mail_scheduler is on.
    # Likewise one submissions worker: requests only queue papers, it fetches them from arXiv.
    with scheduler_running(settings) as scheduler, worker_running(settings) as worker:
        if scheduler is not None:
            click.echo(
                f"paperboy: digests go out daily at {settings.mail_send_at} "
                f"({settings.mail_timezone})"
            )
        if worker is not None:
            click.echo("paperboy: submitted papers are fetched from arXiv by this process")
        if scheduler is None:  # (the scheduler's thread does it when there is one)
            _send_left_replies(settings)
        # Workers are fresh interpreters that import the app factory by name: they are handed
        # these very settings (--data-dir, --config and all), serialised, for their lifetime.
        with _handed_to_workers(SETTINGS_HANDOFF, settings.to_json()):
            uvicorn.run(
                "paperboy.web.app:app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                access_log=access_log,
                log_level="info",
                log_config=_log_config(),
                proxy_headers=True,
                server_header=False,
                timeout_worker_healthcheck=healthcheck,
            )


def _log_config() -> dict:
    """uvicorn's logging, plus paperboy's own INFO lines (search warmed, the index follower's
    updates) on the same handler: an operator sees what each worker did."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["paperboy"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _send_left_replies(settings) -> None:
    """Reply notices a stopped server left queued go out now, in a thread beside the
    server's start (mail/replies.py; each goes out at most once)."""
    import logging
    import threading

    def send() -> None:
        from paperboy.mail.replies import send_queued_replies
        from paperboy.store import open_store

        try:
            store = open_store(settings)
            try:
                report = send_queued_replies(store, settings)
            finally:
                store.close()
        except Exception:
            logging.getLogger("paperboy.mail").exception("sending queued reply notices failed")
            return
        if report.handled:
            click.echo(f"paperboy: {report.summary()}")

    threading.Thread(target=send, name="paperboy-replies", daemon=True).start()


@contextlib.contextmanager
def _handed_to_workers(name: str, value: str):
    """`name=value` in the environment the worker processes start with, only while they run."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def _healthcheck_timeout(settings) -> int:
    """How long the supervisor waits for a worker's answer before it kills it.

    uvicorn starts each worker as a fresh interpreter (multiprocessing's spawn: nothing is
    shared, so no store connection or onnxruntime session crosses a fork, and nothing loaded
    here would reach the workers). A worker answers the health check from a thread it starts
    only after the interpreter is up and this program re-imported: ~0.2 s of CPU, which on a
    busy machine took more than uvicorn's 5 s and got workers killed while still starting.
    """
    from paperboy.config import ConfigError

    if settings.worker_healthcheck_timeout < 1:
        raise ConfigError(
            f"setting 'worker_healthcheck_timeout' must be at least 1 (seconds), "
            f"got {settings.worker_healthcheck_timeout}"
        )
    return settings.worker_healthcheck_timeout


@click.command()
@click.option("--host", help="Address to listen on (default: PAPERBOY_HOST or 127.0.0.1).")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port (default: PAPERBOY_PORT or 8000)."
)
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes; about one per CPU core.",
)
@click.option("--access-log", is_flag=True, help="Log every request (off: a proxy usually does).")
@click.pass_obj
def serve(obj, host, port, workers, access_log):
    """Run the web service: pages, JSON API (/docs) and Atom feeds."""
    run_server(obj, host, port, workers, access_log)


@click.group()
def user():
    """Create accounts, grant or revoke the admin role, make API tokens."""


@user.command("create")
@click.argument("name")
@click.option("--email", help="Optional email address (for digests).")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option(
    "--password",
    help="The password. When not given it is asked for twice on a "
    "terminal, or read from the first line of standard input "
    "when that is a pipe or a file.",
)
@click.pass_obj
def create(obj, name, email, admin, password):
    """Create the account NAME."""
    from paperboy.store.accounts import NameTaken
    from paperboy.web.auth import check_new_account, hash_password

    if password is None:
        password = _read_password()
    problem = check_new_account(name, password)
    if problem:
        fail(problem)
    try:
        made = obj.store.create_user(name, hash_password(password), email, is_admin=admin)
    except NameTaken as exc:
        fail(str(exc))
    click.echo(f"created {made.name}{' (admin)' if made.is_admin else ''}")


def _read_password() -> str:
    """Asked twice, hidden, on a terminal; else the first line of stdin. (getpass on a pipe
    warns with GetPassWarning and a stack trace, and may echo the password.)"""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    line = sys.stdin.readline()
    if not line:
        fail("no password: give --password, type it on a terminal, or pipe it in")
    return line.rstrip("\r\n")


@user.command("admin")
@click.argument("name")
@click.option("--revoke", is_flag=True, help="Take the admin role away instead.")
@click.pass_obj
def admin(obj, name, revoke):
    """Grant NAME the admin role (or --revoke it)."""
    changed = obj.store.set_admin(name, not revoke)
    if changed is None:
        fail(f"no user named {name!r}; create one with `paperboy user create {name}`")
    click.echo(f"{changed.name} is {'now' if changed.is_admin else 'no longer'} an admin")


@user.command("list")
@click.pass_obj
def list_users(obj):
    """All accounts, oldest first."""
    for u in obj.store.users():
        click.echo(
            f"{u.id:>5}  {u.name:<32} {'admin' if u.is_admin else '':<5}  "
            f"{u.created_at[:10]}  {u.email or ''}"
        )


@user.command("token")
@click.argument("name")
@click.option("--name", "label", default="cli", show_default=True, help="A label for the token.")
@click.pass_obj
def token(obj, name, label):
    """Make an API token for NAME and print it (only now; the store keeps its hash)."""
    from paperboy.web.auth import new_token, token_hash

    found = obj.store.user_by_name(name)
    if found is None:
        fail(f"no user named {name!r}")
    value = new_token()
    obj.store.create_api_token(found.id, label, token_hash(value))
    click.echo(value)
