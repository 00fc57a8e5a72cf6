"""nuScenes 3D detection: write the official results JSON from typed boxes and score it with the devkit.

Scoring is nuscenes-devkit's own `DetectionEval` (config `detection_cvpr_2019`), wrapped, not rewritten:
mAP over centre-distance thresholds 0.5/1/2/4 m, the five TP errors at 2 m, and
NDS = (5 mAP + sum of max(0, 1 - mTP)) / 10.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nuscenes.eval.detection.constants import ATTRIBUTE_NAMES, DETECTION_NAMES, TP_METRICS

from bench3d.errors import DataError

log = logging.getLogger(__name__)

MAX_BOXES_PER_SAMPLE = 500
TP_ERROR_NAMES = {"trans_err": "mATE", "scale_err": "mASE", "orient_err": "mAOE", "vel_err": "mAVE", "attr_err": "mAAE"}
DEFAULT_META = {"use_camera": False, "use_lidar": True, "use_radar": False, "use_map": False, "use_external": False}


@dataclass(frozen=True)
class DetectionBox:
    """One predicted box in the nuScenes results convention (global frame)."""

    sample_token: str
    translation: tuple[float, float, float]  # box centre, metres
    size: tuple[float, float, float]  # width, length, height
    rotation: tuple[float, float, float, float]  # quaternion w, x, y, z
    velocity: tuple[float, float]  # vx, vy in m/s; NaN when unknown
    detection_name: str
    detection_score: float
    attribute_name: str = ""

    def __post_init__(self) -> None:
        if self.detection_name not in DETECTION_NAMES:
            raise ValueError(f"detection_name {self.detection_name!r} is not one of {DETECTION_NAMES}")
        if self.attribute_name and self.attribute_name not in ATTRIBUTE_NAMES:
            raise ValueError(f"attribute_name {self.attribute_name!r} is not '' or one of {ATTRIBUTE_NAMES}")
        if len(self.translation) != 3 or len(self.size) != 3 or len(self.rotation) != 4 or len(self.velocity) != 2:
            raise ValueError("translation, size, rotation, velocity need 3, 3, 4 and 2 values")
        if min(self.size) <= 0:
            raise ValueError(f"box sizes must be > 0, got {self.size}")
        if not math.isfinite(self.detection_score):
            raise ValueError("detection_score must be a finite number")

    def to_json(self) -> dict[str, Any]:
        return {
            "sample_token": self.sample_token,
            "translation": [float(v) for v in self.translation],
            "size": [float(v) for v in self.size],
            "rotation": [float(v) for v in self.rotation],
            "velocity": [float(v) for v in self.velocity],
            "detection_name": self.detection_name,
            "detection_score": float(self.detection_score),
            "attribute_name": self.attribute_name,
        }


def write_detection_results(
    boxes: Iterable[DetectionBox],
    path: str | Path,
    sample_tokens: Sequence[str],
    meta: dict[str, bool] | None = None,
) -> Path:
    """Write `{"meta", "results"}` with an entry (possibly empty) for every sample of the eval set."""
    results: dict[str, list[dict[str, Any]]] = {token: [] for token in sample_tokens}
    for box in boxes:
        if box.sample_token not in results:
            raise ValueError(f"box for sample {box.sample_token!r}, which is not in the eval set")
        results[box.sample_token].append(box.to_json())
    crowded = [t for t, b in results.items() if len(b) > MAX_BOXES_PER_SAMPLE]
    if crowded:
        raise ValueError(f"sample {crowded[0]} has more than {MAX_BOXES_PER_SAMPLE} boxes (the devkit's limit)")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta or DEFAULT_META, "results": results}))
    return path


@dataclass(frozen=True)
class DetectionScores:
    mean_ap: float
    nd_score: float
    tp_errors: dict[str, float]  # trans_err, scale_err, orient_err, vel_err, attr_err
    class_aps: dict[str, float]  # detection class -> AP averaged over the distance thresholds
    class_tp_errors: dict[str, dict[str, float]] = field(default_factory=dict)
    evaluator: str = "nuscenes-devkit DetectionEval (detection_cvpr_2019)"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready; NaN (a TP error the devkit leaves out, e.g. traffic_cone orientation) becomes None."""

        def clean(errors: dict[str, float]) -> dict[str, float | None]:
            return {k: None if math.isnan(v) else v for k, v in errors.items()}

        return {
            "evaluator": self.evaluator,
            "mean_ap": self.mean_ap,
            "nd_score": self.nd_score,
            "tp_errors": clean(self.tp_errors),
            "class_aps": dict(self.class_aps),
            "class_tp_errors": {k: clean(v) for k, v in self.class_tp_errors.items()},
        }


def evaluate_detection_results(
    dataroot: str | Path,
    version: str,
    eval_set: str,
    results_path: str | Path,
    output_dir: str | Path,
    config_name: str = "detection_cvpr_2019",
) -> DetectionScores:
    """Run the devkit's DetectionEval; writes metrics_summary.json / metrics_details.json to `output_dir`."""
    from nuscenes import NuScenes  # the devkit import is slow; keep it off the CLI start-up path
    from nuscenes.eval.common.config import config_factory
    from nuscenes.eval.detection.evaluate import DetectionEval

    results_path, output_dir = Path(results_path), Path(output_dir)
    if not results_path.is_file():
        raise DataError(results_path, "results file is missing")
    nusc = NuScenes(version=version, dataroot=str(dataroot), verbose=False)
    # The devkit draws tqdm bars on stderr even when not verbose; library code does not print.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            evaluator = DetectionEval(
                nusc, config_factory(config_name), str(results_path), eval_set, str(output_dir), verbose=False
            )
        except AssertionError as exc:  # the devkit reports bad submissions through assertions
            raise DataError(results_path, f"rejected by the nuScenes devkit: {exc}") from None
        metrics, metric_data = evaluator.evaluate()
    summary = metrics.serialize()
    summary["meta"] = evaluator.meta.copy()
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "metrics_summary.json").write_text(json.dumps(summary, indent=2))
    (output_dir / "metrics_details.json").write_text(json.dumps(metric_data.serialize(), indent=2))
    log.info("nuScenes detection: mAP %.4f NDS %.4f", summary["mean_ap"], summary["nd_score"])
    return DetectionScores(
        mean_ap=float(summary["mean_ap"]),
        nd_score=float(summary["nd_score"]),
        tp_errors={name: float(summary["tp_errors"][name]) for name in TP_METRICS},
        class_aps={name: float(v) for name, v in summary["mean_dist_aps"].items()},
        class_tp_errors={c: {m: float(v) for m, v in errs.items()} for c, errs in summary["label_tp_errors"].items()},
    )
