"""Progress for long work: a bar on a terminal, plain log lines (every few seconds) elsewhere.

with Progress("import", total=size, unit="B") as bar:
    bar.set_position(bytes_read, papers_done)
"""

from __future__ import annotations

import sys
import time

from tqdm import tqdm


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None = None,
        unit: str = "it",
        stream=None,
        every: float = 5.0,
        enabled: bool = True,
    ):
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.every = every
        self.done = 0
        self.items = 0
        self._start = time.monotonic()
        self._last_log = self._start
        self._bar = None
        self._enabled = enabled
        if enabled and self.stream.isatty():
            self._bar = tqdm(
                total=total,
                unit=unit,
                unit_scale=unit == "B",
                desc=label,
                file=self.stream,
                dynamic_ncols=True,
                smoothing=0.1,
            )

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def set_position(self, done: int, items: int) -> None:
        """Where the work stands now: `done` in `unit`s (bytes, pages ...), `items` papers."""
        advance = done - self.done
        self.done, self.items = done, items
        if self._bar is not None:
            self._bar.update(advance)
            self._bar.set_postfix(papers=f"{items:,}", refresh=False)
            return
        now = time.monotonic()
        if self._enabled and now - self._last_log >= self.every:
            self._last_log = now
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def grow(self, total: int) -> None:
        """Raise the total (more work turned up while this went on)."""
        if self.total is not None and total > self.total:
            self.total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._start, 1e-9)
        text = f"{self.label}: {self.items:,} papers, {self.items / elapsed:,.0f}/s"
        if self.total:
            share = self.done / self.total
            eta = elapsed * (1 - share) / share if share > 0 else 0
            text += f", {share:.0%} done, ETA {eta:,.0f}s"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
