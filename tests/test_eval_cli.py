"""`bench3d eval lidarseg | semantickitti | det`: results, JSON output, and errors that name the bad file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _mini_release import MiniRelease, build_mini_release, write_random_lidarseg_predictions
from typer.testing import CliRunner

from bench3d.cli.main import app
from bench3d.labels import semantickitti as kitti

runner = CliRunner()


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> MiniRelease:
    return build_mini_release(tmp_path_factory.mktemp("eval") / "data")


@pytest.fixture()
def predictions(release, tmp_path) -> Path:
    write_random_lidarseg_predictions(release, tmp_path / "sub", "mini_val")
    return tmp_path / "sub"


def run_lidarseg(release: MiniRelease, predictions: Path, *extra: str):
    args = ["eval", "lidarseg", "--dataroot", str(release.dataroot), "--version", release.version,
            "--eval-set", "mini_val", "--predictions", str(predictions), *extra]  # fmt: skip
    return runner.invoke(app, args)


def test_lidarseg_prints_table_and_writes_json(release, predictions, tmp_path):
    result = run_lidarseg(release, predictions, "--json", str(tmp_path / "out.json"))
    assert result.exit_code == 0, result.output
    assert "reducer: nuscenes" in result.output and "mIoU" in result.output and "vegetation" in result.output
    payload = json.loads((tmp_path / "out.json").read_text())
    assert payload["scores"]["reducer"] == "nuscenes" and payload["num_samples"] == 6
    assert len(payload["confusion_matrix"]) == 17
    assert sum(map(sum, payload["confusion_matrix"])) == sum(release.num_points.values())


def test_lidarseg_missing_prediction_is_named(release, predictions):
    victim = next((predictions / "lidarseg" / "mini_val").iterdir())
    victim.unlink()
    result = run_lidarseg(release, predictions)
    assert result.exit_code == 1
    assert victim.name in result.output and "missing" in result.output


def test_lidarseg_extra_prediction_is_named(release, predictions):
    (predictions / "lidarseg" / "mini_val" / "stray_lidarseg.bin").write_bytes(b"\x01")
    result = run_lidarseg(release, predictions)
    assert result.exit_code == 1 and "stray_lidarseg.bin" in result.output


def test_lidarseg_wrong_length_is_named(release, predictions):
    lidar = release.lidar_tokens[release.all_samples()[0]]
    path = predictions / "lidarseg" / "mini_val" / f"{lidar}_lidarseg.bin"
    np.ones(release.num_points[lidar] - 1, dtype=np.uint8).tofile(path)
    result = run_lidarseg(release, predictions)
    assert result.exit_code == 1
    assert path.name in result.output and f"has {release.num_points[lidar] - 1} labels" in result.output


def test_lidarseg_ignore_class_prediction_is_named(release, predictions):
    lidar = release.lidar_tokens[release.all_samples()[-1]]
    path = predictions / "lidarseg" / "mini_val" / f"{lidar}_lidarseg.bin"
    np.zeros(release.num_points[lidar], dtype=np.uint8).tofile(path)
    result = run_lidarseg(release, predictions)
    assert result.exit_code == 1 and path.name in result.output and "1..16" in result.output


@pytest.fixture()
def kitti_dataset(tmp_path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    root, preds = tmp_path / "dataset", tmp_path / "preds"
    raw_ids = np.array(sorted(kitti.LEARNING_MAP), dtype=np.uint32)
    for scan in range(3):
        n = int(rng.integers(100, 200))
        for folder, values in (
            (root / "sequences/08/labels", raw_ids[rng.integers(0, len(raw_ids), n)] | (7 << 16)),
            (preds / "sequences/08/predictions", kitti.train_to_raw(rng.integers(1, 20, n))),
        ):
            folder.mkdir(parents=True, exist_ok=True)
            values.astype(np.uint32).tofile(folder / f"{scan:06d}.label")
    return root, preds


def run_kitti(root: Path, preds: Path, *extra: str):
    return runner.invoke(app, ["eval", "semantickitti", "--dataroot", str(root), "--predictions", str(preds), *extra])


def test_semantickitti_scores_and_json(kitti_dataset, tmp_path):
    root, preds = kitti_dataset
    result = run_kitti(root, preds, "--json", str(tmp_path / "k.json"))
    assert result.exit_code == 0, result.output
    assert "reducer: semantickitti" in result.output and "traffic-sign" in result.output
    payload = json.loads((tmp_path / "k.json").read_text())
    assert payload["num_scans"] == 3 and len(payload["scores"]["iou_per_class"]) == 19


@pytest.mark.parametrize("problem", ["missing", "extra", "short"])
def test_semantickitti_bad_prediction_files_are_named(kitti_dataset, problem):
    root, preds = kitti_dataset
    folder = preds / "sequences/08/predictions"
    if problem == "missing":
        (folder / "000001.label").unlink()
        name = "000001.label"
    elif problem == "extra":
        np.zeros(5, np.uint32).tofile(folder / "000009.label")
        name = "000009.label"
    else:
        np.zeros(3, np.uint32).tofile(folder / "000002.label")
        name = "000002.label"
    result = run_kitti(root, preds)
    assert result.exit_code == 1 and name in result.output


def test_det_command_runs_the_devkit(release, tmp_path):
    from nuscenes import NuScenes
    from nuscenes.eval.common.loaders import load_gt
    from nuscenes.eval.detection.data_classes import DetectionBox as DevkitBox

    gt = load_gt(NuScenes(release.version, str(release.dataroot), verbose=False), "mini_val", DevkitBox, verbose=False)
    results = {"meta": {"use_lidar": True}, "results": {t: [b.serialize() for b in gt[t]] for t in gt.sample_tokens}}
    for boxes in results["results"].values():
        for box in boxes:
            box["velocity"] = [float(v) for v in box["velocity"]]
    (tmp_path / "det.json").write_text(json.dumps(results))
    args = ["eval", "det", "--dataroot", str(release.dataroot), "--version", release.version, "--eval-set",
            "mini_val", "--results", str(tmp_path / "det.json"), "--json", str(tmp_path / "scores.json")]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "NDS" in result.output and "1.0000" in result.output
    assert json.loads((tmp_path / "scores.json").read_text())["scores"]["mean_ap"] == pytest.approx(1.0)
    assert (tmp_path / "det_eval_mini_val" / "metrics_summary.json").is_file()
