"""migrate-store: a whole SQLite deployment into a real PostgreSQL, resumable, counts checked."""

import pytest
from click.testing import CliRunner

from paperboy.cli import main
from paperboy.config import Settings
from paperboy.ingest import import_file
from paperboy.store import open_store, transfer

pytestmark = pytest.mark.postgres


@pytest.fixture
def sqlite_store(settings, fixtures):
    store = open_store(settings)
    for name in (
        "arxiv_snapshot_head50.jsonl",
        "arxiv_listings_head100.jsonl",
        "hf_daily_papers_2026-08-21.json",
    ):
        import_file(store, fixtures / name, settings, show_progress=False)
    store.set_state("sync:hf", "2026-08-21")
    yield store
    store.close()


@pytest.fixture
def pg_url(postgres_server):
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def everything(store):
    return {p.id: p for p in store.iter_papers()}


def test_copies_every_paper_run_and_state(sqlite_store, pg_url):
    target = open_store(Settings.load(database_url=pg_url))
    report = transfer.copy_store(sqlite_store, target)
    assert {t.name: t.target_rows for t in report}["papers"] == 167
    assert all(t.source_rows == t.target_rows for t in report)
    assert everything(target) == everything(sqlite_store)
    assert target.get_state("sync:hf") == "2026-08-21"
    assert target.runs() and len(target.runs()) == len(sqlite_store.runs())
    # Identity sequences moved past the copied ids: a new run gets a fresh id.
    new = target.begin_run("import", "x", "fresh")
    assert new.id > max(r["id"] for r in sqlite_store.runs())
    target.close()


def test_an_interrupted_copy_resumes_without_duplicates(sqlite_store, pg_url, monkeypatch):
    monkeypatch.setattr(transfer, "BATCH", 20)
    target = open_store(Settings.load(database_url=pg_url))

    def stop_midway(table, copied):
        if table == "papers" and copied >= 60:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        transfer.copy_store(sqlite_store, target, on_progress=stop_midway)
    assert 0 < target.count_papers() < sqlite_store.count_papers()
    report = transfer.copy_store(sqlite_store, target)
    papers = {t.name: t for t in report}["papers"]
    assert papers.copied == 167 - 60  # resumed after the last committed batch
    assert everything(target) == everything(sqlite_store)
    target.close()


def test_the_cli_reports_counts(sqlite_store, settings, pg_url):
    result = CliRunner().invoke(
        main, ["migrate-store", "--from", f"sqlite:///{settings.sqlite_path}", "--to", pg_url]
    )
    assert result.exit_code == 0, result.output
    assert "papers: 167 rows in source, 167 in target" in result.output
    assert "done:" in result.output


def test_refuses_to_copy_from_postgres(pg_url, settings):
    pg = open_store(Settings.load(database_url=pg_url))
    with pytest.raises(Exception, match="copies from an SQLite store"):
        transfer.copy_store(pg, open_store(settings))
    pg.close()


def test_vectors_come_along_so_no_paper_is_encoded_again(sqlite_store, settings, pg_url):
    from paperboy.search import update_indexes
    from paperboy.search.upkeep import open_indexes

    update_indexes(sqlite_store, settings)
    result = CliRunner().invoke(
        main, ["migrate-store", "--from", f"sqlite:///{settings.sqlite_path}", "--to", pg_url]
    )
    assert result.exit_code == 0, result.output
    assert "vectors static: 167 rows carried over" in result.output
    target_settings = Settings.load(database_url=pg_url, data_dir=settings.data_dir / "pg")
    target = open_store(target_settings)
    report = update_indexes(target, target_settings)
    assert report.keyword == 167  # the keyword tables are built from the store
    assert report.dense == report.bulk == 0  # every vector came along with its watermark
    assert open_indexes(target, target_settings).check(target) == []
    target.close()
