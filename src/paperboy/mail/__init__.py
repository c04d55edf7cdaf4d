"""Email: trending digests and topic alerts, with double opt-in and exactly-once sending.

- `subscriptions`: validate and record subscribe requests; confirm, preferences, unsubscribe.
- `links`: signed, expiring links for those pages.
- `periods`: which digests are due on a day and which feed days they cover.
- `compose`: choose each digest's papers, render the templates, build the MIME message.
- `send`: SMTP (STARTTLS or implicit TLS, login), retries, failures sorted by what to do.
- `digests`: a run over all due subscribers, made exactly-once by the send log in the store.
- `schedule`: send every day at a configured hour from inside `paperboy serve`.
See docs/mail.md.
"""
