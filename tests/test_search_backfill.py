"""`paperboy index --backfill`: killed with kill -9 it resumes, and every paper ends with one
transformer vector, encoded once; `--device cuda` without a GPU is one clear line."""

import json
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from paperboy.cli import main
from tests.environment import subprocess_env
from tests.search_helpers import FIXTURE

PAPERS = 40


def _saved(folder) -> list[str]:
    """The paper ids of the last whole save of a vector folder ([] before the first)."""
    try:
        meta = json.loads((folder / "meta.json").read_text())
        return json.loads((folder / f"ids-{meta['generation']}.json").read_text())
    except (OSError, ValueError, KeyError):
        return []


@pytest.mark.slow
def test_backfill_killed_with_kill_9_resumes_and_encodes_each_paper_once(tmp_path):
    source = tmp_path / "papers.jsonl"
    source.write_text("".join(FIXTURE.read_text().splitlines(keepends=True)[:PAPERS]))
    data_dir = tmp_path / "data"
    # Imported with static vectors only (a backlog bigger than the embed limit of 1).
    env = subprocess_env() | {
        "PAPERBOY_DATA_DIR": str(data_dir),
        "PAPERBOY_SEARCH_MODEL": "minilm",
        "PAPERBOY_SEARCH_BULK_MODEL": "static",
        "PAPERBOY_SEARCH_PASSAGES": "true",
        "PAPERBOY_SEARCH_EMBED_LIMIT": "1",
        "PAPERBOY_SEARCH_THREADS": "1",
    }
    paperboy = [sys.executable, "-m", "paperboy"]
    imported = subprocess.run(
        paperboy + ["import", "--quiet", str(source)],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0 and "transformer 0, static 40" in imported.stdout, (
        imported.stdout + imported.stderr
    )
    dense = data_dir / "index" / "vectors" / "minilm"

    backfill = paperboy + ["index", "--backfill", "--quiet", "--checkpoint-every", "4"]
    proc = subprocess.Popen(backfill, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while len(_saved(dense)) < 8 and time.monotonic() < deadline:
        assert proc.poll() is None, "the backfill ended before it could be killed"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = _saved(dense)
    assert 8 <= len(kept) < PAPERS, "the kill should land mid-backfill"

    rerun = subprocess.run(
        backfill, check=False, env=env, capture_output=True, text=True, timeout=600
    )
    assert rerun.returncode == 0, rerun.stderr
    # Only what the killed run had not saved is encoded again, and nothing is left.
    assert f"encoded {PAPERS - len(kept)} papers with minilm; 0 left" in rerun.stdout

    ids = _saved(dense)
    assert len(ids) == len(set(ids)) == PAPERS and set(kept) <= set(ids)
    passages = _saved(data_dir / "index" / "vectors" / "minilm-passages")
    assert len(passages) == len(set(passages))  # each passage once
    assert {key.rsplit("#", 1)[0] for key in passages} <= set(ids)
    check = subprocess.run(
        paperboy + ["index", "--check"],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout
    again = subprocess.run(
        backfill, check=False, env=env, capture_output=True, text=True, timeout=300
    )
    assert "encoded 0 papers with minilm; 0 left" in again.stdout


def test_backfill_on_cuda_without_a_gpu_is_one_clear_line(tmp_path):
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("onnxruntime-gpu is installed here")
    env = {"PAPERBOY_SEARCH_MODEL": "minilm", "PAPERBOY_SEARCH_BULK_MODEL": "static"}
    result = CliRunner().invoke(
        main,
        ["--data-dir", str(tmp_path / "d"), "index", "--backfill", "--device", "cuda"],
        env=env,
    )
    assert result.exit_code == 1
    assert result.output == (
        "error: no CUDA device: onnxruntime has no CUDAExecutionProvider "
        "here; install onnxruntime-gpu on a machine with an NVIDIA GPU\n"
    )
    assert not (tmp_path / "d" / "index").exists()  # nothing was touched
