"""Index replicas (issue #16): several hosts, each with its own index files, on one store.

Each host's index follows the store's change counter by itself; the vectors are encoded once,
by whichever host gets to a paper first, kept in the store (table `stored_vectors`) and taken
from there by the others. Both backends: on SQLite the hosts are data directories sharing one
database file (`search_keep_vectors = "on"`), on PostgreSQL it is the default.
"""

from __future__ import annotations

import tarfile
import time

import numpy as np
import pytest
from click.testing import CliRunner

from paperboy.cli.main import main
from paperboy.config import ConfigError, Settings
from paperboy.papers import Paper
from paperboy.search import open_search, update_indexes
from paperboy.search.encoders import vectors_identity
from paperboy.search.files.snapshot import SnapshotError, install_snapshot, write_snapshot
from paperboy.search.follow import IndexFollower, follows
from paperboy.search.upkeep import backfill_indexes, check_indexes, open_indexes
from paperboy.store import open_store
from paperboy.store.vectors import StoredVectors
from tests.search_helpers import make_store


def host(tmp_path, name: str, database_url: str, **more) -> Settings:
    """Settings of one web host: its own data directory (index files), the shared store."""
    values = {
        "search_model": "static",
        "search_bulk_model": "",
        "search_passages": True,
        "search_backend": "files",
        "search_keep_vectors": "on",
    }
    return Settings.load(data_dir=tmp_path / name, database_url=database_url, **(values | more))


@pytest.fixture
def shared(tmp_path, database_url):
    """A store with the 300 fixture papers, and the database URL every host uses."""
    store, settings = make_store(tmp_path, database_url=database_url)
    url = database_url or f"sqlite:///{settings.sqlite_path}"
    yield store, url
    store.close()


def test_a_second_host_takes_the_vectors_the_first_encoded(tmp_path, shared):
    store, url = shared
    first, second = host(tmp_path, "a", url), host(tmp_path, "b", url)
    report_a = update_indexes(store, first)
    assert report_a.keyword == 300 and report_a.dense == 300 and report_a.kept == 0
    kept = StoredVectors(store)
    assert kept.count(vectors_identity("static")) == 300

    report_b = update_indexes(store, second)
    assert report_b.keyword == 300  # the words are indexed on every host
    assert report_b.dense == 0 and report_b.kept == 300  # the vectors are not encoded again
    assert check_indexes(store, first) == [] and check_indexes(store, second) == []

    a, b = open_indexes(store, first), open_indexes(store, second)
    pid = next(store.iter_papers()).id
    va, vb = a.dense.vector(pid), b.dense.vector(pid)
    assert va is not None and vb is not None
    assert np.allclose(va, vb, atol=2e-3)  # float16 in the store
    query = "graph neural networks for molecules"
    hits_a = [h.paper.id for h in open_search(store, first).search(query).hits]
    hits_b = [h.paper.id for h in open_search(store, second).search(query).hits]
    assert hits_a and hits_a == hits_b


def test_a_paper_written_through_one_host_is_encoded_once_for_all(tmp_path, shared):
    store, url = shared
    hosts = [host(tmp_path, name, url) for name in ("a", "b", "c")]
    for settings in hosts:
        update_indexes(store, settings)
    new = Paper(
        id="2612.00001",
        title="Tidal heating of icy moons measured by radar",
        abstract="We measure tidal heating of icy moons from radar echoes. " * 30,
        authors=["Ada Lovelace"],
    )
    store.upsert([new])
    reports = [update_indexes(store, settings) for settings in hosts]
    assert [r.keyword for r in reports] == [1, 1, 1]
    assert [r.dense for r in reports] == [1, 0, 0]
    assert [r.kept for r in reports] == [0, 1, 1]
    for settings in hosts:
        hits = open_search(store, settings).search("tidal heating icy moons radar").hits
        assert hits[0].paper.id == "2612.00001"

    # A new text: every host drops the old vector; one encodes the new text, once.
    store.upsert(
        [Paper(id="2612.00001", title="Radar sounding of subsurface oceans", abstract="Radar.")]
    )
    reports = [update_indexes(store, settings) for settings in reversed(hosts)]
    assert [r.dense for r in reports] == [1, 0, 0] and [r.kept for r in reports] == [0, 1, 1]
    hits = open_search(store, hosts[0]).search("radar sounding subsurface oceans").hits
    assert hits[0].paper.id == "2612.00001"


def test_the_transformer_passages_are_taken_with_the_paper_vectors(tmp_path, database_url):
    first = host(tmp_path, "a", database_url, search_model="minilm")
    url = database_url or f"sqlite:///{first.sqlite_path}"
    second = host(tmp_path, "b", url, search_model="minilm")
    store = open_store(first)
    try:
        long_text = "We measure tidal heating of icy moons from radar echoes. " * 40
        store.upsert(
            [
                Paper(id="2612.00001", title="Tidal heating of icy moons", abstract=long_text),
                Paper(id="2612.00002", title="A title alone", abstract=""),  # one sentence
            ]
        )
        assert update_indexes(store, first).dense == 2
        report = update_indexes(store, second)
        assert report.dense == 0 and report.kept == 2
        a, b = open_indexes(store, first), open_indexes(store, second)
        assert a.passages is not None and b.passages is not None
        ids = ["2612.00001#0", "2612.00001#1", "2612.00002#0"]
        assert (
            [i in a.passages for i in ids]
            == [i in b.passages for i in ids]
            == [
                True,
                True,
                False,
            ]
        )
        assert check_indexes(store, second) == []
    finally:
        store.close()


def test_a_backfill_takes_what_another_host_encoded_and_counts_it_in_its_limit(tmp_path, shared):
    store, url = shared
    more = {"search_model": "minilm", "search_bulk_model": "static", "search_embed_limit": 50}
    first, second = host(tmp_path, "a", url, **more), host(tmp_path, "b", url, **more)
    assert update_indexes(store, first).bulk == 300  # a backlog: static vectors
    assert update_indexes(store, second).kept == 300  # taken from the first
    assert backfill_indexes(store, first, limit=8, save_every=4, progress=False) == (8, 292)
    # The second host takes the first's 8 (the newest) and encodes 4 more: 12 in all.
    assert backfill_indexes(store, second, limit=12, save_every=4, progress=False) == (4, 288)
    assert len(open_indexes(store, second).dense) == 12
    assert check_indexes(store, second) == []


def test_a_kept_vector_of_another_text_is_not_taken(tmp_path, shared):
    store, url = shared
    first, second = host(tmp_path, "a", url), host(tmp_path, "b", url)
    update_indexes(store, first)
    pid = next(store.iter_papers()).id
    kept = StoredVectors(store)
    model = vectors_identity("static")
    (row,) = kept.get(model, [(pid, h) for h in [_hash_of(store, pid)]]).values()
    kept.put(model, [pid], [12345], np.ones((1, row.shape[0])))  # made from another text
    report = update_indexes(store, second)
    assert report.dense == 1 and report.kept == 299  # that one is encoded again
    assert kept.get(model, [(pid, _hash_of(store, pid))])  # and kept right for the next host


def test_without_keeping_each_host_encodes_for_itself(tmp_path, shared):
    store, url = shared
    first = host(tmp_path, "a", url, search_keep_vectors="off")
    report = update_indexes(store, first)
    assert report.dense == 300 and report.kept == 0
    assert StoredVectors(store).count(vectors_identity("static")) == 0


def test_an_unknown_keep_vectors_value_is_refused(tmp_path, shared):
    store, url = shared
    with pytest.raises(ConfigError, match="search_keep_vectors 'sometimes'"):
        open_indexes(store, host(tmp_path, "a", url, search_keep_vectors="sometimes"))


def test_keeping_is_on_by_default_on_postgresql_only(tmp_path, backend, database_url):
    settings = Settings.load(
        data_dir=tmp_path / "d", database_url=database_url, search_backend="files"
    )
    store = open_store(settings)
    try:
        indexes = open_indexes(store, settings)
        assert (indexes.kept is not None) == (backend == "postgres")
    finally:
        store.close()


def _hash_of(store, pid: str) -> int:
    from paperboy.search.updater import paper_text, text_hash

    return text_hash(paper_text(store.get(pid)))


def test_a_new_host_starts_from_a_snapshot_and_catches_up(tmp_path, shared):
    store, url = shared
    first, second = host(tmp_path, "a", url), host(tmp_path, "b", url)
    update_indexes(store, first)
    archive = write_snapshot(first, tmp_path / "index.tar")
    store.upsert([Paper(id="2612.00009", title="Radar sounding of icy moons", abstract="Radar.")])

    watermark = install_snapshot(second, archive)
    assert watermark == store.max_seq() - 1  # the copy stopped before the new paper
    report = update_indexes(store, second)
    assert report.keyword == 1  # only what the store gained since the copy
    assert report.dense + report.kept == 1
    assert check_indexes(store, second) == []
    hits = open_search(store, second).search("radar sounding icy moons").hits
    assert hits[0].paper.id == "2612.00009"


def test_a_bad_snapshot_is_refused_and_the_index_is_kept(tmp_path, shared):
    store, url = shared
    second = host(tmp_path, "b", url)
    update_indexes(store, second)
    not_tar = tmp_path / "notes.tar"
    not_tar.write_text("hello")
    with pytest.raises(SnapshotError, match="cannot read the snapshot"):
        install_snapshot(second, not_tar)
    other = tmp_path / "other.tar"
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "a.txt").write_text("x")
    with tarfile.open(other, "w") as archive:
        archive.add(tmp_path / "junk", arcname="junk")
    with pytest.raises(SnapshotError, match="not a paperboy index snapshot"):
        install_snapshot(second, other)
    assert check_indexes(store, second) == []  # untouched
    assert not (second.data_dir / "index.incoming").exists()


def test_index_snapshot_commands(tmp_path, shared):
    store, url = shared
    first, second = host(tmp_path, "a", url), host(tmp_path, "b", url)
    update_indexes(store, first)

    def paperboy(settings, *args):
        env = {
            "PAPERBOY_DATABASE_URL": url,
            "PAPERBOY_SEARCH_BACKEND": "files",
            "PAPERBOY_SEARCH_MODEL": "static",
            "PAPERBOY_SEARCH_BULK_MODEL": "",
        }
        return CliRunner().invoke(main, ["--data-dir", str(settings.data_dir), *args], env=env)

    written = paperboy(first, "index", "--snapshot", str(tmp_path / "a.tar"))
    assert written.exit_code == 0, written.output
    assert "wrote" in written.output
    installed = paperboy(second, "index", "--from-snapshot", str(tmp_path / "a.tar"))
    assert installed.exit_code == 0, installed.output
    assert "indexed 0 papers" in installed.output  # nothing new since the copy
    assert check_indexes(store, second) == []
    both = paperboy(
        second, "index", "--snapshot", "x.tar", "--from-snapshot", str(tmp_path / "a.tar")
    )
    assert both.exit_code != 0 and "not both" in both.output


def test_a_follower_brings_its_host_up_to_papers_written_elsewhere(tmp_path, shared):
    store, url = shared
    second = host(tmp_path, "b", url, search_follow=0.1)
    update_indexes(store, second)
    engine = open_search(store, second)
    follower = IndexFollower(store, second, engine)
    assert follower.step() is None  # nothing new: no update
    assert follows(store, second) == (store.dialect == "postgres")  # `serve` starts one there
    with follower:
        store.upsert([Paper(id="2612.00077", title="Quasiperiodic zorblat tilings", abstract="Z.")])
        deadline = time.monotonic() + 60
        while not [h for h in engine.search("zorblat tilings").hits if h.paper.id == "2612.00077"]:
            assert time.monotonic() < deadline, "the follower never indexed the new paper"
            time.sleep(0.05)
    assert follower.updates >= 1
    assert check_indexes(store, second) == []


def test_no_follower_without_index_files_or_with_follow_0(tmp_path, shared):
    store, url = shared
    assert not follows(store, host(tmp_path, "b", url, search_follow=0))
    if store.dialect == "postgres":
        assert not follows(store, host(tmp_path, "c", url, search_backend="postgres"))
