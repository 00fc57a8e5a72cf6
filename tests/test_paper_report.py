"""`bench3d report`: the paper-ready folder built from a store alone — tables, label-efficiency curves (with
the run ids behind every point), component ablations, efficiency curves and the index linking them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from bench3d.cli.main import app
from bench3d.methods import build_method
from bench3d.reports.paper import write_report
from bench3d.results import ResultsStore, RunRecord
from bench3d.results.provenance import collect, now_iso


def _eval(run_id: str, method: str, protocol: str, fraction: float, seed: int, miou: float,
          components: dict | None = None) -> RunRecord:
    resolved = {"method": build_method(method, components=components, synthetic_data=True).resolved_config(),
                "seed": seed}
    return RunRecord(run_id=run_id, kind="evaluation", method=method, checkpoint=None, protocol=protocol,
                     protocol_version="1.0", dataset="synth", task="lidar_semseg", fraction=fraction, draw=0,
                     seed=seed, pretrain_seed=seed, preset="tiny", metrics={"reducer": "nuscenes", "miou": miou},
                     provenance=collect(resolved_config=resolved, device="cpu", wall_time_s=1.0, started_at=now_iso()))


def _efficiency(run_id: str, frames: int, seconds: float) -> RunRecord:
    metrics = {"frames": frames, "status": "ok", "cache_on": None, "cache_component": None,
               "step_time_median_s": seconds, "step_time_p25_s": seconds * 0.9, "step_time_p75_s": seconds * 1.1,
               "peak_rss_mb": 900.0 + frames}
    return RunRecord(run_id=run_id, kind="efficiency", method="lima", checkpoint=None, protocol="efficiency",
                     dataset="synth", task="pretraining_cost", seed=0, preset="tiny", metrics=metrics,
                     provenance=collect(resolved_config={"frames": frames}, device="cpu", wall_time_s=1.0,
                                        started_at=now_iso()))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    s = ResultsStore(root)
    base = {"random": 0.30, "scalr": 0.40, "slidr": 0.42}
    for method, score in base.items():
        for seed in range(3):
            s.write(_eval(f"{method}-lp-{seed}", method, "linear_probe", 1.0, seed, score - 0.2 + seed / 100))
            for fraction, gain in ((0.01, 0.0), (0.1, 0.1)):
                s.write(_eval(f"{method}-ft{fraction}-{seed}", method, "finetune", fraction, seed,
                              score + gain + seed / 100))
    for seed in range(3):  # an ablation in the same store: it must get its own table, not join slidr's rows
        s.write(_eval(f"lima-full-{seed}", "lima", "linear_probe", 1.0, seed, 0.25 + seed / 100))
        s.write(_eval(f"lima-nobank-{seed}", "lima", "linear_probe", 1.0, seed, 0.22 + seed / 100,
                      {"memory_bank": False}))
    for frames in (1, 2, 3):
        s.write(_efficiency(f"eff-{frames}", frames, 0.2 * frames))
    return root


def test_report_folder_from_a_store(store: Path, tmp_path: Path) -> None:
    page, paths = write_report(store, tmp_path / "report")
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    text = page.read_text()
    # The comparison table, with LP, 1 % and 10 % columns and each method's teacher in its row.
    assert "| method | LP 100% | FT 1% | FT 10% |" in text
    assert "| slidr (appearance) |" in text and "| random |" in text
    curve = pd.read_csv(tmp_path / "report" / "figures" / "label_efficiency_synth_lidar_semseg.csv")
    slidr = curve[curve.method == "slidr (appearance)"].set_index("fraction")
    assert slidr.loc[0.1, "mean"] == pytest.approx(0.53)  # 0.52, 0.53, 0.54
    assert slidr.loc[0.1, "run_ids"] == "slidr-ft0.1-0,slidr-ft0.1-1,slidr-ft0.1-2"
    assert set(curve.method) == {"random", "scalr (appearance)", "slidr (appearance)"}  # probes are not on it
    # The ablation: paired deltas of the switched-off component against the full method.
    ablation = next(p for p in paths if p.name == "ablation_lima.csv")
    df = pd.read_csv(ablation).set_index("variant")
    assert df.loc["−memory_bank", "delta"] == pytest.approx(-0.03)
    table = (tmp_path / "report" / "tables" / "synth_lidar_semseg.md").read_text()
    assert "| lima (appearance) |" in table and "| lima (appearance; no memory_bank) |" in table
    assert "efficiency/efficiency.png" in text and "figures/label_efficiency_synth_lidar_semseg.png" in text
    for link in ("tables/synth_lidar_semseg_runs.csv", "efficiency/efficiency.csv"):
        assert link in text


def test_report_cli_and_empty_store(store: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["report", "--results", str(store), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "index.md").is_file()
    with pytest.raises(ValueError, match="no evaluation or efficiency runs"):
        write_report(tmp_path / "empty", tmp_path / "r2")
