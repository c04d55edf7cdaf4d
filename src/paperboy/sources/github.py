"""GitHub star counts: each linked repository's `stargazers_count` from the REST API.

    with PoliteClient(settings) as client:
        reader = StarReader(client, settings)
        reader.stars("alibaba/conv-llava")      # 1234, or RepoError (gone, private ...)

`GET /repos/{owner}/{repo}` answers the repository object
(https://docs.github.com/en/rest/repos/repos#get-a-repository); we read `stargazers_count`.
Manners, beyond the polite client's one request at a time (sources/http.py):
- a token (the github_token setting) is sent as `Authorization: Bearer`: 5,000 requests an
  hour instead of 60;
- every answer carries `X-RateLimit-Remaining` and `X-RateLimit-Reset` (Unix time): when none
  remain we wait for the reset before the next request, or, when that is further away than
  http_retry_after_max, stop with `RateLimited` saying when to come back;
- a secondary limit (403 or 429 with `Retry-After`) is waited out the same way;
  429 with Retry-After is already retried by the client.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from paperboy.config import Settings
from paperboy.sources import SourceError
from paperboy.sources.http import PoliteClient, retry_after_seconds

API_VERSION = "2022-11-28"


class RepoError(SourceError):
    """One repository cannot be read (gone, private, renamed away): skip it."""


class RateLimited(SourceError):
    """GitHub allows no more requests until a time too far away to wait for: stop the run."""


def _reset_text(reset: float) -> str:
    return datetime.fromtimestamp(reset, UTC).strftime("%H:%M UTC")


class StarReader:
    """Reads star counts one repository at a time, keeping GitHub's rate limits."""

    def __init__(self, client: PoliteClient, settings: Settings, clock=time.time, sleep=time.sleep):
        self.client, self.settings = client, settings
        self.clock, self.sleep = clock, sleep
        self.headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        if settings.github_token:
            self.headers["Authorization"] = f"Bearer {settings.github_token}"
        self._wait_until = 0.0  # no request before this Unix time (limits used up)

    def stars(self, repo: str) -> int:
        """The star count of `repo` ('owner/name')."""
        url = f"{self.settings.github_api_url.rstrip('/')}/repos/{repo}"
        for _ in range(3):  # a secondary limit may ask us to wait a couple of times
            self._wait_for_limit(url)
            response = self.client.get(url, accept=(403, 404, 410, 451), headers=self.headers)
            self._note_limit(response)
            if response.status_code == 200:
                return self._count(url, response.content)
            if response.status_code in (404, 410, 451):
                raise RepoError(
                    f"{url}: HTTP {response.status_code}: no such public "
                    "repository (deleted, renamed away or private)"
                )
            # 403: a used-up limit (primary or secondary) is waited out; anything else is
            # this repository's problem (blocked, or the token may not read it).
            retry = retry_after_seconds(response.headers.get("Retry-After"))
            if retry is not None:
                self._wait_until = max(self._wait_until, self.clock() + retry)
            elif response.headers.get("X-RateLimit-Remaining") != "0":
                raise RepoError(f"{url}: HTTP 403: {_message(response.content)}")
        raise RateLimited(f"{url}: GitHub kept refusing with its rate limit; try again later")

    def _count(self, url: str, body: bytes) -> int:
        try:
            count = json.loads(body)["stargazers_count"]
        except (ValueError, KeyError, TypeError):
            raise RepoError(f"{url}: the answer has no stargazers_count") from None
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise RepoError(f"{url}: stargazers_count is {count!r}, not a count")
        return count

    def _note_limit(self, response) -> None:
        """After an answer that says no requests remain, hold the next until the reset."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset", "")
        if remaining == "0" and reset.isdigit():
            self._wait_until = max(self._wait_until, float(reset) + 1)

    def _wait_for_limit(self, url: str) -> None:
        wait = self._wait_until - self.clock()
        if wait <= 0:
            return
        if wait > self.settings.http_retry_after_max:
            hint = (
                ""
                if self.settings.github_token
                else " (a github_token setting raises the limit from 60 to 5,000 requests an hour)"
            )
            raise RateLimited(
                f"{url}: GitHub's rate limit is used up until {_reset_text(self._wait_until)}, "
                f"{wait:.0f} s away, longer than we wait (PAPERBOY_HTTP_RETRY_AFTER_MAX = "
                f"{self.settings.http_retry_after_max:g} s); run again after that{hint}"
            )
        self.sleep(wait)


def _message(body: bytes) -> str:
    try:
        return str(json.loads(body).get("message", "forbidden"))[:200]
    except (ValueError, AttributeError):
        return "forbidden"
