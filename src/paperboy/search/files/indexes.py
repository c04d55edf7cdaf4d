"""The search indexes as files beside the store (`search_backend = "files"`, the default).

    indexes = FileIndexes(settings)     # upkeep.open_indexes() picks it
    with indexes.writing():
        indexes.reopened().update(store)

Layout under `<data_dir>/index/`: `keyword-vN/` (tantivy, keyword.py; N is its schema
version), `vectors/<model>/` (one folder per embedding model, vectors.py) and `state.json` (the
keyword index's watermark). One writer at a time across processes: a file lock,
`<data_dir>/search.lock` (`writing_indexes`). The updating itself is the shared one
(search/updater.py).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from paperboy.config import Settings
from paperboy.search.backends import Encoder
from paperboy.search.encoders import supports_passages, vectors_identity
from paperboy.search.files.keyword import SCHEMA_VERSION as KEYWORD_SCHEMA
from paperboy.search.files.keyword import KeywordIndex
from paperboy.search.files.vectors import VectorIndex, saved_generation
from paperboy.search.updater import SearchIndexes, UpdateReport

if TYPE_CHECKING:
    from paperboy.store.vectors import StoredVectors


def index_folder(settings: Settings) -> Path:
    return Path(settings.data_dir) / "index"


def vectors_folder(folder: Path, model: str) -> Path:
    """Where a model's vectors live under an index folder (a passages model, "name#passages",
    in "name-passages")."""
    return folder / "vectors" / _slug(model.replace("#passages", "-passages"))


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model)


def _write_json(path: Path, data: dict[str, int]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


class FileIndexes(SearchIndexes):
    """The keyword index and the vector indexes of one data directory."""

    searches_at_once = True
    keyword: KeywordIndex
    dense: VectorIndex
    bulk: VectorIndex | None
    passages: VectorIndex | None

    def __init__(
        self,
        settings: Settings,
        encoders: dict[str, Encoder] | None = None,
        kept: StoredVectors | None = None,
    ):
        self.settings = settings
        self.kept = kept  # vectors shared through the store with the other hosts, if any
        self.folder = index_folder(settings)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.state_path = self.folder / "state.json"
        # Each keyword schema has its own folder: a paperboy with a newer schema builds its
        # index beside the old one (whose readers keep working) and then removes it.
        self.keyword = KeywordIndex(self.folder / f"keyword-v{KEYWORD_SCHEMA}")
        self._encoders = encoders if encoders is not None else {}
        self.dense = self._vectors(settings.search_model)
        self.bulk = (
            self._vectors(settings.search_bulk_model) if settings.search_bulk_model else None
        )
        self.passages = None  # sentences of each paper, to re-score top candidates
        if settings.search_passages and supports_passages(settings.search_model):
            self.passages = VectorIndex.open(
                vectors_folder(self.folder, settings.search_model + "#passages"),
                self.dense.dim,
                settings.search_model + "#passages",
                exact_limit=10**12,
            )  # only ever scored, never searched

    def _vectors(self, model: str) -> VectorIndex:
        dim = self._dim(model)
        return VectorIndex.open(
            vectors_folder(self.folder, model),
            dim,
            model,
            self.settings.search_exact_limit,
            weights=vectors_identity(model),
        )

    def _dim(self, model: str) -> int:
        meta = vectors_folder(self.folder, model) / "meta.json"
        if meta.exists():
            try:
                return int(json.loads(meta.read_text())["dim"])
            except (ValueError, KeyError):
                pass
        return self.encoder(model).dim

    def reopened(self) -> FileIndexes:
        """These indexes as saved now (another process may have written them)."""
        return FileIndexes(self.settings, encoders=self._encoders, kept=self.kept)

    def writing(self, wait: bool = True) -> AbstractContextManager[bool]:
        """Held while updating: one writer at a time across processes (see writing_indexes)."""
        return writing_indexes(self.settings, wait)

    # -- watermarks --------------------------------------------------------------------------
    @property
    def keyword_watermark(self) -> int:
        """What the keyword index absorbed (0 when it was written with another schema)."""
        if not self.state_path.exists():
            return 0
        try:
            state = json.loads(self.state_path.read_text())
            if state.get("keyword_schema", 1) != KEYWORD_SCHEMA:
                return 0
            return int(state.get("keyword_watermark", 0))
        except ValueError:
            return 0

    def _set_keyword_watermark(self, seq: int) -> None:
        _write_json(self.state_path, {"keyword_watermark": seq, "keyword_schema": KEYWORD_SCHEMA})

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever any index is saved (readers reload when it moves): each save
        replaces these files (a new file renamed over the old), so their inode numbers move
        even where the filesystem's timestamps are too coarse to tell two saves apart; and a
        vector folder's `meta.json` names its generation, which each save there raises, so
        an inode number the filesystem hands out again cannot bring back an old stamp after
        a save of vectors (a save of `state.json` alone still relies on its mtime, inode
        and size)."""
        vectors = [v for v in (self.dense, self.bulk) if v is not None]
        metas = [v.folder / "meta.json" for v in vectors if v.folder is not None]
        stamp: list[int] = []
        for path in [self.state_path, *metas]:
            try:
                info = path.stat()
            except FileNotFoundError:
                stamp += [0, 0, 0]
            else:
                stamp += [info.st_mtime_ns, info.st_ino, info.st_size]
        return tuple(stamp) + tuple(saved_generation(meta.parent) for meta in metas)

    def _keyword_updated(self, report: UpdateReport) -> None:
        """After an update added papers to the keyword index."""
        self._drop_old_keyword_folders()

    def _drop_old_keyword_folders(self) -> None:
        for old in [self.folder / "keyword", *self.folder.glob("keyword-v*")]:
            if old != self.keyword.path and old.is_dir():
                shutil.rmtree(old, ignore_errors=True)


@contextmanager
def writing_indexes(settings: Settings, wait: bool = True) -> Iterator[bool]:
    """One index writer at a time across processes (a sync, a web submit, `paperboy index`):
    the others wait here, then find the work done and add only what is left. With
    `wait=False` it yields False at once when another process holds it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.data_dir / "search.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
