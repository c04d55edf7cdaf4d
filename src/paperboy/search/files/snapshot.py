"""A host's index files as one archive, to start another host from (issue #16).

    write_snapshot(settings, "index.tar")     # `paperboy index --snapshot index.tar`
    install_snapshot(settings, "index.tar")   # `paperboy index --from-snapshot index.tar`

A new web host in a deployment with PostgreSQL as the store and index files on each host
(docs/deploy.md) can build its index from the store (`paperboy index`, with a progress bar; the
vectors come from the store, so it costs the keyword side only), or start from a copy of
another host's files: the archive holds the keyword index, the vector indexes and their
watermarks, taken under the writers' lock so that they agree with each other. After installing
it, the host's next update (its follower, or `paperboy index --check` then an update) takes only
what the store gained since the copy was made.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

from paperboy.config import ConfigError, Settings
from paperboy.search.files.indexes import index_folder, writing_indexes

MARKER = "state.json"  # the keyword watermark: every index folder that was ever updated has it


class SnapshotError(ConfigError):
    """The archive cannot be written or is not a paperboy index; the message says why."""


def write_snapshot(settings: Settings, path: str | Path) -> Path:
    """Archive this data directory's index files (uncompressed tar: vectors do not compress)."""
    folder, path = index_folder(settings), Path(path)
    if not (folder / MARKER).exists():
        raise SnapshotError(f"{folder} holds no search index yet: run paperboy index first")
    partial = path.with_name(path.name + ".partial")
    try:
        with writing_indexes(settings), tarfile.open(partial, "w") as archive:
            archive.add(folder, arcname="index")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise SnapshotError(f"cannot write the snapshot {path}: {exc}") from None
    return path


def install_snapshot(settings: Settings, path: str | Path) -> int:
    """Replace this data directory's index files with the archive's; the keyword watermark
    it holds (the store's change number the copy had reached). The old files are removed only
    once the new ones are in place; a bad archive changes nothing."""
    folder, path = index_folder(settings), Path(path)
    incoming = folder.with_name("index.incoming")
    shutil.rmtree(incoming, ignore_errors=True)
    try:
        with tarfile.open(path, "r") as archive:
            names = archive.getnames()
            if f"index/{MARKER}" not in names or any(
                not (n == "index" or n.startswith("index/")) for n in names
            ):
                raise SnapshotError(
                    f"{path} is not a paperboy index snapshot (no index/{MARKER}); "
                    "make one with paperboy index --snapshot"
                )
            incoming.mkdir(parents=True)
            archive.extractall(incoming, filter="data")  # no links out, no absolute paths
        watermark = int(json.loads((incoming / "index" / MARKER).read_text())["keyword_watermark"])
    except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
        shutil.rmtree(incoming, ignore_errors=True)
        raise SnapshotError(f"cannot read the snapshot {path}: {exc}") from None
    except SnapshotError:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    old = folder.with_name("index.old")
    with writing_indexes(settings):
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            os.replace(folder, old)
        os.replace(incoming / "index", folder)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(incoming, ignore_errors=True)
    return watermark
