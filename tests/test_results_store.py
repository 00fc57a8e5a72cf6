"""Results store: atomic records, never overwritten, safe under concurrent writers, long-table loading."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from bench3d.results import ResultsStore, RunRecord, load
from bench3d.results.provenance import config_hash
from bench3d.results.store import RecordExistsError

from _records import make_record


def test_roundtrip_and_no_overwrite(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    rec = make_record("r1")
    store.write(rec)
    assert store.read("r1") == rec
    with pytest.raises(RecordExistsError, match="never overwritten"):
        store.write(make_record("r1", miou=0.9))
    assert store.read("r1").metrics["miou"] == 0.5  # the first record survives intact
    assert not [p for p in tmp_path.iterdir() if ".tmp." in p.name]  # no temporary file left behind


def _write_many(root: str, worker: int) -> None:
    store = ResultsStore(root)
    store.write(make_record(f"run{worker}", seed=worker, miou=worker / 10))


def test_concurrent_writers_leave_intact_records(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_write_many, args=(str(tmp_path), i)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    records = ResultsStore(tmp_path).records()
    assert sorted(r.run_id for r in records) == ["run0", "run1", "run2", "run3"]
    assert sorted(r.metrics["miou"] for r in records) == [0.0, 0.1, 0.2, 0.3]


def test_load_long_table(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    store.write(make_record("a", seed=0, miou=0.4))
    store.write(make_record("b", seed=1, miou=0.6))
    df = load(tmp_path)
    miou = df[df.metric == "miou"].sort_values("seed")
    assert miou.value.tolist() == [0.4, 0.6]
    assert set(df.metric) >= {"miou", "accuracy", "iou/car", "iou/bus"}
    assert df[df.metric == "iou/bus"].value.isna().all()  # absent class stays NaN, not 0


def test_junk_json_is_reported_by_path_and_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = ResultsStore(tmp_path)
    store.write(make_record("good"))
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "foreign.json").write_text('{"hello": "world"}')
    (tmp_path / "binary.json").write_bytes(bytes(range(256)))
    renamed = tmp_path / "other.json"
    renamed.write_text((tmp_path / "good.json").read_text())
    with caplog.at_level("WARNING"):
        assert [r.run_id for r in store.records()] == ["good"]  # the rest never blocks the good record
    good, bad = store.scan()
    assert sorted(p.name for p, _ in bad) == ["bad.json", "binary.json", "foreign.json", "other.json"]
    assert all(str(p) in caplog.text for p, _ in bad)
    assert "holds run 'good', not 'other'" in dict((p.name, w) for p, w in bad)["other.json"]


def test_records_are_world_readable(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = ResultsStore(tmp_path).write(make_record("r"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_config_hash_is_order_independent() -> None:
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_a_full_disk_is_a_clear_error_and_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    from bench3d.errors import DataError
    from bench3d.paths import write_text_atomic

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DataError, match=r"r1.json: cannot write the run record: No space left on device"):
        ResultsStore(tmp_path).write(make_record("r1"))
    with pytest.raises(DataError, match=r"table.md: cannot write: No space left on device"):
        write_text_atomic(tmp_path / "table.md", "| a |")
    assert list(tmp_path.iterdir()) == []  # nothing half-written, no temporary file
