"""3D object detection (the nuScenes detection benchmark): a CenterPoint-style head on the shared BEV stack
for the 10 detection classes; Gaussian focal loss on class heatmaps plus 0.25 x L1 on the regression at
box centres; decoded to a nuScenes results JSON and scored by nuscenes-devkit's DetectionEval (NDS, mAP,
the five TP errors). Single-frame models see no motion, so mAVE stays near 1 (as in the papers).
A probe cannot be linear: image features have no BEV position until a view transform lifts them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from nuscenes.eval.detection.constants import DETECTION_NAMES
from nuscenes.eval.detection.utils import category_to_detection_name
from pydantic import Field
from torch import nn

from bench3d.data.nuscenes.tables import split_scene_names
from bench3d.data.frame import Box3D
from bench3d.data.reader import Reader
from bench3d.data.sensor_geometry import boxes_in_lidar
from bench3d.datasets import DatasetSpec
from bench3d.engine.loader import LazySamples
from bench3d.errors import ConfigError
from bench3d.metrics.detection import evaluate_detection_results, write_detection_results
from bench3d.models.backbone import Backbone
from bench3d.models.bev.grid import BevGrid
from bench3d.models.bev.stack import BevStack
from bench3d.results.record import ScoreSpec
from bench3d.tasks.base import DownstreamModel, Task
from bench3d.tasks.bev_inputs import (BevTaskArgs, SensorInputs, backbone_inputs, bev_stack, load_sensor_inputs,
                                      stack_inputs)
from bench3d.tasks.det3d.results import to_results
from bench3d.tasks.det3d.targets import REGRESSION, CenterTargets, decode, encode
from bench3d.tasks.prediction import FramePrediction
from bench3d.tasks.registry import register_task

CLASSES: tuple[str, ...] = tuple(DETECTION_NAMES)


class Det3dArgs(BevTaskArgs):
    """The shared BEV stack's arguments, plus the CenterPoint head's."""

    regression_weight: float = Field(0.25, ge=0)
    min_radius: int = Field(2, ge=0)
    top_k: int = Field(500, gt=0, le=500)
    score_threshold: float = Field(0.1, ge=0, lt=1)


@dataclass
class DetSample:
    inputs: SensorInputs
    targets: CenterTargets


class CenterHead(nn.Module):
    """The shared BEV stack, then a heatmap branch (bias -2.19: prior 0.1) and a regression branch."""

    def __init__(self, stack: BevStack, num_classes: int) -> None:
        super().__init__()
        self.stack = stack
        c = stack.out_channels

        def branch(out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True),
                                 nn.Conv2d(c, out, 1))

        self.heatmap, self.regression = branch(num_classes), branch(REGRESSION)
        nn.init.constant_(self.heatmap[-1].bias, -2.19)

    def forward(self, inputs: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor]:
        bev = self.stack(inputs)
        return self.heatmap(bev), self.regression(bev)


def gaussian_focal_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CenterNet's focal loss on Gaussian heatmaps, normalised by the number of centres."""
    pred = torch.sigmoid(logits).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    pos_loss = (torch.log(pred) * (1 - pred) ** 2 * pos).sum()
    neg_loss = (torch.log(1 - pred) * pred ** 2 * (1 - target) ** 4 * (1 - pos)).sum()
    return -(pos_loss + neg_loss) / pos.sum().clamp_min(1)


@register_task
class Det3d(Task[DetSample, dict[str, Any]]):
    """nuScenes 3D detection, 10 classes, scored by the devkit's DetectionEval (NDS main)."""

    name = "det3d"
    consumes = frozenset({"camera", "lidar"})
    Args = Det3dArgs
    score = ScoreSpec(name="nds", label="NDS (%)", higher_is_better=True, percent=True)
    reference_table = None
    augments = False
    evaluates_whole_split = True  # DetectionEval requires results for every sample of the split
    args: Det3dArgs

    @property
    def grid(self) -> BevGrid:
        return self.args.grid()

    def targets_of(self, frame: Any) -> CenterTargets:
        boxes = boxes_in_lidar(frame)
        names = [category_to_detection_name(c) for c in boxes.category]
        keep = [i for i, n in enumerate(names) if n is not None]
        labels = np.array([CLASSES.index(names[i]) for i in keep], dtype=np.int64)
        return encode(self.grid, labels, boxes.center[keep], boxes.size[keep], boxes.yaw[keep],
                      boxes.velocity[keep], len(CLASSES), self.args.min_radius)

    def load(self, reader: Reader, dataset: DatasetSpec, tokens: Sequence[str], train: bool,
             seed: int) -> Sequence[DetSample]:
        tokens = list(tokens)

        def load_one(i: int) -> DetSample:
            inputs, frame = load_sensor_inputs(reader, tokens[i], tuple(self.args.image_size), self.args.max_points,
                                               seed, boxes=True)
            return DetSample(inputs, self.targets_of(frame))

        return LazySamples(len(tokens), load_one)

    def build_model(self, backbone: Backbone, dataset: DatasetSpec) -> DownstreamModel:
        return DownstreamModel(backbone, CenterHead(bev_stack(backbone, self.args), len(CLASSES)))

    def head_inputs(self, model: DownstreamModel, samples: Sequence[DetSample], device: torch.device,
                    rng: np.random.Generator | None) -> list[dict[str, Any]]:
        if rng is not None:
            raise ConfigError("task det3d has no augmentation yet; set `augment: false` in the protocol preset")
        inputs = backbone_inputs(model.backbone, self.args, [s.inputs for s in samples], device)
        return [{**x, "heatmap": s.targets.heatmap.to(device), "regression": s.targets.regression.to(device),
                 "mask": s.targets.mask.to(device)} for x, s in zip(inputs, samples)]

    def loss(self, model: DownstreamModel, inputs: Sequence[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = stack_inputs(inputs)
        heat, reg = model.head(batch)
        mask = batch["mask"].unsqueeze(1).expand_as(reg)
        l1 = F.l1_loss(reg[mask], batch["regression"][mask]) if mask.any() else reg.sum() * 0
        return {"heatmap": gaussian_focal_loss(heat, batch["heatmap"]), "regression": self.args.regression_weight * l1}

    @torch.no_grad()
    def detect(self, model: DownstreamModel, sample: DetSample, device: torch.device) -> list:
        """The sample's results boxes (global frame)."""
        batch = stack_inputs(self.head_inputs(model, [sample], device, None))
        heat, reg = model.head(batch)
        det = decode(self.grid, torch.sigmoid(heat[0]), reg[0], self.args.top_k, self.args.score_threshold)
        return to_results(det, sample.inputs.token, sample.inputs.lidar_to_global, CLASSES)

    def predict(self, model: DownstreamModel, sample: DetSample, device: torch.device) -> FramePrediction:
        """The decoded boxes above the score threshold, global frame."""
        model.eval()
        found = self.detect(model, sample, device)
        boxes = [Box3D(token="", instance_token="", category=b.detection_name, center=np.array(b.translation),
                       size=np.array(b.size), rotation=np.array(b.rotation), velocity=np.array([*b.velocity, 0.0]),
                       attribute=b.attribute_name, num_lidar_pts=0) for b in found]
        return FramePrediction(sample.inputs.token, boxes=boxes, scores=[b.detection_score for b in found],
                               caption=f"score > {self.args.score_threshold:g}")

    def evaluate(self, model: DownstreamModel, samples: Sequence[DetSample], device: torch.device,
                 dataset: DatasetSpec) -> dict[str, Any]:
        model.eval()
        boxes, tokens = [], []
        with torch.no_grad():
            for sample in samples:
                boxes += self.detect(model, sample, device)
                tokens.append(sample.inputs.token)
        return score_results(boxes, tokens, dataset)


def eval_set_of(tokens: Sequence[str], dataset: DatasetSpec) -> str:
    """The split whose scenes hold `tokens` (DetectionEval scores a whole split)."""
    reader = dataset.open_reader()
    scenes = {reader.tables.scene[reader.tables.get("sample", t)["scene_token"]]["name"] for t in tokens}
    for split in (dataset.val_split, dataset.train_split):
        if scenes <= set(split_scene_names(dataset.dataroot, dataset.version, split)):
            return split
    raise ConfigError(f"detection samples span scenes of no single split ({sorted(scenes)[:3]}, ...)")


def score_results(boxes: list, tokens: Sequence[str], dataset: DatasetSpec) -> dict[str, Any]:
    """Write the results JSON and score it with the devkit; NDS and mAP in [0, 1] plus the TP errors."""
    with tempfile.TemporaryDirectory(prefix="bench3d-det3d-") as tmp:
        path = write_detection_results(boxes, Path(tmp) / "results.json", tokens)
        scores = evaluate_detection_results(dataset.dataroot, dataset.version, eval_set_of(tokens, dataset), path,
                                            Path(tmp) / "eval")
    out = scores.to_dict()
    return {"nds": out["nd_score"], "map": out["mean_ap"], "tp_errors": out["tp_errors"],
            "class_aps": out["class_aps"], "evaluator": out["evaluator"], "eval_frames": len(tokens),
            "boxes": len(boxes)}
