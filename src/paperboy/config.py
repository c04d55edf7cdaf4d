"""One `Settings` object: defaults, overridden by a TOML config file, overridden by PAPERBOY_* env.

    settings = Settings.load()                       # env + optional config file
    settings = Settings.load(data_dir="/tmp/pb")     # explicit values win over both
    settings.http.timeout == settings.http_timeout   # the same setting, by area or flat

Each setting has one flat name (its config key, and PAPERBOY_<NAME> in the environment) and
belongs to one area: store, sources, http, web, search or mail (`settings.<area>.<name>`,
read-only views). Every setting is documented in docs/configuration.md, under its area; tests
fail when one is not, or belongs to no area. `import_pause` and `mail_send_pause` are test
seams, read from the environment only, not settings.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs


class ConfigError(ValueError):
    """A setting has a value we cannot use; the message names the setting and the value."""


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("paperboy", appauthor=False))


@dataclass(frozen=True)
class Settings:
    # Where the SQLite file, the index files and the secret key live.
    data_dir: Path = field(default_factory=_default_data_dir)
    # Empty: SQLite in data_dir. A postgresql:// URL selects the PostgreSQL store.
    database_url: str = ""
    # What `paperboy sync` fetches: hf (HF daily papers), rss (arXiv announcement feed).
    sync_sources: tuple[str, ...] = ("hf",)
    # arXiv categories for the announcement feed and OAI-PMH harvests.
    arxiv_categories: tuple[str, ...] = ("cs.AI", "cs.CL", "cs.CV", "cs.LG")
    # Upstream base URLs (tests point them at a loopback server).
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    arxiv_rss_url: str = "https://rss.arxiv.org/atom"
    hf_api_url: str = "https://huggingface.co/api"
    # The polite HTTP client: arXiv asks for at most one request every 3 seconds.
    http_min_interval: float = 3.0
    http_timeout: float = 30.0
    http_retries: int = 5
    http_backoff: float = 2.0  # seconds before the first retry; doubles each time, with jitter
    user_agent: str = "paperboy/0.1 (self-hosted paper feed; +https://github.com/paperboy)"
    # Longest Retry-After (seconds) we wait for; a server asking for more ends the run.
    http_retry_after_max: float = 300.0
    # First-page thumbnails (docs/web.md, `paperboy thumbnails`): the PDF of paper ID is read
    # from arxiv_pdf_url/ID; one larger than thumbnail_max_mb megabytes, or not complete within
    # thumbnail_timeout seconds, is refused. Images are thumbnail_width pixels wide (WebP).
    # `paperboy sync` makes at most sync_thumbnails of them after its sources (0: none).
    arxiv_pdf_url: str = "https://arxiv.org/pdf"
    thumbnail_width: int = 320
    thumbnail_max_mb: float = 25.0
    thumbnail_timeout: float = 120.0
    sync_thumbnails: int = 100
    # GitHub star counts of the papers' code repositories (docs/sources.md, `paperboy stars`):
    # the REST API's base URL, a token (without one GitHub allows 60 requests an hour, with one
    # 5,000), and how many repositories `paperboy sync` reads after its sources (0: none).
    github_api_url: str = "https://api.github.com"
    github_token: str = ""
    sync_stars: int = 50
    # Ids per arXiv API look-up request, and results per page of an API search (arXiv: <= 2000).
    arxiv_api_page_size: int = 100
    # First day `paperboy sync` fetches when it has never run (days back from today).
    sync_initial_days: int = 3
    # Papers written per transaction in bulk imports; each batch also checkpoints the run.
    import_batch_size: int = 2000
    # Web server.
    host: str = "127.0.0.1"
    port: int = 8000
    # Seconds a `serve --workers N` worker may take to answer the supervisor's health check
    # before it is killed and replaced; a worker starting on a busy machine needs more than
    # uvicorn's 5 (docs/security.md, "Worker start-up").
    worker_healthcheck_timeout: int = 60
    # Papers submitted by id that are not stored wait in a queue for one worker per deployment
    # (docs/web.md): `paperboy serve` runs it unless submissions_worker is false (then run
    # `paperboy submissions run` from cron). Pending submissions allowed per user and in all;
    # tries before a submission fails; seconds before a failed fetch is tried again (doubling).
    submissions_worker: bool = True
    submissions_per_user: int = 20
    submissions_max: int = 1000
    submissions_attempts: int = 5
    submissions_retry: float = 60.0
    # Collections (reading lists, docs/for-you.md), by page and API alike: the most collections
    # one user may have and papers one collection may hold (more answer 400 saying so), and
    # papers one user may save (or re-note) per minute (more answer 429 with Retry-After).
    collections_per_user: int = 200
    collection_papers: int = 2000
    collection_saves_per_minute: int = 60
    # Search (docs/search.md). The embedding model for queries and new papers: minilm (bundled),
    # static (bundled), model2vec:NAME or sentence-transformers:NAME.
    search_model: str = "minilm"
    # The fast model for bulk imports (empty: the transformer encodes everything).
    search_bulk_model: str = "static"
    # Papers the transformer encodes per update; a bigger backlog goes to the bulk model. 10,000
    # is about 5 minutes on 2 cores (~35 papers/s with passages): a corpus that size gets the
    # transformer's search at import (SciFact train hybrid 0.742 against 0.709 with static).
    search_embed_limit: int = 10000
    # Share of the keyword (BM25) score in the fused ranking (the semantic one gets the rest):
    # "auto" uses the weight tuned for each model's vectors, or a number from 0 to 1.
    search_keyword_weight: str = "auto"
    # Vector rows searched exactly; above this an HNSW graph is used.
    search_exact_limit: int = 50_000
    # Also encode 128-token passages of each abstract and re-score the top candidates with
    # them (better ranking; the paper's vector is pooled from the same runs, so it costs
    # little more than reading the whole abstract).
    search_passages: bool = True
    # Texts the transformer encodes at once on the CPU, one core each (0: one per core).
    search_threads: int = 0
    # Where the search indexes live: "files" (beside the store, in data_dir/index), "postgres"
    # (tables in the PostgreSQL database: tsvector + pgvector), or "auto" (postgres when
    # database_url is PostgreSQL, else files).
    search_backend: str = "auto"
    # Index replicas (docs/deploy.md): seconds between a web process's looks at the store's
    # change counter, to bring this host's index files up to writes made through other hosts
    # (0: never; it looks only with a PostgreSQL store and search_backend files).
    search_follow: float = 1.0
    # Keep each encoded vector in the store, so other hosts' index files take it instead of
    # encoding the paper again: "auto" (on when the store is PostgreSQL and the indexes are
    # files), "on" or "off".
    search_keep_vectors: str = "auto"

    # -- mail (digests and topic alerts; docs/mail.md) --
    # The address people reach this paperboy at: the base of every link in a mail.
    public_url: str = "http://127.0.0.1:8000"
    # Signs the links in mails (confirm, unsubscribe, preferences). Empty: a random key is
    # generated on first use and kept in data_dir/secret_key (file mode 0600).
    secret_key: str = ""
    # Where mail goes (mail/backends.py): "smtp" (the relay below), "outbox" (files in
    # data_dir/outbox, nothing leaves the machine), "console" (printed), or "auto": "outbox" in
    # the data directory `paperboy demo` made, else "smtp".
    mail_backend: str = "auto"
    # The SMTP server that relays mail. smtp_security: "none", "starttls" or "tls" (implicit
    # TLS, usually port 465). Login only when smtp_username is set.
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_security: str = "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 30.0
    # A CA bundle (PEM) to trust for the SMTP server's certificate, e.g. a self-signed relay.
    smtp_ca_file: str = ""
    # The envelope sender and From header of every mail, and the name shown with it.
    mail_from: str = "paperboy@localhost"
    mail_from_name: str = "paperboy"
    # Papers in a digest's top section, and per topic section.
    mail_digest_size: int = 10
    mail_topic_size: int = 5
    # Most saved topics per subscriber.
    mail_max_topics: int = 10
    # How far back a digest may reach when mails were missed (days of the feed), and how much
    # older than the digest's first feed day a paper may have been published to match a topic.
    mail_catch_up_days: int = 7
    mail_topic_published_days: int = 60
    # Weekly digests go out on this weekday (monday .. sunday); daily ones on weekdays.
    mail_weekly_day: str = "monday"
    # The scheduler: when true, `paperboy serve` sends digests every day at mail_send_at
    # (HH:MM) in mail_timezone, and retries deferred mail every mail_retry_minutes.
    mail_scheduler: bool = False
    mail_send_at: str = "07:00"
    mail_timezone: str = "UTC"
    mail_retry_minutes: int = 30
    # Transient SMTP failures (4xx, refused connections, timeouts): tries per message within
    # a run, and the first pause between them (seconds; doubles each time).
    mail_retries: int = 3
    mail_retry_backoff: float = 2.0
    # Permanent failures (5xx) in a row after which an address is marked bouncing.
    mail_bounce_limit: int = 3
    # How long a confirmation link stays valid (hours), how soon a second confirmation mail
    # may go to the same address (minutes), and how long a preferences link works (days).
    mail_confirm_hours: int = 48
    mail_confirm_interval: int = 10
    mail_link_days: int = 90

    # -- the settings by area (read-only views; the flat names above stay the source) --
    @property
    def store(self) -> StoreSettings:
        return _area(StoreSettings, self)

    @property
    def sources(self) -> SourceSettings:
        return _area(SourceSettings, self)

    @property
    def http(self) -> HttpSettings:
        return _area(HttpSettings, self)

    @property
    def web(self) -> WebSettings:
        return _area(WebSettings, self)

    @property
    def search(self) -> SearchSettings:
        return _area(SearchSettings, self)

    @property
    def mail(self) -> MailSettings:
        return _area(MailSettings, self)

    # -- test seams: pauses that let a test interrupt work at a known point. Not settings
    # (no config key, not in docs/configuration.md); read from the environment of the process
    # under test, so a test can set them on a subprocess.
    @property
    def import_pause(self) -> float:
        """Seconds to sleep after each batch of an import, harvest page or sync day."""
        return _seam("PAPERBOY_IMPORT_PAUSE")

    @property
    def mail_send_pause(self) -> float:
        """Seconds to sleep after each mail sent."""
        return _seam("PAPERBOY_MAIL_SEND_PAUSE")

    @property
    def sqlite_path(self) -> Path:
        if self.database_url.startswith("sqlite:///"):
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "paperboy.sqlite3"

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> Settings:
        """Defaults < config file (PAPERBOY_CONFIG or `config_file`) < env PAPERBOY_* <
        overrides."""
        values: dict[str, Any] = {}
        path = config_file or os.environ.get("PAPERBOY_CONFIG")
        if path:
            values.update(_read_config_file(Path(path)))
        for f in fields(cls):
            env = os.environ.get(f"PAPERBOY_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._with(values)

    def to_json(self) -> str:
        """Every setting, as JSON: what `paperboy serve` hands its worker processes."""
        return json.dumps({f.name: _plain(getattr(self, f.name)) for f in fields(self)})

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The settings `to_json` wrote, checked and converted like any other source."""
        return cls()._with(json.loads(text))

    def _with(self, values: dict[str, Any]) -> Settings:
        known = {f.name: f for f in fields(self)}
        converted = {}
        for name, raw in values.items():
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            converted[name] = _convert(name, raw, type(getattr(self, name)))
        return replace(self, **converted)


def _seam(name: str) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else 0.0
    except ValueError:
        raise ConfigError(f"{name} expects a number of seconds, got {raw!r}") from None


# The settings of each area, by their names within it: `settings.http.timeout` is the flat
# `http_timeout` (the area's prefix), `settings.http.user_agent` the flat `user_agent`.
@dataclass(frozen=True)
class StoreSettings:
    data_dir: Path
    database_url: str


@dataclass(frozen=True)
class SourceSettings:
    sync_sources: tuple[str, ...]
    arxiv_categories: tuple[str, ...]
    arxiv_api_url: str
    arxiv_oai_url: str
    arxiv_rss_url: str
    hf_api_url: str
    arxiv_api_page_size: int
    sync_initial_days: int
    import_batch_size: int
    arxiv_pdf_url: str
    thumbnail_width: int
    thumbnail_max_mb: float
    thumbnail_timeout: float
    sync_thumbnails: int
    github_api_url: str
    github_token: str
    sync_stars: int


@dataclass(frozen=True)
class HttpSettings:
    min_interval: float
    timeout: float
    retries: int
    backoff: float
    user_agent: str
    retry_after_max: float


@dataclass(frozen=True)
class WebSettings:
    host: str
    port: int
    worker_healthcheck_timeout: int
    submissions_worker: bool
    submissions_per_user: int
    submissions_max: int
    submissions_attempts: int
    submissions_retry: float
    collections_per_user: int
    collection_papers: int
    collection_saves_per_minute: int


@dataclass(frozen=True)
class SearchSettings:
    model: str
    bulk_model: str
    embed_limit: int
    keyword_weight: str
    exact_limit: int
    passages: bool
    threads: int
    backend: str
    follow: float
    keep_vectors: str


@dataclass(frozen=True)
class MailSettings:
    public_url: str
    secret_key: str
    backend: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    smtp_timeout: float
    smtp_ca_file: str
    mail_from: str
    mail_from_name: str
    digest_size: int
    topic_size: int
    max_topics: int
    catch_up_days: int
    topic_published_days: int
    weekly_day: str
    scheduler: bool
    send_at: str
    timezone: str
    retry_minutes: int
    retries: int
    retry_backoff: float
    bounce_limit: int
    confirm_hours: int
    confirm_interval: int
    link_days: int


AREAS: dict[str, type] = {
    "store": StoreSettings,
    "sources": SourceSettings,
    "http": HttpSettings,
    "web": WebSettings,
    "search": SearchSettings,
    "mail": MailSettings,
}


def flat_name(area: str, name: str) -> str:
    """The flat setting (and PAPERBOY_* variable) behind `settings.<area>.<name>`."""
    prefixed = f"{area}_{name}"
    return prefixed if prefixed in _FLAT else name


def _area(cls: type, settings: Settings):
    area = next(key for key, kind in AREAS.items() if kind is cls)
    return cls(**{f.name: getattr(settings, flat_name(area, f.name)) for f in fields(cls)})


def _plain(value: Any) -> Any:
    return (
        str(value)
        if isinstance(value, Path)
        else list(value)
        if isinstance(value, tuple)
        else value
    )


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return data.get("paperboy", data)


def _weight_or_auto(raw: Any) -> str:
    text = str(raw).strip().lower()
    if text != "auto" and not 0.0 <= float(text) <= 1.0:
        raise ValueError(text)
    return text


_CHECKS = {"search_keyword_weight": _weight_or_auto}


def _convert(name: str, raw: Any, kind: type) -> Any:
    if name in _CHECKS:
        try:
            return _CHECKS[name](raw)
        except (TypeError, ValueError):
            raise ConfigError(
                f'setting {name!r} expects "auto" or a number from 0 to 1, got {raw!r}'
            ) from None
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is tuple:
            if isinstance(raw, str):
                return tuple(part.strip() for part in raw.split(",") if part.strip())
            return tuple(raw)
        if kind is bool:
            return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"setting {name!r} expects {kind.__name__}, got {raw!r}") from None


_FLAT = frozenset(f.name for f in fields(Settings))
