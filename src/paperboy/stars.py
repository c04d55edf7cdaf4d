"""Reading the GitHub star counts of the papers' code repositories into the star history.

    run = read_stars(store, settings, limit=50)   # StarsRun: read, failed, stopped

Repositories linked from feed papers (newest feed day first) that were not read from GitHub
today are read one by one (sources/github.py keeps the rate limits) and each count is stored
at once with today's date (store/media.py), so a run stopped by the rate limit resumes with
the rest. The history is what gives a repository's growth, which trending weighs (feeds.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from paperboy.config import Settings
from paperboy.progress import Progress
from paperboy.sources import SourceError
from paperboy.sources.github import RateLimited, StarReader
from paperboy.sources.http import PoliteClient, Unreachable
from paperboy.store.media import Stars


@dataclass
class StarsRun:
    read: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (repository, reason)
    stopped: str | None = None

    def summary(self) -> str:
        return f"stars: read {self.read} repositories, failed {len(self.failed)}"


def read_stars(
    store,
    settings: Settings,
    limit: int,
    day: date | None = None,
    show_progress: bool = True,
    reader_factory=StarReader,
) -> StarsRun:
    stars = Stars(store)
    day = day or datetime.now(UTC).date()
    repos = stars.repos_to_read(day, limit)
    run = StarsRun()
    if not repos:
        return run
    with (
        PoliteClient(settings) as client,
        Progress("stars", total=len(repos), unit="repo", enabled=show_progress) as bar,
    ):
        reader = reader_factory(client, settings)
        for done, repo in enumerate(repos, start=1):
            try:
                count = reader.stars(repo)
            except (RateLimited, Unreachable) as exc:
                run.stopped = str(exc)
                break
            except SourceError as exc:
                run.failed.append((repo, str(exc)))
            else:
                stars.record({repo: count}, day, "github")
                run.read += 1
            bar.set_position(done, run.read)
    return run
