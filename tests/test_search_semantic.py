"""The vector index: int8 storage, replace/remove, atomic save, exact and HNSW search."""

import numpy as np

from paperboy.search.files.vectors import VectorIndex, dequantize, quantize


def unit(rows, dim=32, seed=0):
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_int8_keeps_cosines_close():
    vectors = unit(200, 384)
    codes, scales = quantize(vectors)
    assert codes.dtype == np.int8
    restored = dequantize(codes, scales)
    error = np.abs((restored * vectors).sum(axis=1) - 1.0).max()
    assert error < 0.005


def test_search_finds_the_nearest_and_put_replaces(tmp_path):
    vectors = unit(100)
    index = VectorIndex(tmp_path / "v", dim=32, model="test")
    index.put([f"p{i}" for i in range(100)], vectors, np.arange(100))
    assert index.search(vectors[7], k=1)[0][0] == "p7"
    index.put(["p7"], vectors[[3]], [1])  # p7 now points where p3 does
    assert len(index) == 100
    assert {pid for pid, _ in index.search(vectors[3], k=2)} == {"p3", "p7"}
    assert index.needs("p7", 1) is False and index.needs("p7", 7) is True
    assert index.needs("nope", 0) is True


def test_remove_hides_and_save_compacts(tmp_path):
    vectors = unit(10)
    index = VectorIndex(tmp_path / "v", dim=32, model="test")
    index.put([f"p{i}" for i in range(10)], vectors)
    index.remove(["p2", "p5"])
    assert "p2" not in index and len(index) == 8
    assert all(pid not in ("p2", "p5") for pid, _ in index.search(vectors[2], k=10))
    index.save(watermark=42)
    again = VectorIndex.open(tmp_path / "v", dim=32, model="test")
    assert len(again) == 8 and again.watermark == 42 and "p5" not in again
    np.testing.assert_allclose(again.vector("p3"), vectors[3], atol=0.02)


def test_the_count_follows_removes_and_puts_in_any_order(tmp_path):
    """len() keeps a count of removed rows rather than summing them on every search."""
    vectors = unit(20)
    index = VectorIndex(tmp_path / "v", dim=32, model="test")
    index.put([f"p{i}" for i in range(10)], vectors[:10])
    present = {f"p{i}" for i in range(10)}
    rng = np.random.default_rng(3)
    for step in range(200):
        pid = f"p{int(rng.integers(20))}"
        if rng.random() < 0.5:
            index.remove([pid, pid])  # twice: counted once
            present.discard(pid)
        else:
            index.put([pid], vectors[[int(pid[1:])]])
            present.add(pid)
        assert len(index) == len(present) and index.id_set() == present, step
        if step % 50 == 49:
            index.save(watermark=step)  # compacts
            assert len(index) == len(present)
    found = {pid for pid, _ in index.search(vectors[0], k=20)}
    assert found == present


def test_another_models_files_are_not_used(tmp_path):
    index = VectorIndex(tmp_path / "v", dim=32, model="a")
    index.put(["x"], unit(1))
    index.save(watermark=3)
    assert len(VectorIndex.open(tmp_path / "v", dim=32, model="b")) == 0
    assert len(VectorIndex.open(tmp_path / "v", dim=16, model="a")) == 0


def test_torn_files_start_over(tmp_path):
    index = VectorIndex(tmp_path / "v", dim=32, model="a")
    index.put(["x", "y"], unit(2))
    index.save(watermark=3)
    (tmp_path / "v" / "ids-1.json").write_text('["x"]')
    assert len(VectorIndex.open(tmp_path / "v", dim=32, model="a")) == 0
    (tmp_path / "v" / "ids-1.json").unlink()
    assert len(VectorIndex.open(tmp_path / "v", dim=32, model="a")) == 0


def test_a_save_cut_short_leaves_the_last_whole_one(tmp_path):
    """A process killed while saving (new files half written, meta.json not yet replaced)
    reopens at the previous save, not at nothing: each save writes a new generation."""
    index = VectorIndex(tmp_path / "v", dim=32, model="a")
    index.put(["x", "y"], unit(2))
    index.save(watermark=3)
    # What a save killed half-way leaves: some of generation 2, meta.json still on 1.
    np.save(tmp_path / "v" / "vectors-2.npy", quantize(unit(3))[0])
    (tmp_path / "v" / "ids-2.json").write_text('["x", "y", "z"]')
    again = VectorIndex.open(tmp_path / "v", dim=32, model="a")
    assert sorted(again.id_set()) == ["x", "y"] and again.watermark == 3
    again.put(["z"], unit(1, seed=5))
    again.save(watermark=4)  # the next save writes generation 2 whole, then drops 1
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == [
        "hashes-2.npy",
        "ids-2.json",
        "meta.json",
        "scales-2.npy",
        "vectors-2.npy",
    ]
    last = VectorIndex.open(tmp_path / "v", dim=32, model="a")
    assert sorted(last.id_set()) == ["x", "y", "z"] and last.watermark == 4


def test_folders_saved_before_generations_still_open(tmp_path):
    import json

    folder = tmp_path / "v"
    folder.mkdir()
    codes, scales = quantize(unit(2))
    np.save(folder / "vectors.npy", codes)
    np.save(folder / "scales.npy", scales)
    np.save(folder / "hashes.npy", np.zeros(2, np.int64))
    (folder / "ids.json").write_text('["x", "y"]')
    (folder / "meta.json").write_text(json.dumps({"model": "a", "dim": 32, "watermark": 7}))
    index = VectorIndex.open(folder, dim=32, model="a")
    assert sorted(index.id_set()) == ["x", "y"] and index.watermark == 7
    index.save()
    assert not (folder / "vectors.npy").exists() and (folder / "vectors-1.npy").exists()
    assert sorted(VectorIndex.open(folder, dim=32, model="a").id_set()) == ["x", "y"]


def test_graph_search_past_the_exact_limit(tmp_path):
    vectors = unit(2000, 64, seed=1)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    index.put([f"p{i}" for i in range(2000)], vectors)
    index.save(watermark=1)
    assert index.uses_graph
    asked = range(0, 2000, 100)
    found = [index.search(vectors[i], k=1)[0][0] for i in asked]
    # HNSW is approximate (and these random vectors are hard for a graph): a paper's own
    # vector finds it almost always, not always, so one miss in 20 is allowed.
    assert sum(pid == f"p{i}" for pid, i in zip(found, asked, strict=True)) >= 19
    reopened = VectorIndex.open(tmp_path / "v", dim=64, model="t", exact_limit=500)
    assert reopened.uses_graph and (tmp_path / "v" / "graph.usearch").exists()
    # the saved graph is the one searched before: the same answers, misses included
    assert [reopened.search(vectors[i], k=1)[0][0] for i in asked] == found


def test_graph_follows_updates_without_a_rebuild(tmp_path):
    vectors = unit(1200, 64, seed=2)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    index.put([f"p{i}" for i in range(1000)], vectors[:1000])
    index.save(watermark=1)
    built = (tmp_path / "v" / "graph.usearch").stat().st_mtime_ns
    index.put(["p3"], vectors[[1100]])  # p3 moves
    index.put([f"p{i}" for i in range(1000, 1100)], vectors[1000:1100])  # new papers
    index.save(watermark=2)
    assert (tmp_path / "v" / "graph.usearch").stat().st_mtime_ns >= built
    reopened = VectorIndex.open(tmp_path / "v", dim=64, model="t", exact_limit=500)
    assert reopened.search(vectors[1100], k=1)[0][0] == "p3"
    assert reopened.search(vectors[1050], k=1)[0][0] == "p1050"
    assert (tmp_path / "v" / "graph.rows").read_text() == "1100"


def test_a_growing_graph_takes_rows_as_they_are_put(tmp_path):
    """A bulk import builds the HNSW graph while it encodes (in a thread of its own), not
    after: rows join the graph as `put` appends them; `save()` then adds only what changed."""
    vectors = unit(1500, 64, seed=3)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    index.put([f"p{i}" for i in range(400)], vectors[:400])  # there before: goes in first
    with index.growing_graph():
        index.put(["p5"], vectors[[1400]])  # rewritten, below the limit yet: no graph
        assert index._graph is None
        for start in range(400, 1400, 200):  # passes the limit of 500 rows: the graph starts
            index.put([f"p{i}" for i in range(start, start + 200)], vectors[start : start + 200])
        index.put(["p6"], vectors[[1401]])  # rewritten once in the graph: re-added by save()
    assert len(index._graph) == 1400  # every row once, before any save
    index.save(watermark=1)
    assert (tmp_path / "v" / "graph.rows").read_text() == "1400"
    reopened = VectorIndex.open(tmp_path / "v", dim=64, model="t", exact_limit=500)
    assert reopened.search(vectors[1400], k=1)[0][0] == "p5"
    assert reopened.search(vectors[1401], k=1)[0][0] == "p6"
    found = sum(reopened.search(vectors[i], k=1)[0][0] == f"p{i}" for i in range(0, 1400, 47))
    assert found >= 29  # of 30: HNSW is approximate


def test_a_growing_graph_is_not_built_below_the_exact_limit(tmp_path):
    vectors = unit(300, 64, seed=4)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    with index.growing_graph():
        index.put([f"p{i}" for i in range(300)], vectors)
    index.save(watermark=1)
    assert index._graph is None and not (tmp_path / "v" / "graph.usearch").exists()
    assert index.search(vectors[7], k=1)[0][0] == "p7"


def test_a_growing_graph_continues_the_saved_one(tmp_path):
    vectors = unit(1000, 64, seed=5)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    index.put([f"p{i}" for i in range(600)], vectors[:600])
    index.save(watermark=1)  # builds and saves the graph of 600 rows
    again = VectorIndex.open(tmp_path / "v", dim=64, model="t", exact_limit=500)
    with again.growing_graph():
        again.put(["p1"], vectors[[999]])  # rewritten before the feed starts
        again.put([f"p{i}" for i in range(600, 900)], vectors[600:900])
    assert len(again._graph) == 900
    again.save(watermark=2)
    assert again.search(vectors[999], k=1)[0][0] == "p1"
    assert again.search(vectors[850], k=1)[0][0] == "p850"
    assert (tmp_path / "v" / "graph.rows").read_text() == "900"


def test_a_growing_graph_starts_at_once_when_the_rows_will_pass_the_limit(tmp_path):
    vectors = unit(700, 64, seed=6)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    with index.growing_graph(expected=700):
        index.put([f"p{i}" for i in range(100)], vectors[:100])
        assert index._graph is not None  # 100 rows only, but 700 are coming
        index.put([f"p{i}" for i in range(100, 700)], vectors[100:])
    assert len(index._graph) == 700
    index.save(watermark=1)
    assert index.search(vectors[650], k=1)[0][0] == "p650"


def test_a_growing_graph_takes_every_core_once_the_import_has_stored_its_papers(
    tmp_path, monkeypatch
):
    """While an import still stores papers the graph adds with one thread (the importer, the
    keyword index and the encoder share the cores); once it has stored them all, the graph
    is what the rest waits for, and it takes every core (usearch threads=0)."""
    vectors = unit(900, 64, seed=7)
    index = VectorIndex(tmp_path / "v", dim=64, model="t", exact_limit=500)
    storing, adds = [True], []
    new_graph = VectorIndex._new_graph

    def recorded(self):  # the real usearch graph, its add calls noted
        graph = new_graph(self)
        add = graph.add

        def add_noting(keys, rows, **options):
            adds.append((storing[0], options.get("threads")))
            return add(keys, rows, **options)

        graph.add = add_noting
        return graph

    monkeypatch.setattr(VectorIndex, "_new_graph", recorded)
    with index.growing_graph(expected=900, shared=lambda: storing[0]):
        for start in range(0, 600, 100):
            index.put([f"p{i}" for i in range(start, start + 100)], vectors[start : start + 100])
        for job in list(index._graph_jobs):
            job.result()  # the graph has taken them, one thread at a time
        storing[0] = False  # the import has stored its last paper
        index.put([f"p{i}" for i in range(600, 900)], vectors[600:])
    assert {threads for still, threads in adds if still} == {1}
    assert {threads for still, threads in adds if not still} == {0}
    assert len(index._graph) == 900
    index.save(watermark=1)
    assert index.search(vectors[850], k=1)[0][0] == "p850"
    assert index.search(vectors[50], k=1)[0][0] == "p50"
