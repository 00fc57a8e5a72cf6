"""Streaming pretraining: DataLoader workers give the same training as none; expensive per-sample products
come from a content-addressed disk cache shared across runs; the memory benchmark runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from bench3d.cli.main import main
from bench3d.engine.disk_cache import DiskCache, cache_info, clear_cache
from bench3d.harness.memory_bench import compare_pretraining_memory
from bench3d.harness.runner import Runner
from bench3d.harness.specs import PretrainSpec
from bench3d.results import ResultsStore


def _pretrain(store: Path, release: Path, method: str, workers: int) -> tuple[dict, dict]:
    runner = Runner(ResultsStore(store), "cpu", release, workers=workers)
    run_id, ckpt = runner.pretrain(PretrainSpec(method, "synth"))
    return runner.store.read(run_id).metrics, torch.load(ckpt, weights_only=False)["backbones"]["lidar"]


def test_two_workers_train_exactly_as_none(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    m0, w0 = _pretrain(tmp_path / "w0", harness_release, "lima", 0)
    m2, w2 = _pretrain(tmp_path / "w2", harness_release, "lima", 2)  # LiMA: order matters for its memory bank
    assert m0["loss_history"] == m2["loss_history"]
    assert all(torch.equal(w0[k], w2[k]) for k in w0)


def test_superpixels_come_from_the_disk_cache_on_the_second_run(harness_release: Path, short_cards: Path,
                                                                tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BENCH3D_CACHE", str(tmp_path / "cache"))
    cold, _ = _pretrain(tmp_path / "a", harness_release, "slidr", 0)
    entries = cache_info()["entries"]
    assert entries == 8  # one SLIC entry per training sample (2 scenes x 4 keyframes)
    calls = []
    original = DiskCache.get_or_compute
    monkeypatch.setattr(DiskCache, "get_or_compute",
                        lambda self, key, compute: original(self, key, lambda: calls.append(key) or compute()))
    warm, _ = _pretrain(tmp_path / "b", harness_release, "slidr", 0)  # another store: trains again, reads SLIC
    assert calls == [] and cache_info()["entries"] == entries
    assert warm["loss_history"] == cold["loss_history"]
    assert clear_cache() == entries and cache_info()["entries"] == 0


def test_cache_entries_are_keyed_by_content_config_and_code(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache")
    f = tmp_path / "image.jpg"
    f.write_bytes(b"one")
    k1 = cache.key("slic", {"n": 150}, [f])
    assert k1 == cache.key("slic", {"n": 150}, [f])
    assert k1 != cache.key("slic", {"n": 100}, [f]) != cache.key("other", {"n": 150}, [f])
    os.utime(f, ns=(1, 1))
    f.write_bytes(b"two")
    assert cache.key("slic", {"n": 150}, [f]) != k1
    assert cache.get_or_compute(k1, lambda: [1, 2]) == [1, 2] and cache.get_or_compute(k1, lambda: [3]) == [1, 2]
    cache.path_of(k1).write_bytes(b"")  # a damaged entry is recomputed, never trusted
    assert cache.get_or_compute(k1, lambda: [3]) == [3]


def test_memory_benchmark_reports_both_worlds_and_the_ratio(short_cards: Path, capsys) -> None:
    result = compare_pretraining_memory((3, 2), (3, 4), (56, 100), epochs=1)
    assert result["small"]["train_samples"] == 2 and result["large"]["train_samples"] == 4
    assert result["ratio_large_to_small"] == round(result["large"]["peak_rss_mb"] / result["small"]["peak_rss_mb"], 3)
    assert 0 < result["small"]["peak_rss_mb"]


def test_cache_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("BENCH3D_CACHE", str(tmp_path / "cache"))
    DiskCache().get_or_compute("ab" * 32, lambda: torch.zeros(10))
    for args, text in ((["cache", "info"], "1 entries"), (["cache", "clear"], "removed 1 entries")):
        try:
            main(args)
        except SystemExit as exc:
            assert exc.code == 0
        assert text in capsys.readouterr().out


def test_loader_benchmark_measures_cold_warm_and_workers(harness_release: Path, short_cards: Path) -> None:
    from bench3d.harness.loader_bench import compare_epoch_speed

    result = compare_epoch_speed(harness_release, "slidr", workers=2, max_samples=4)
    assert result["samples"] == 4
    for key in ("cold_0_workers_s", "warm_0_workers_s", "warm_2_workers_s"):
        assert result[key] > 0
    assert result["warm_cache_speedup"] == round(result["cold_0_workers_s"] / result["warm_0_workers_s"], 2)


def test_teacher_features_are_cached_and_change_no_number(harness_release: Path, tmp_path: Path) -> None:
    from bench3d.data.nuscenes import NuScenesReader
    from bench3d.methods import PretrainContext, build_method

    reader = NuScenesReader(harness_release, "v1.0-mini")
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][:4]
    cache = DiskCache(tmp_path / "cache")
    weights, counts = [], []
    for run, cached in enumerate([True, True, False]):  # cold, warm, never cached
        adapter = build_method("scalr", "tiny", overrides={"epochs": 2, "max_points": 2000,
                                                           "cache_teacher_features": cached}, synthetic_data=True)
        cache.hits = cache.misses = 0
        ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=torch.device("cpu"), seed=0, disk_cache=cache)
        adapter.pretrain(ctx, tmp_path / f"{run}.pt")
        counts.append((cache.hits, cache.misses))
        weights.append(torch.load(tmp_path / f"{run}.pt", weights_only=False)["backbones"]["lidar"])
    assert counts == [(4, 4), (8, 0), (0, 0)]  # computed once per sample, then read (2 epochs x 4 samples)
    for other in weights[1:]:
        assert all(torch.equal(weights[0][k], other[k]) for k in weights[0])
