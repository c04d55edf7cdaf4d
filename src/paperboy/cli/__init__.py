"""The `paperboy` command (the `main` group of cli/main.py): one module per topic.

    paperboy import FILE...   paperboy sync   paperboy serve   paperboy digest send ...

Every command reads the same Settings (PAPERBOY_* env, --config file, then its own options).
Errors a user can fix end with a one-line `error: ...` and exit status 1 (`common.fail`),
never a traceback; a malformed option is a usage error (exit status 2).
"""

from paperboy.cli.main import main

__all__ = ["main"]
