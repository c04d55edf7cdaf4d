"""Keeping the indexes in step with the store: updates, crash repair, checks, backfill; for
index files (SQLite) and for PostgreSQL tables alike (the `backend` parameter)."""

import gzip
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.papers import Paper
from paperboy.search import open_search, update_indexes, upkeep
from paperboy.search import updater as index_module
from paperboy.search.encoders import EncoderError, load_encoder
from paperboy.search.upkeep import (
    IndexAlongside,
    backfill_indexes,
    open_indexes,
    rebuild_indexes,
)
from paperboy.sources import SourceError
from paperboy.store import open_store
from tests.environment import subprocess_env
from tests.search_helpers import FIXTURE, make_store


def paper(pid, title, abstract="An abstract about nothing in particular."):
    return Paper(id=pid, title=title, abstract=abstract, authors=["Ada Lovelace"])


def backlog_store(tmp_path, database_url="", **more):
    """The fixture store, with the transformer for small updates and the static model for
    its 300 papers, a backlog over the embed limit of 50."""
    return make_store(
        tmp_path,
        database_url=database_url,
        search_model="minilm",
        search_bulk_model="static",
        search_embed_limit=50,
        **more,
    )


def test_update_indexes_everything_then_only_changes(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    first = update_indexes(store, settings)
    assert first.keyword == 300 and first.dense == 300
    store.upsert([paper("2601.00001", "Quantum annealing for sparse routing")])
    second = update_indexes(store, settings)
    assert second.keyword == 1 and second.dense == 1
    assert update_indexes(store, settings).keyword == 0
    hits = open_search(store, settings).search("quantum annealing routing").hits
    assert hits[0].paper.id == "2601.00001"


def test_changed_paper_is_reindexed_but_not_reencoded_when_text_is_same(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    target = next(store.iter_papers())
    store.upsert(
        [
            Paper(
                id=target.id,
                title=target.title,
                abstract=target.abstract,
                upvotes=(target.upvotes or 0) + 5,
            )
        ]
    )
    report = update_indexes(store, settings)
    assert report.keyword == 1 and report.dense == 0  # upvotes changed, text did not
    store.upsert(
        [
            Paper(
                id=target.id,
                title="Completely new title on protein folding",
                abstract=target.abstract,
            )
        ]
    )
    report = update_indexes(store, settings)
    assert report.dense == 1
    engine = open_search(store, settings)
    assert engine.search("protein folding new title").hits[0].paper.id == target.id


def test_crash_between_store_and_index_is_repaired_on_open(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    # The store commits, the process dies before the index update ran:
    store.upsert([paper("2601.00002", "Lattice cryptography against side channels")])
    assert open_indexes(store, settings).check(store)  # out of step, and it says so
    engine = open_search(store, settings)  # a restart repairs it
    assert engine.search("lattice cryptography").hits[0].paper.id == "2601.00002"
    assert open_indexes(store, settings).check(store) == []


def test_lost_watermark_reindexes_without_duplicates(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    open_indexes(store, settings)._set_keyword_watermark(0)  # as if the write never happened
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    assert indexes.keyword.count() == 300
    assert indexes.check(store) == []


def test_check_reports_a_paper_missing_from_the_keyword_index(tmp_path, database_url):
    store, settings = make_store(tmp_path, database_url=database_url)
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    victim = next(store.iter_papers()).id
    indexes.keyword.remove([victim])
    indexes.keyword.commit()
    problems = open_indexes(store, settings).check(store)
    assert any("lacks 1 stored papers" in p and victim in p for p in problems)
    rebuild_indexes(store, settings, progress=False)
    assert open_indexes(store, settings).check(store) == []


def test_bulk_import_uses_the_fast_model_then_backfill_upgrades(tmp_path, database_url):
    store, settings = backlog_store(tmp_path, database_url)
    report = update_indexes(store, settings)
    assert report.bulk == 300 and report.dense == 0 and report.backlog == 300
    engine = open_search(store, settings)
    assert engine.search("graph neural networks").hits  # searchable right away
    indexes = open_indexes(store, settings)
    assert indexes.backfill(store, limit=8, progress=False) == 8
    reopened = open_indexes(store, settings)
    assert len(reopened.dense) == 8
    assert len(reopened.passages) >= 8  # a paper's title and each sentence are passages
    store.upsert([paper("2601.00003", "Speech recognition for low-resource languages")])
    report = update_indexes(store, settings)
    assert report.dense == 1 and report.bulk == 1  # a small update goes to the transformer
    engine = open_search(store, settings)
    assert engine.search("speech recognition low-resource").hits[0].paper.id == "2601.00003"


def test_a_backfill_lets_other_writers_in_between_checkpoints(tmp_path, database_url, monkeypatch):
    store, settings = backlog_store(tmp_path, database_url)
    update_indexes(store, settings)  # 300 papers on static vectors
    turns = []

    def a_writer_between_rounds():
        # The lock is free between two rounds: a web submission's update (which never
        # waits) takes it, and encodes its new paper with the transformer.
        if not turns:
            store.upsert([paper("2601.00003", "Speech recognition for low-resource languages")])
        report = update_indexes(store, settings, wait=False)
        assert report is not None, "the backfill held the writers' lock between rounds"
        turns.append(report.dense)

    class Counted:  # the backfill's transformer, noting the texts it encodes
        def __getattr__(self, name):
            return getattr(minilm, name)

        def encode_with_passages(self, texts, max_passages=16):
            encoded.extend(texts)
            return minilm.encode_with_passages(texts, max_passages)

    minilm, encoded = load_encoder("minilm"), []
    monkeypatch.setattr(upkeep, "_let_writers_in", a_writer_between_rounds)
    done, left = backfill_indexes(
        store, settings, limit=12, save_every=4, progress=False, encoders={"minilm": Counted()}
    )
    assert turns == [1, 0]  # after the first and second rounds; none after the last
    assert done == 12 and left == 301 - 13
    # Each round read what the writer had saved: its paper was encoded once, by the writer.
    assert len(encoded) == 12 and not any("Speech recognition" in text for text in encoded)
    dense = open_indexes(store, settings).dense
    assert len(dense) == 13 and "2601.00003" in dense.id_set()
    assert open_indexes(store, settings).check(store) == []
    engine = open_search(store, settings)
    assert engine.search("speech recognition low-resource").hits[0].paper.id == "2601.00003"


def test_the_index_stamp_moves_on_each_save_even_with_the_same_timestamps(tmp_path):
    """Readers and the backfill reopen the index files when the stamp moves; on a filesystem
    whose timestamps are coarse, two saves in one tick must still move it."""
    import os

    store, settings = make_store(tmp_path)
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    files = [indexes.state_path, indexes.dense.folder / "meta.json"]
    times = [f.stat().st_mtime_ns for f in files]
    before = indexes.stamp()
    store.upsert([paper("2601.00003", "Speech recognition for low-resource languages")])
    update_indexes(store, settings)  # another writer saves both files
    for f, t in zip(files, times):
        os.utime(f, ns=(t, t))  # in the same tick as the save before
    assert indexes.stamp() != before
    store.close()


def test_the_index_stamp_reads_the_vector_generation_when_the_file_looks_the_same(tmp_path):
    """A save whose `meta.json` got the old one's inode number back (the filesystem reused
    it), with the same size and within the same timestamp tick: the generation it names,
    which each save raises, still moves the stamp."""
    import json
    import os

    store, settings = make_store(tmp_path)
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    meta_path = indexes.dense.folder / "meta.json"
    before, info = indexes.stamp(), meta_path.stat()
    meta = json.loads(meta_path.read_text())
    meta["generation"] += 1
    text = json.dumps(meta)
    assert len(text) == info.st_size  # one digit more or less would change the size too
    with open(meta_path, "r+") as fh:  # the same inode, rewritten in place
        fh.write(text)
    os.utime(meta_path, ns=(info.st_mtime_ns, info.st_mtime_ns))
    after = meta_path.stat()
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
    )
    assert indexes.stamp() != before
    store.close()


def test_an_update_reads_each_changed_paper_from_the_store_once(
    tmp_path, database_url, monkeypatch
):
    store, settings = backlog_store(tmp_path, database_url)
    read = []
    changed_since = store.changed_since
    monkeypatch.setattr(
        store,
        "changed_since",
        lambda seq, limit=5000: read.extend(changed_since(seq, limit)) or changed_since(seq, limit),
    )
    report = update_indexes(store, settings)
    assert report.keyword == 300 and report.bulk == 300
    assert len(read) == 300  # one pass feeds the keyword index and the encoder


def test_a_bulk_update_commits_keywords_in_steps_and_builds_the_graph_as_it_goes(
    tmp_path, monkeypatch
):
    store, settings = backlog_store(tmp_path, search_exact_limit=100)
    monkeypatch.setattr(index_module, "CHUNK", 40)
    monkeypatch.setattr(index_module, "KEYWORD_COMMIT_EVERY", 100)
    indexes = open_indexes(store, settings)
    watermarks = []
    commit = indexes._commit_keyword
    monkeypatch.setattr(
        indexes,
        "_commit_keyword",
        lambda seq: commit(seq) or watermarks.append(indexes.keyword_watermark),
    )
    report = indexes.update(store)
    assert report.keyword == 300 and report.bulk == 300
    assert watermarks == [120, 240, 300]  # after 3 chunks of 40, 3 more, and the end
    assert len(indexes.bulk._graph) == 300  # grown while encoding, saved with the vectors
    reopened = open_indexes(store, settings)
    assert reopened.bulk.uses_graph and (reopened.bulk.folder / "graph.usearch").exists()
    assert reopened.check(store) == []
    assert open_search(store, settings).search("graph neural networks").hits


class _FailingEncoder:
    """The static model until `fail_after` papers were encoded, then an error."""

    def __init__(self, fail_after: int):
        self.inner = load_encoder("static")
        self.dim, self.left = self.inner.dim, fail_after

    def encode(self, texts, **kwargs):
        self.left -= len(texts)
        if self.left < 0:
            raise EncoderError("the encoder broke")
        return self.inner.encode(texts, **kwargs)


def test_an_encoder_error_in_the_encoding_thread_stops_the_update_and_loses_nothing(
    tmp_path, database_url, monkeypatch
):
    store, settings = backlog_store(tmp_path, database_url)
    monkeypatch.setattr(index_module, "CHUNK", 40)
    indexes = open_indexes(store, settings, encoders={"static": _FailingEncoder(100)})
    with pytest.raises(EncoderError, match="the encoder broke"):
        indexes.update(store)
    assert open_indexes(store, settings).bulk.watermark == 0  # nothing vouched for
    update_indexes(store, settings)
    indexes = open_indexes(store, settings)
    assert indexes.check(store) == [] and len(indexes.bulk) == 300


KILLED_UPDATE = """
    import sys, time
    from paperboy.config import Settings
    from paperboy.search import updater, upkeep
    from paperboy.search.files.keyword import KeywordIndex
    from paperboy.store import open_store

    updater.CHUNK, updater.KEYWORD_COMMIT_EVERY = 30, 30
    commit = KeywordIndex.commit
    def slow_commit(self):
        commit(self)
        print("committed", flush=True)
        time.sleep(0.3)
    KeywordIndex.commit = slow_commit
    settings = Settings.load(data_dir=sys.argv[1], search_model="minilm",
                             search_bulk_model="static", search_embed_limit=50,
                             search_exact_limit=100)
    upkeep.update_indexes(open_store(settings), settings)
    print("finished", flush=True)
"""


@pytest.mark.slow
def test_kill_9_mid_update_then_the_next_update_indexes_each_paper_once(tmp_path):
    store, settings = backlog_store(tmp_path, search_exact_limit=100)
    with subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_UPDATE), str(settings.data_dir)],
        env=subprocess_env(),
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        lines = [child.stdout.readline() for _ in range(3)]  # three commits of 30 papers
        assert lines == ["committed\n"] * 3, child.stderr.read()
        child.send_signal(signal.SIGKILL)  # while the encoder and the graph are at work
        child.wait()
    indexes = open_indexes(store, settings)
    watermark = indexes.keyword_watermark
    assert 30 <= watermark < store.max_seq()  # stopped mid-update, maybe mid-commit
    assert indexes.check(store)  # and it says so
    report = update_indexes(store, settings)
    assert report.keyword == 300 - watermark and report.bulk == 300  # resumed where it was
    indexes = open_indexes(store, settings)
    assert indexes.check(store) == []  # none missing, none twice, nothing unknown
    ids = indexes.keyword.all_ids()
    assert len(ids) == len(set(ids)) == 300 == len(indexes.bulk)
    assert (
        indexes.bulk.uses_graph
        and len(indexes.bulk.search(indexes.bulk.vector(ids[0]), 300)) == 300
    )


def _empty_store(tmp_path, **overrides):
    settings = Settings.load(
        data_dir=tmp_path / "data",
        search_model="minilm",
        search_bulk_model="static",
        search_embed_limit=50,
        import_batch_size=30,
        **overrides,
    )
    return open_store(settings), settings


def _wait_for(condition, seconds=120):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_big_import_is_indexed_while_it_is_stored(tmp_path, database_url, monkeypatch):
    store, settings = _empty_store(tmp_path, database_url=database_url, search_exact_limit=100)
    monkeypatch.setattr(index_module, "CHUNK", 30)
    monkeypatch.setattr(index_module, "KEYWORD_COMMIT_EVERY", 30)
    with IndexAlongside(store, settings, files=[FIXTURE]) as alongside:
        import_file(store, FIXTURE, settings, show_progress=False, index=False)
        # Still in the block: the import is over, its papers are being indexed already.
        _wait_for(lambda: open_indexes(store, settings).keyword_watermark > 0)
    after = update_indexes(store, settings)
    # The file's lines, counted past the exact limit: the graph grows from the start.
    assert alongside.expected > settings.search_exact_limit
    assert alongside.report.keyword > 0 and alongside.report.bulk > 0
    report = alongside.report.plus(after)
    assert (report.keyword, report.bulk, report.dense, report.backlog) == (300, 300, 0, 300)
    indexes = open_indexes(store, settings)
    assert indexes.check(store) == [] and len(indexes.bulk) == 300
    assert open_search(store, settings).search("graph neural networks").hits


def test_a_small_import_is_left_to_the_update_after_it(tmp_path):
    """300 papers are within the transformer's share (search_embed_limit 10,000): the update
    after the import encodes them with it, as before (the static model stands in here)."""
    settings = Settings.load(
        data_dir=tmp_path / "data", search_model="static", search_bulk_model=""
    )
    store = open_store(settings)
    with IndexAlongside(store, settings) as alongside:
        import_file(store, FIXTURE, settings, show_progress=False, index=False)
    assert alongside.report.keyword == 0
    report = update_indexes(store, settings)
    assert report.keyword == 300 and report.dense == 300


def test_a_failed_import_stops_the_indexing_beside_it_and_loses_nothing(tmp_path, monkeypatch):
    store, settings = _empty_store(tmp_path)
    monkeypatch.setattr(index_module, "CHUNK", 30)
    broken = tmp_path / "truncated.jsonl.gz"
    data = gzip.compress(FIXTURE.read_bytes())
    broken.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(SourceError), IndexAlongside(store, settings) as alongside:
        import_file(store, broken, settings, show_progress=False, index=False)
    stored = store.count_papers()
    assert 0 < stored < 300
    report = alongside.report.plus(update_indexes(store, settings))
    assert report.keyword == stored == report.bulk
    assert open_indexes(store, settings).check(store) == []


KILLED_IMPORT = """
    import sys
    from paperboy import cli
    from paperboy.search import updater

    updater.CHUNK = updater.KEYWORD_COMMIT_EVERY = 30
    cli.main(sys.argv[1:])
"""


@pytest.mark.slow
def test_kill_9_mid_import_while_indexing_alongside_then_the_rerun_indexes_each_paper_once(
    tmp_path,
):
    data_dir = tmp_path / "data"
    env = subprocess_env() | {
        "PAPERBOY_DATA_DIR": str(data_dir),
        "PAPERBOY_SEARCH_MODEL": "minilm",
        "PAPERBOY_SEARCH_BULK_MODEL": "static",
        "PAPERBOY_SEARCH_EMBED_LIMIT": "50",
        "PAPERBOY_SEARCH_EXACT_LIMIT": "100",
        "PAPERBOY_IMPORT_BATCH_SIZE": "30",
    }
    cmd = [sys.executable, "-c", textwrap.dedent(KILLED_IMPORT), "import", "--quiet", str(FIXTURE)]
    settings = Settings.load(data_dir=data_dir, search_model="minilm", search_bulk_model="static")
    with subprocess.Popen(
        cmd,
        env=env | {"PAPERBOY_IMPORT_PAUSE": "0.2"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as child:

        def indexed_some():
            assert child.poll() is None, "the import ended before it could be killed"
            state = data_dir / "index" / "state.json"
            return state.exists() and '"keyword_watermark": 0' not in state.read_text()

        _wait_for(indexed_some)  # the import goes on, and papers are in the keyword index
        child.send_signal(signal.SIGKILL)
        child.wait()
    store = open_store(settings)
    assert 0 < store.count_papers() < 300
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "(resumed)" in rerun.stdout
    indexes = open_indexes(store, settings)
    assert indexes.check(store) == []  # none missing, none twice, nothing unknown
    assert indexes.keyword.count() == 300 == len(indexes.bulk) == store.count_papers()


def test_vectors_of_another_static_table_are_re_encoded(tmp_path, database_url):
    """A new bundled static model makes the vectors of the old one meaningless: the indexes
    know which weights made their vectors and encode every paper again (here the record of the
    weights is rewritten as an older paperboy, with another table, would have left it)."""
    import json

    from paperboy.search.encoders import vectors_identity
    from paperboy.search.files.indexes import vectors_folder

    store, settings = make_store(tmp_path, database_url=database_url)
    assert update_indexes(store, settings).dense == 300
    current = vectors_identity("static")
    assert current.startswith("static-") and current != "static"
    if database_url:
        assert store.get_state("search:vectors:static:weights") == current
        store.set_state("search:vectors:static:weights", "static-0ldtab1e")
    else:
        meta_path = vectors_folder(settings.data_dir / "index", "static") / "meta.json"
        meta = json.loads(meta_path.read_text())
        assert meta["weights"] == current
        meta_path.write_text(json.dumps(meta | {"weights": "static-0ldtab1e"}))
    again = update_indexes(store, settings)
    assert again.dense == 300 and again.keyword == 0  # every vector re-made, the words kept
    assert update_indexes(store, settings).dense == 0
    assert open_indexes(store, settings).check(store) == []
    store.close()
