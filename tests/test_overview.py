"""The one-glance table across tasks (`reports.overview`): a column per (task, protocol, fraction) with that
task's own score and direction, a row per method as it ran, `–` where a method has no run, run ids per cell."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from bench3d.reports.overview import build_overview, write_overview
from bench3d.results import RunRecord, ScoreSpec
from bench3d.results.provenance import collect, now_iso

SCORES = {"lidar_semseg": ScoreSpec(name="miou", label="mIoU (%)", higher_is_better=True, percent=True),
          "det3d": ScoreSpec(name="nds", label="NDS (%)", higher_is_better=True, percent=True),
          "toy_error": ScoreSpec(name="err", label="error", higher_is_better=False)}


def _eval(run_id: str, method: str, task: str, protocol: str, fraction: float, seed: int, value: float,
          dataset: str = "synth", pretrained_on: str | None = None) -> RunRecord:
    score = SCORES[task]
    resolved = {"method": method, "seed": seed, **({"pretrained_on": pretrained_on} if pretrained_on else {})}
    return RunRecord(run_id=run_id, kind="evaluation", method=method, checkpoint=None, protocol=protocol,
                     protocol_version="1.0", dataset=dataset, task=task, fraction=fraction, draw=0, seed=seed,
                     preset="tiny", score=score, metrics={score.name: value},
                     provenance=collect(resolved_config=resolved, device="cpu", wall_time_s=1.0, started_at=now_iso()))


@pytest.fixture
def records() -> list[RunRecord]:
    out = []
    for seed, jitter in enumerate((0.0, 0.02, 0.04)):
        out.append(_eval(f"r-lp-{seed}", "random", "lidar_semseg", "linear_probe", 1.0, seed, 0.10 + jitter))
        out.append(_eval(f"l-lp-{seed}", "lima", "lidar_semseg", "linear_probe", 1.0, seed, 0.40 + jitter))
        out.append(_eval(f"l-ft-{seed}", "lima", "lidar_semseg", "finetune", 0.01, seed, 0.20 + jitter))
    out.append(_eval("m-det", "mim4d", "det3d", "det3d_probe", 1.0, 0, 0.25))
    out.append(_eval("i-det", "imagenet", "det3d", "det3d_probe", 1.0, 0, 0.30))
    out.append(_eval("a-err", "mim4d", "toy_error", "probe", 1.0, 0, 2.0))
    out.append(_eval("b-err", "imagenet", "toy_error", "probe", 1.0, 0, 3.0))
    # not in the synth overview: another dataset, and a transfer run pretrained on synth
    out.append(_eval("k", "lima", "lidar_semseg", "finetune", 0.01, 0, 0.9, dataset="synth-semantickitti"))
    out.append(_eval("t", "lima", "lidar_semseg", "finetune", 0.01, 0, 0.9, pretrained_on="other"))
    return out


def test_columns_cells_and_best(records: list[RunRecord]) -> None:
    table = build_overview(records, "synth")
    labels = [c.label for c in table.columns]
    # tasks and rows in the order the records first name them; LP before the other protocols of a task
    assert labels == ["lidar_semseg LP 100% (mIoU (%))", "lidar_semseg FT 1% (mIoU (%))",
                      "det3d det3d_probe 100% (NDS (%))", "toy_error probe 100% (error)"]
    assert list(table.cells) == ["random", "lima", "mim4d", "imagenet"]
    lima = table.cells["lima"]
    mean, ci, n = lima["lidar_semseg LP 100% (mIoU (%))"]
    assert (mean, n) == (pytest.approx(42.0), 3)
    assert ci == pytest.approx(100 * 4.3027 * 0.02 / 3 ** 0.5, rel=1e-3)  # t(0.975, 2) · s / √n, in mIoU %
    assert "det3d det3d_probe 100% (NDS (%))" not in lima
    assert table.cells["mim4d"]["toy_error probe 100% (error)"] == (2.0, pytest.approx(float("nan"), nan_ok=True), 1)
    md = table.to_markdown()
    assert "| random | 12.00 ± 4.97 (3) | – | – | – |" in md
    assert "**30.00 (1)**" in md  # imagenet's NDS is the higher
    assert "**2.00 (1)**" in md  # the toy error is lower-is-better: mim4d's 2.0 wins
    assert "90.00" not in md  # other datasets and transfer runs stay out


def test_written_files_trace_every_cell(records: list[RunRecord], tmp_path: Path) -> None:
    paths, table = write_overview(records, "synth", tmp_path / "out")
    assert [p.name for p in paths] == ["overview.md", "overview.tex", "overview_runs.csv"]
    assert paths[0].read_text() == table.to_markdown()
    runs = pd.read_csv(paths[2])
    row = runs[(runs["row"] == "lima") & (runs["column"] == "lidar_semseg FT 1% (mIoU (%))")]
    assert row["run_ids"].item() == "l-ft-0,l-ft-1,l-ft-2"
    assert r"\textbf{" in paths[1].read_text()
    # only the runs named, in their order: the rows and columns of just those
    by_id = {r.run_id: r for r in records}
    _, some = write_overview([by_id[i] for i in ("m-det", "l-lp-0", "r-lp-1")], "synth", tmp_path / "some")
    assert list(some.cells) == ["mim4d", "lima", "random"]
    assert [c.task for c in some.columns] == ["det3d", "lidar_semseg"]
    assert some.cells["random"]["lidar_semseg LP 100% (mIoU (%))"][::2] == (pytest.approx(12.0), 1)
    with pytest.raises(ValueError, match="no evaluation runs for dataset 'waymo'"):
        write_overview(records, "waymo", tmp_path / "out")
