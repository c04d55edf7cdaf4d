"""Facts about the running system that several layers ask for: today's date in UTC, and
whether a process still lives (for locks that name their holder's pid).

    utc_today()        # the feed's "today": dates in paperboy are UTC days
    pid_alive(12345)   # False once that process has exited
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def utc_today() -> date:
    return datetime.now(UTC).date()


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
