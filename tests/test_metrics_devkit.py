"""Cross-checks with nuscenes-devkit 1.2.0 itself (LidarSegEval, DetectionEval) on a tiny synthetic release."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _mini_release import MiniRelease, build_mini_release, write_random_lidarseg_predictions
from nuscenes import NuScenes
from nuscenes.eval.common.loaders import load_gt
from nuscenes.eval.detection.data_classes import DetectionBox as DevkitDetectionBox
from nuscenes.eval.lidarseg.evaluate import LidarSegEval

from bench3d.metrics.detection import DetectionBox, evaluate_detection_results, write_detection_results
from bench3d.metrics.nuscenes_lidarseg import evaluate_lidarseg_submission


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> MiniRelease:
    return build_mini_release(tmp_path_factory.mktemp("nuscenes") / "data")


@pytest.fixture(scope="module")
def nusc(release) -> NuScenes:
    return NuScenes(release.version, str(release.dataroot), verbose=False)


@pytest.mark.parametrize("seed", [1, 2])
def test_lidarseg_equals_devkit_lidarsegeval(release, nusc, tmp_path, seed):
    write_random_lidarseg_predictions(release, tmp_path, "mini_val", seed=seed)
    official = LidarSegEval(nusc, str(tmp_path), "mini_val").evaluate()
    ours = evaluate_lidarseg_submission(release.dataroot, release.version, "mini_val", tmp_path)
    assert ours.num_samples == len(release.all_samples())
    assert abs(ours.scores.miou - official["miou"]) <= 1e-12
    assert ours.scores.extras["freq_weighted_iou"] == pytest.approx(official["freq_weighted_iou"], abs=1e-12)
    for name, value in ours.scores.iou_per_class.items():
        ref = official["iou_per_class"][name]
        assert (math.isnan(value) and math.isnan(ref)) or value == ref


def gt_as_predictions(nusc: NuScenes) -> list[DetectionBox]:
    gt = load_gt(nusc, "mini_val", DevkitDetectionBox, verbose=False)
    return [
        DetectionBox(b.sample_token, tuple(b.translation), tuple(b.size), tuple(b.rotation), tuple(b.velocity),
                     b.detection_name, 1.0, b.attribute_name)  # fmt: skip
        for token in gt.sample_tokens
        for b in gt[token]
    ]


def test_detection_gt_as_predictions_scores_perfectly(release, nusc, tmp_path):
    """Ground truth submitted as predictions gives mAP 1.0 and NDS 1.0.

    NDS = (5 mAP + sum of the five TP scores) / 10 = (5 + 5) / 10 = 1.0 here because every TP error is 0:
    the release has a GT box of each of the 10 detection classes (a class without GT would add AP 0 and TP
    error 1), each instance spans all samples so the devkit's GT velocity is defined (and copied), and every
    class that has attributes has one (the devkit's mAAE ignores barrier and traffic_cone). With predictions
    that only copy positions (no velocity or attributes) NDS would drop although mAP stays 1.0.
    """
    boxes = gt_as_predictions(nusc)
    results = write_detection_results(boxes, tmp_path / "results.json", release.all_samples())
    scores = evaluate_detection_results(release.dataroot, release.version, "mini_val", results, tmp_path / "eval")
    assert scores.mean_ap == pytest.approx(1.0)
    assert scores.nd_score == pytest.approx(1.0)
    assert all(v == pytest.approx(0.0) for v in scores.tp_errors.values())
    assert (tmp_path / "eval" / "metrics_summary.json").is_file()


def test_detection_perturbed_boxes_score_lower(release, nusc, tmp_path):
    rng = np.random.default_rng(0)
    perturbed = []
    for box in gt_as_predictions(nusc):
        shift = rng.normal(0.0, 0.8, 2)
        translation = (box.translation[0] + shift[0], box.translation[1] + shift[1], box.translation[2])
        size = tuple(s * 1.2 for s in box.size)
        perturbed.append(DetectionBox(box.sample_token, translation, size, box.rotation, (0.0, 0.0),
                                      box.detection_name, float(rng.uniform(0.1, 1.0)), ""))  # fmt: skip
    results = write_detection_results(perturbed, tmp_path / "results.json", release.all_samples())
    scores = evaluate_detection_results(release.dataroot, release.version, "mini_val", results, tmp_path / "eval")
    assert scores.mean_ap < 1.0
    assert scores.nd_score < 0.9
    assert scores.tp_errors["trans_err"] > 0.1 and scores.tp_errors["scale_err"] > 0.05


def test_detection_results_need_every_sample_and_valid_boxes(release, tmp_path):
    box = DetectionBox("nope", (0, 0, 0), (1, 1, 1), (1, 0, 0, 0), (0, 0), "car", 0.5)
    with pytest.raises(ValueError, match="not in the eval set"):
        write_detection_results([box], tmp_path / "r.json", release.all_samples())
    with pytest.raises(ValueError, match="detection_name"):
        DetectionBox("s", (0, 0, 0), (1, 1, 1), (1, 0, 0, 0), (0, 0), "vehicle.car", 0.5)
    with pytest.raises(ValueError, match="sizes must be > 0"):
        DetectionBox("s", (0, 0, 0), (0, 1, 1), (1, 0, 0, 0), (0, 0), "car", 0.5)


def test_detection_missing_samples_rejected_with_the_file_named(release, tmp_path):
    from bench3d.errors import DataError

    results = write_detection_results([], tmp_path / "partial.json", release.all_samples()[:-1])
    with pytest.raises(DataError, match="partial.json"):
        evaluate_detection_results(release.dataroot, release.version, "mini_val", results, tmp_path / "eval")


def test_lidarseg_custom_split_from_splits_json(tmp_path):
    release = build_mini_release(tmp_path / "data", version="v1.0-custom", scene_names=("scene-a", "scene-b"),
                                 custom_splits={"holdout": ["scene-b"]})  # fmt: skip
    write_random_lidarseg_predictions(release, tmp_path / "pred", "holdout")
    # keep only scene-b's files: the others would be "extra" for this split
    for sample in release.sample_tokens["scene-a"]:
        (tmp_path / "pred" / "lidarseg" / "holdout" / f"{release.lidar_tokens[sample]}_lidarseg.bin").unlink()
    result = evaluate_lidarseg_submission(tmp_path / "data", "v1.0-custom", "holdout", tmp_path / "pred")
    assert result.num_samples == len(release.sample_tokens["scene-b"])
