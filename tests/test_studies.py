"""Efficiency protocol and ablations on a small synthetic release (CI-sized cards)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from bench3d.errors import ConfigError
from bench3d.harness.ablation import ablation_variants, run_ablation
from bench3d.harness.efficiency_runner import run_efficiency
from bench3d.harness.runner import Runner
from bench3d.harness.specs import PretrainSpec
from bench3d.methods.lima.adapter import LiMA
from bench3d.reports.ablation import write_ablation_report
from bench3d.reports.efficiency import write_efficiency_report
from bench3d.results import ResultsStore

def test_efficiency_records_bank_and_no_bank(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    runner = Runner(ResultsStore(tmp_path / "results"), "cpu", harness_release)
    records = run_efficiency(runner, "lima", [1, 2], steps=2, warmup=1)
    assert [(r.metrics["frames"], r.metrics["cache_on"]) for r in records] == [(1, True), (1, False), (2, True), (2, False)]
    assert {r.metrics["cache_component"] for r in records} == {"memory_bank"}  # declared by the adapter
    for r in records:
        m = r.metrics
        assert r.kind == "efficiency" and m["status"] == "ok" and len(m["step_times_s"]) == 2
        assert m["step_time_p25_s"] <= m["step_time_median_s"] <= m["step_time_p75_s"] and m["peak_rss_mb"] > 0
    on2, off2 = records[2].metrics, records[3].metrics
    assert on2["bank_hits"] > 0 and off2["bank_hits"] == 0  # without a bank every past frame is re-encoded
    again = run_efficiency(runner, "lima", [1, 2], steps=2, warmup=1)  # finished settings are not re-measured
    assert [r.run_id for r in again] == [r.run_id for r in records]
    paths, df = write_efficiency_report(records, tmp_path / "reports")
    assert all(p.is_file() for p in paths) and df.loc[df.frames == 1, "time_vs_1_frame"].tolist() == [1.0, 1.0]
    assert "Published (LiMA paper" in paths[1].read_text()
    with pytest.raises(ConfigError, match="single-frame"):
        run_efficiency(runner, "scalr", [1, 2])


def test_out_of_memory_is_a_data_point(harness_release: Path, short_cards: Path, tmp_path: Path, monkeypatch) -> None:
    def oom(*args, **kwargs):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(LiMA, "loss", oom)
    runner = Runner(ResultsStore(tmp_path / "results"), "cpu", harness_release)
    (record,) = run_efficiency(runner, "lima", [2], steps=1, warmup=0, compare_bank=False)
    assert record.metrics["status"] == "oom" and "out of memory" in record.metrics["error"]
    paths, _ = write_efficiency_report([record], tmp_path / "reports")
    assert "oom" in paths[1].read_text()


def test_memory_bank_changes_cost_not_targets(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    """The teacher is frozen, so a bank hit returns exactly what re-encoding would: same losses."""
    runner = Runner(ResultsStore(tmp_path / "results"), "cpu", harness_release)
    histories = []
    for bank in (True, False):
        run_id, _ = runner.pretrain(PretrainSpec("lima", "synth", components=(("memory_bank", bank),)))
        histories.append(runner.store.read(run_id).metrics["loss_history"])
    flat = [[epoch[k] for epoch in h for k in sorted(epoch)] for h in histories]
    assert flat[0] == pytest.approx(flat[1], rel=1e-5)


def test_ablation_table_of_deltas(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    assert list(ablation_variants("lima")) == ["full", "-cross_view_aggregation", "-feature_propagation",
                                               "-memory_bank", "-cross_sequence_memory"]
    runner = Runner(ResultsStore(tmp_path / "results"), "cpu", harness_release)
    records = run_ablation(runner, "lima", seeds=[0, 1], variants=["full", "-feature_propagation"])
    assert {k: len(v) for k, v in records.items()} == {"full": 2, "-feature_propagation": 2}
    paths, text = write_ablation_report(records, "lima", "linear_probe", tmp_path / "reports")
    assert "| full | 2 (1 × 2 × 1) |" in text and "| -feature_propagation | 2 (1 × 2 × 1) |" in text and paths[0].is_file()
    with pytest.raises(ConfigError, match="unknown ablation variant"):
        run_ablation(runner, "lima", variants=["-teleportation"])
    # A study at another budget (--set): every variant, full included, runs with it, and the report says so.
    shorter = run_ablation(runner, "lima", seeds=[0], variants=["full", "-feature_propagation"],
                           base_settings={"lr": 0.0037})
    assert all(r.provenance.resolved_config["method"]["config"]["lr"] == 0.0037
               for recs in shorter.values() for r in recs)
    assert not {r.run_id for recs in shorter.values() for r in recs} & {r.run_id for recs in records.values() for r in recs}
    _, text = write_ablation_report(shorter, "lima", "linear_probe", tmp_path / "reports", {"lr": 0.0037})
    assert "ran with `lr=0.0037`" in text
    with pytest.raises(ConfigError, match="no components"):
        ablation_variants("scalr")
