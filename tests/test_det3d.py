"""3D detection: CenterPoint targets decode back to their boxes, and ladder rung (a) — ground-truth boxes ->
targets -> decode -> nuScenes results JSON -> nuscenes-devkit DetectionEval — scores mAP >= 0.95 (a frame,
yaw or w/l/h-order mistake anywhere on that path would not); the task runs through the runner."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from bench3d.datasets import resolve_dataset
from bench3d.models.bev.grid import BevGrid
from bench3d.tasks.det3d.results import attribute_for, to_results
from bench3d.tasks.det3d.targets import decode, encode, gaussian_radius


def test_targets_decode_to_their_boxes() -> None:
    grid = BevGrid(cell=0.8)
    labels = np.array([0, 5, 9])
    center = np.array([[10.3, -4.1, -0.9], [-20.05, 7.7, -1.2], [3.3, 30.9, -1.5]])
    size = np.array([[1.9, 4.6, 1.7], [0.6, 0.7, 1.8], [2.5, 0.5, 1.0]])
    yaw = np.array([0.3, -2.9, 1.6])
    velocity = np.array([[3.0, -1.0], [0.5, 0.2], [np.nan, np.nan]])
    t = encode(grid, labels, center, size, yaw, velocity, 10)
    assert t.mask.sum() == 3 and float(t.heatmap.max()) == 1.0 and int((t.heatmap == 1).sum()) == 3
    det = decode(grid, t.heatmap, t.regression)
    order = np.argsort(det.label)
    assert det.label[order].tolist() == [0, 5, 9]
    np.testing.assert_allclose(det.center[order], center, atol=1e-5)
    np.testing.assert_allclose(det.size[order], size, atol=1e-5)
    np.testing.assert_allclose(det.yaw[order], yaw, atol=1e-5)
    np.testing.assert_allclose(det.velocity[order], np.nan_to_num(velocity), atol=1e-6)


def test_gaussian_radius_grows_with_the_box_and_has_a_floor() -> None:
    assert gaussian_radius(10, 5) > gaussian_radius(5, 2.5) > 0
    t = encode(BevGrid(cell=0.8), np.array([0]), np.zeros((1, 3)), np.array([[0.5, 0.5, 1.0]]), np.zeros(1),
               np.zeros((1, 2)), 10, min_radius=2)
    assert int((t.heatmap[0] > 0).sum()) == 25  # a tiny box still gets the 5 x 5 minimum


def test_attributes_follow_the_speed_rule() -> None:
    assert attribute_for("car", 1.0, 0.0) == "vehicle.moving" and attribute_for("car", 0.1, 0.0) == "vehicle.parked"
    assert attribute_for("bus", 0.0, 0.0) == "vehicle.stopped" and attribute_for("pedestrian", 0, 0) == "pedestrian.standing"
    assert attribute_for("bicycle", 0.0, 2.0) == "cycle.with_rider" and attribute_for("barrier", 3.0, 0.0) == ""


@pytest.mark.parametrize("cell", [0.8, 1.6])
def test_ladder_a_ground_truth_through_targets_scores_map_above_0_95(cell: float, harness_release: Path) -> None:
    from bench3d.data.nuscenes.tables import split_scene_names
    from bench3d.tasks.det3d.task import CLASSES, score_results
    from bench3d.tasks.registry import build_task

    dataset = resolve_dataset("synth", harness_release)
    reader = dataset.open_reader()
    val = set(split_scene_names(dataset.dataroot, dataset.version, dataset.val_split))
    tokens = [t for seq in reader.sequences() if seq.name in val for t in seq.sample_tokens]
    task = build_task("det3d", {"grid_cell": cell}, "test")
    boxes = []
    for sample in task.load(reader, dataset, tokens, train=False, seed=0):
        det = decode(task.grid, sample.targets.heatmap, sample.targets.regression)
        boxes += to_results(det, sample.inputs.token, sample.inputs.lidar_to_global, CLASSES)
    scores = score_results(boxes, tokens, dataset)
    assert scores["map"] >= 0.95 and scores["nds"] >= 0.9, scores
    assert scores["tp_errors"]["trans_err"] < 0.05 and scores["tp_errors"]["orient_err"] < 0.05


def test_det3d_probe_through_the_runner(harness_release: Path, short_cards: Path, tmp_path: Path) -> None:
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec
    from bench3d.results import ResultsStore

    record = Runner(ResultsStore(tmp_path / "store"), "cpu", harness_release).evaluate(
        EvalSpec("imagenet", "det3d_probe", "synth", 1.0, 0, 0))
    m = record.metrics
    assert record.task == "det3d" and record.score.name == "nds" and 0.0 <= m["nds"] <= 1.0
    assert 0.0 <= m["map"] <= 1.0 and set(m["tp_errors"]) == {"trans_err", "scale_err", "orient_err", "vel_err",
                                                              "attr_err"}
    assert m["evaluator"].startswith("nuscenes-devkit DetectionEval") and not math.isnan(m["nds"])
    assert len(record.metrics["loss_history"]) == 4 and set(record.metrics["loss_history"][0]) == {"heatmap",
                                                                                                  "regression"}


def test_a_kept_detector_reloads_strictly_and_scores_the_same(harness_release: Path, short_cards: Path,
                                                              tmp_path: Path) -> None:
    """Ladder rung (b)'s protocol keeps the trained detector beside its record (`keep_weights`): the file's
    sha256 is in the record, it loads strictly into the task's model and evaluates to the recorded NDS."""
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import EvalSpec
    from bench3d.methods import build_method
    from bench3d.protocols import resolve_protocol
    from bench3d.results import ResultsStore
    from bench3d.results.provenance import file_sha256

    store = tmp_path / "store"
    runner = Runner(ResultsStore(store), "cpu", harness_release)
    record = runner.evaluate(EvalSpec("random", "det3d_teacher", "synth", 1.0, 0, 0))
    weights = record.metrics["weights"]
    path = store / weights["file"]
    assert path == runner.weights_path(record.run_id) and file_sha256(path) == weights["sha256"]
    saved = torch.load(path, map_location="cpu", weights_only=False)
    assert saved["run_id"] == record.run_id and saved["task"] == "det3d" and saved["backbone"] == "lidar"
    task = resolve_protocol("det3d_teacher", "tiny").task
    dataset = resolve_dataset("synth", harness_release)
    model = task.build_model(build_method("random").load_backbone("lidar", None, init_seed=5), dataset)
    model.load_state_dict(saved["state_dict"], strict=True)
    from bench3d.harness.mock import eval_samples

    reader = dataset.open_reader()
    scores = task.evaluate(model, eval_samples(task, reader, dataset, None), torch.device("cpu"), dataset)
    assert scores["nds"] == pytest.approx(record.metrics["nds"], abs=1e-9)
    # `bench3d show --run` brings the same detector back and draws its boxes beside the ground truth.
    from bench3d.harness.predictions import first_eval_token, load_kept_model, predict_frame
    from bench3d.results import ResultsStore
    from bench3d.viz.frame_figure import render_frame

    token = first_eval_token(dataset)
    prediction = predict_frame(load_kept_model(ResultsStore(store), record.run_id, dataset), dataset, token)
    expected = task.detect(model.eval(), task.load(reader, dataset, [token], False, 0)[0], torch.device("cpu"))
    assert prediction.scores == [b.detection_score for b in expected] and len(expected) > 0
    assert [tuple(b.center) for b in prediction.boxes] == [b.translation for b in expected]
    assert [b.category for b in prediction.boxes] == [b.detection_name for b in expected]
    figure = render_frame(reader.frame(token), tmp_path / "det.png", prediction=prediction)
    assert figure.stat().st_size > 10_000
    # A protocol without keep_weights keeps nothing and has another run id.
    other = runner.evaluate(EvalSpec("random", "det3d_full", "synth", 1.0, 0, 0))
    assert "weights" not in other.metrics and other.run_id != record.run_id
