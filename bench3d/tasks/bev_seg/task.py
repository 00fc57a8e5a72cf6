"""BEV map segmentation (BEVFusion's protocol): six map classes on a 100 m x 100 m grid around the LiDAR at
0.5 m, per-class sigmoid focal loss, scored by IoU at thresholds 0.35-0.65, best per class, mean over
classes. Camera backbones reach the BEV through LSS; LiDAR backbones through their point features pooled
into the grid. A probe cannot be linear here: image features carry no 3D position until a view transform
lifts them, so the probe freezes the backbone and trains the neck, view transform, BEV encoder and head.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from bench3d.data.nuscenes.bev_map import BEV_CLASSES
from bench3d.data.reader import Reader
from bench3d.datasets import DatasetSpec
from bench3d.errors import ConfigError
from bench3d.metrics.bev import MapSegmentationIoU
from bench3d.models.backbone import Backbone
from bench3d.models.bev.grid import BevGrid
from bench3d.results.record import ScoreSpec
from bench3d.tasks.base import DownstreamModel, Task
from bench3d.tasks.bev_inputs import BevTaskArgs, backbone_inputs, bev_stack, stack_inputs
from bench3d.tasks.bev_seg.data import BevSample, load_samples
from bench3d.tasks.bev_seg.head import BevHead, sigmoid_focal_loss
from bench3d.tasks.prediction import FramePrediction
from bench3d.tasks.registry import register_task

HeadInput = dict[str, Any]


class BevSegArgs(BevTaskArgs):
    """The shared BEV stack's arguments; the map classes and grid are BEVFusion's."""


@register_task
class BevSeg(Task[BevSample, HeadInput]):
    """Six-class BEV map segmentation (drivable area, ped crossing, walkway, stop line, carpark, divider)."""

    name = "bev_seg"
    consumes = frozenset({"camera", "lidar"})
    Args = BevSegArgs
    score = ScoreSpec(name="miou", label="BEV map mIoU (%)", higher_is_better=True, percent=True)
    reference_table = None
    augments = False  # rotating the BEV means rotating extrinsics and targets together: not yet
    args: BevSegArgs

    @property
    def grid(self) -> BevGrid:
        return self.args.grid()

    def load(self, reader: Reader, dataset: DatasetSpec, tokens: Sequence[str], train: bool,
             seed: int) -> Sequence[BevSample]:
        return load_samples(reader, tokens, tuple(self.args.image_size), self.args.max_points, seed)

    def build_model(self, backbone: Backbone, dataset: DatasetSpec) -> DownstreamModel:
        return DownstreamModel(backbone, BevHead(bev_stack(backbone, self.args), len(BEV_CLASSES)))

    def head_inputs(self, model: DownstreamModel, samples: Sequence[BevSample], device: torch.device,
                    rng: np.random.Generator | None) -> list[HeadInput]:
        if rng is not None:
            raise ConfigError("task bev_seg has no augmentation yet; set `augment: false` in the protocol preset")
        inputs = backbone_inputs(model.backbone, self.args, [s.inputs for s in samples], device)
        return [{**x, "target": s.target.to(device)} for x, s in zip(inputs, samples)]

    def loss(self, model: DownstreamModel, inputs: Sequence[HeadInput]) -> dict[str, torch.Tensor]:
        batch = stack_inputs(inputs)
        return {"focal": sigmoid_focal_loss(model.head(batch), batch["target"])}

    def predict(self, model: DownstreamModel, sample: BevSample, device: torch.device,
                threshold: float = 0.5) -> FramePrediction:
        """Map masks where the class probability exceeds `threshold`, on the map-mask grid."""
        model.eval()
        with torch.no_grad():
            probs = torch.sigmoid(model.head(stack_inputs(self.head_inputs(model, [sample], device, None))))[0]
        return FramePrediction(sample.inputs.token, bev_masks=(probs > threshold).cpu().numpy(),
                               bev_classes=BEV_CLASSES, caption=f"p > {threshold:g}")

    def evaluate(self, model: DownstreamModel, samples: Sequence[BevSample], device: torch.device,
                 dataset: DatasetSpec) -> dict[str, Any]:
        model.eval()
        metric = MapSegmentationIoU(BEV_CLASSES)
        with torch.no_grad():
            for sample in samples:
                batch = stack_inputs(self.head_inputs(model, [sample], device, None))
                metric.update(torch.sigmoid(model.head(batch))[0], batch["target"][0])
        scores = metric.result()
        return {"miou": scores.mean_iou_at_max, "iou_at_max": scores.iou_at_max,
                "iou": {k: list(v) for k, v in scores.iou.items()}, "eval_frames": len(samples)}
