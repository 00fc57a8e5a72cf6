"""`make demo`'s plan and its cost table: every seed method beside its baselines on every protocol the issue
names, and each step's wall time listed once, dependencies first. (The demo's end-to-end run is timed in the
README; its pieces run in CI through tests/test_harness_e2e.py, test_camera_effect.py and test_cmcr.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench3d.demo import DEMO_WORLD, demo_specs, ensure_synthetic_world, step_costs
from bench3d.errors import DataError
from bench3d.results import ResultsStore, RunRecord
from bench3d.results.provenance import collect, now_iso


def test_every_seed_method_beside_its_baselines() -> None:
    cells = {(s.method, s.protocol, s.fraction) for s in demo_specs()}
    for method in ("random", "scalr", "slidr", "lima", "cmcr"):
        assert {(method, "linear_probe", 1.0), (method, "finetune", 0.01)} <= cells
    for method in ("imagenet", "random_swin", "geomim", "random_convnext", "mim4d"):
        assert {(method, "bev_seg_probe", 1.0), (method, "det3d_probe", 1.0)} <= cells
    assert len(cells) == 20
    specs = demo_specs(seeds=(0, 1))
    assert len(specs) == 40 and {s.pretrain_seed for s in specs} == {0} and {s.draw for s in specs} == {0}
    # the world shrinks for the demo; the presets and protocols do not
    assert {s.preset for s in specs} == {"tiny"} and (DEMO_WORLD.scenes, DEMO_WORLD.samples_per_scene) == (5, 8)


def _record(run_id: str, kind: str, method: str, wall: float, checkpoint: str | None = None,
            resolved: dict | None = None, protocol: str | None = None) -> RunRecord:
    return RunRecord(run_id=run_id, kind=kind, method=method, checkpoint=checkpoint, protocol=protocol,
                     dataset="synth", task="bev_seg", fraction=1.0 if protocol else None, seed=0, preset="tiny",
                     metrics={"miou": 0.3} if kind == "evaluation" else {},
                     provenance=collect(resolved_config=resolved or {}, device="cpu", wall_time_s=wall,
                                        started_at=now_iso()))


def test_step_costs_list_dependencies_once_and_first(tmp_path: Path) -> None:
    store = ResultsStore(tmp_path)
    teacher = _record("t", "pretrain", "det3d_teacher", 30.0)
    pretrain = _record("p", "pretrain", "geomim", 120.0, resolved={"bev_teacher": {"kind": "lidar_det", "run_id": "t"}})
    bev = _record("e1", "evaluation", "geomim", 40.0, checkpoint="p", protocol="bev_seg_probe")
    det = _record("e2", "evaluation", "geomim", 50.0, checkpoint="p", protocol="det3d_probe")
    for r in (teacher, pretrain, bev, det):
        store.write(r)
    costs = step_costs(store, [bev, det])
    assert costs == [("det3d_teacher: pretrain (seed 0)", 30.0), ("geomim: pretrain (seed 0)", 120.0),
                     ("geomim: bev_seg_probe 100% (seed 0)", 40.0), ("geomim: det3d_probe 100% (seed 0)", 50.0)]


def test_a_world_without_its_map_layers_is_refused(tmp_path: Path) -> None:
    (tmp_path / "v1.0-mini").mkdir()
    (tmp_path / "v1.0-mini" / "scene.json").write_text("[]")
    with pytest.raises(DataError, match="maps/expansion"):
        ensure_synthetic_world(tmp_path)


def test_a_default_world_of_another_size_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH3D_DATA", str(tmp_path))
    root = tmp_path / "synth-demo"
    (root / "v1.0-mini").mkdir(parents=True)
    (root / "v1.0-mini" / "scene.json").write_text("[]")
    (root / "synthetic").mkdir()
    config = {**DEMO_WORLD.to_dict(), "scenes": 10, "samples_per_scene": 20}
    (root / "synthetic" / "release.json").write_text(json.dumps({"config": config}))
    with pytest.raises(DataError, match=r"release.json.*other options than the demo's \(5 scenes x 8 keyframes\)"):
        ensure_synthetic_world()
    # the same world named explicitly is the user's choice (it then fails only for its missing map layers)
    with pytest.raises(DataError, match="maps/expansion"):
        ensure_synthetic_world(root)


def test_cli_prints_the_one_table_and_the_costs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`bench3d demo` is a thin layer: it prints the overview (one column per task and protocol, its score in
    the header), the cost of every step with their total, and where the figure went."""
    from typer.testing import CliRunner

    import bench3d.demo
    from bench3d.cli.main import app
    from bench3d.data.nuscenes.summary import DatasetSummary
    from bench3d.reports.overview import build_overview

    lidar = _record("e1", "evaluation", "cmcr", 7.0, protocol="linear_probe")
    lidar = lidar.model_copy(update={"task": "lidar_semseg"})
    camera = _record("e2", "evaluation", "mim4d", 20.0, protocol="bev_seg_probe")
    summary = DatasetSummary(dataroot=str(tmp_path), version="v1.0-mini", table_sizes={"scene": 5}, keyframes=40,
                             points=1000)
    out = bench3d.demo.DemoOutputs(tmp_path, summary, tmp_path / "p.png", build_overview([lidar, camera], "synth"),
                                   [tmp_path / "overview.md"], tmp_path / "efficiency.png",
                                   [("cmcr: pretrain (seed 0)", 134.0), ("cmcr: linear_probe 100% (seed 0)", 7.0)])
    monkeypatch.setattr(bench3d.demo, "run_demo", lambda *a, **k: out)
    result = CliRunner().invoke(app, ["demo", "--results", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    flat = "".join(result.output.split())  # rich wraps cells and paths to the terminal's width
    for text in ("lidar_semseg", "bev_seg", "LP 100%", "30.00 (1)", "cmcr: pretrain (seed 0)", "total", "141",
                 "efficiency.png"):
        assert "".join(text.split()) in flat
