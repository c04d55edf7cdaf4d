"""The mail commands of `paperboy`: subscribe, unsubscribe, subscribers, digest send/status.

    paperboy subscribe ada@example.org --topic "diffusion -video" --frequency weekly
    paperboy digest send --dry-run
    paperboy digest send                # what cron, a systemd timer or the scheduler runs
    paperboy digest status
    paperboy digest replies             # reply notices left queued (digest send does it too)

Added to the `paperboy` group by paperboy/cli/main.py.
"""

from __future__ import annotations

import sys
import time

import click

from paperboy.cli.common import DAY, fail
from paperboy.mail.records import FREQUENCIES, STATUSES


@click.command()
@click.argument("email")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="QUERY",
    help="A saved search for topic alerts (repeatable), e.g. 'diffusion -video'.",
)
@click.option("--frequency", type=click.Choice(FREQUENCIES), default="daily", show_default=True)
@click.option("--name", default="", help="Display name for the To header.")
@click.option("--no-top", is_flag=True, help="Topic alerts only, without the top papers.")
@click.pass_obj
def subscribe(obj, email, topics, frequency, name, no_top):
    """Subscribe EMAIL: sends a confirmation mail; nothing else until it is confirmed."""
    from paperboy.mail.send import DeliveryError
    from paperboy.mail.subscriptions import InvalidSubscription, Subscriptions

    subs = Subscriptions(obj.store, obj.settings)
    try:
        request = subs.request(
            email, topics=list(topics), frequency=frequency, name=name, include_top=not no_top
        )
    except InvalidSubscription as exc:
        fail(f"{exc.field}: {exc}")
    try:
        sent = subs.send_request_mail(request)
    except DeliveryError as exc:
        fail(f"could not send the confirmation mail to {request.subscriber.email}: {exc}")
    address = request.subscriber.email
    if not sent:
        click.echo(f"{address}: a mail went to this address minutes ago; not sending another")
    elif request.mail == "confirm":
        click.echo(
            f"{address}: confirmation mail sent; the subscription starts when the link "
            "in it is opened"
        )
        _say_where_mail_went(obj.settings)
    else:
        click.echo(f"{address}: already subscribed; sent a mail with a preferences link")


def _say_where_mail_went(settings) -> None:
    """Without a relay, the mail is still somewhere a person can read it: say where."""
    from paperboy.mail.backends import backend_of, outbox_folder

    if backend_of(settings) == "outbox":
        click.echo(
            f"  (no relay: the mail is in {outbox_folder(settings)}; in the demo, "
            f"{settings.public_url.rstrip('/')}/_outbox shows it)"
        )


@click.command()
@click.argument("email")
@click.option(
    "--forget", is_flag=True, help="Delete the subscriber and everything recorded about them."
)
@click.pass_obj
def unsubscribe(obj, email, forget):
    """Stop all mail to EMAIL (or, with --forget, delete every trace of it)."""
    from paperboy.mail.subscriptions import InvalidSubscription, normalise_email

    try:
        address = normalise_email(email)
    except InvalidSubscription as exc:
        fail(str(exc))
    subscriber = obj.store.subscriber_by_email(address)
    if subscriber is None:
        fail(f"{address} is not subscribed")
    if forget:
        obj.store.forget_subscriber(subscriber.id)
        click.echo(f"{address}: deleted with its topics, send log and bounces")
    else:
        obj.store.unsubscribe(subscriber.id)
        click.echo(f"{address}: unsubscribed")


@click.command()
@click.option("--status", type=click.Choice(STATUSES), help="Only subscribers in this state.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100000))
@click.pass_obj
def subscribers(obj, status, limit):
    """Subscribers with their state, frequency and topics."""
    counts = obj.store.count_subscribers()
    click.echo(", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES))
    for sub in obj.store.subscribers(status, limit=limit):
        topics = "; ".join(sub.topics) if sub.topics else "-"
        covered = sub.covered_through.isoformat() if sub.covered_through else "never"
        click.echo(
            f"{sub.email:<40} {sub.status:<12} {sub.frequency:<7} "
            f"last covered {covered:<10}  topics: {topics}"
        )


@click.group()
def digest():
    """Send the daily and weekly digests, and see what was sent."""


@digest.command("send")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Compose every digest and say who would get what; send and record nothing.",
)
@click.option(
    "--to",
    "to",
    metavar="ADDRESS",
    help="Only this subscriber's digest (whatever the weekday). With --dry-run, print the message.",
)
@click.option(
    "--date", "day", type=DAY, help="Run as on this day (default: today in mail_timezone)."
)
@click.option("--quiet", is_flag=True, help="Only the summary line.")
@click.pass_obj
def digest_send(obj, dry_run, to, day, quiet):
    """Send the digests due today; a rerun sends only what is missing (exactly once)."""
    from paperboy.mail.backends import readable
    from paperboy.mail.digests import DigestRun, DigestRunBusy, NotSubscribed
    from paperboy.mail.subscriptions import InvalidSubscription, normalise_email

    only = None
    if to:
        try:
            only = normalise_email(to)
        except InvalidSubscription as exc:
            fail(f"--to: {exc}")
    printed = []

    def show(subscriber, message: bytes) -> None:
        if dry_run and only:
            printed.append(message)

    progress = _Progress(enabled=not quiet)
    try:
        report = DigestRun(obj.store, obj.settings).run(
            day, dry_run=dry_run, only=only, on_message=show, on_progress=progress
        )
    except (DigestRunBusy, NotSubscribed) as exc:
        fail(str(exc))
    for message in printed:
        click.echo(readable(message))
    click.echo(report.summary())
    if not dry_run and not only:
        _send_replies(obj, quiet=True)
    if report.stopped and report.last_feed_day is not None:
        sys.exit(2)


def _send_replies(obj, quiet: bool) -> None:
    """Send the reply notices that are due (mail/replies.py); a line when there were any."""
    from paperboy.mail.replies import send_queued_replies

    report = send_queued_replies(obj.store, obj.settings)
    if report.handled or not quiet:
        click.echo(report.summary())


@digest.command("replies")
@click.option("--quiet", is_flag=True, help="Say nothing when no notice was due.")
@click.pass_obj
def digest_replies(obj, quiet):
    """Send the reply notices that are due: those a stopped server left queued, and deferred
    ones. Each goes out at most once, however often this runs (`digest send` runs it too)."""
    _send_replies(obj, quiet)


class _Progress:
    """A line on stderr every few seconds while a run is long."""

    def __init__(self, enabled: bool, every: float = 5.0):
        self.enabled, self.every = enabled, every
        self.start = self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.enabled and now - self.last >= self.every and total:
            self.last = now
            rate = done / max(now - self.start, 1e-9)
            click.echo(f"digests: {done:,}/{total:,} ({rate:,.0f}/s)", err=True)


@digest.command("status")
@click.option("--period", help="One period in detail, e.g. daily:2026-08-21.")
@click.pass_obj
def digest_status(obj, period):
    """The send log: how each recent period went (sent, deferred, rejected ...)."""
    if period:
        for row in obj.store.send_log(period=period):
            error = f"  {row['code'] or ''} {row['error']}" if row["error"] else ""
            click.echo(
                f"{row['email']:<40} {row['status']:<9} attempts {row['attempts']} "
                f"papers {row['papers']}{error}"
            )
        return
    rows = obj.store.send_log_summary()
    if not rows:
        click.echo("no digests sent yet")
    current = None
    for name, status, count in rows:
        if name != current:
            click.echo(name)
            current = name
        click.echo(f"  {status:<9} {count}")


@digest.command("scheduler")
@click.pass_obj
def digest_scheduler(obj):
    """Run the scheduler in the foreground: send every day at mail_send_at (Ctrl-C stops)."""
    import logging

    from paperboy.mail.schedule import DigestScheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    scheduler = DigestScheduler(obj.settings)
    scheduler.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        scheduler.stop()
