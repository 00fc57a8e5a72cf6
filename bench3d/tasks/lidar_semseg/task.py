"""LiDAR semantic segmentation: a linear head on the backbone's per-point features.

Predictions are made per voxel and copied back to every point by the backbone; the ignore class is never
predicted (its logit is masked, as SLidR does); the confusion matrix is accumulated over the whole
evaluation split and reduced with the dataset's own convention (metrics/reducers.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import nn

from bench3d.data.reader import Reader
from bench3d.datasets import DatasetSpec
from bench3d.labels.nuscenes import IGNORE_INDEX
from bench3d.metrics import REDUCERS, ConfusionMatrix
from bench3d.models.backbone import Backbone
from bench3d.models.losses import segmentation_loss
from bench3d.results.record import ScoreSpec
from bench3d.tasks.base import DownstreamModel, Task, TaskArgs
from bench3d.tasks.lidar_semseg.data import LabelledCloud, augment, load_labelled
from bench3d.tasks.registry import register_task

HeadInput = tuple[torch.Tensor, torch.Tensor]  # (features of the supervised points, their labels)


class LidarSemsegArgs(TaskArgs):
    head: Literal["linear"] = "linear"  # a 1x1 linear layer per point (SLidR's protocol)
    ce_weight: float = Field(1.0, ge=0)
    lovasz_weight: float = Field(1.0, ge=0)
    # Backbone input subsample per training frame (CPU presets of trained backbones); None: whole cloud.
    max_points: int | None = Field(None, gt=0)
    # Points per training frame whose labels train the head; the backbone still sees the whole input.
    supervised_points: int | None = Field(None, gt=0)


@register_task
class LidarSemseg(Task[LabelledCloud, HeadInput]):
    """Per-point semantic segmentation on the dataset's evaluation classes (+ ignore; nuScenes-lidarseg: 16,
    SemanticKITTI: 19), mIoU with the dataset's convention."""

    name = "lidar_semseg"
    consumes = frozenset({"lidar"})
    Args = LidarSemsegArgs
    score = ScoreSpec(name="miou", label="mIoU (%)", higher_is_better=True, percent=True)
    reference_table = "published_lidarseg.csv"
    args: LidarSemsegArgs

    def load(self, reader: Reader, dataset: DatasetSpec, tokens: Sequence[str], train: bool,
             seed: int) -> Sequence[LabelledCloud]:
        space = dataset.label_space
        if not train:
            return load_labelled(reader, tokens, space)
        return load_labelled(reader, tokens, space, self.args.max_points, self.args.supervised_points, seed)

    def build_model(self, backbone: Backbone, dataset: DatasetSpec) -> DownstreamModel:
        return DownstreamModel(backbone, nn.Linear(backbone.out_channels, dataset.label_space.num_classes + 1))

    def head_inputs(self, model: DownstreamModel, samples: Sequence[LabelledCloud], device: torch.device,
                    rng: np.random.Generator | None) -> list[HeadInput]:
        clouds = [augment(s.points, rng) if rng is not None else s.points for s in samples]
        feats = model.backbone([c.to(device) for c in clouds])
        out = []
        for s, f in zip(samples, feats):
            if s.supervised is None:
                out.append((f, s.labels.to(device)))
            else:
                out.append((f[s.supervised.to(device)], s.labels[s.supervised].to(device)))
        return out

    def loss(self, model: DownstreamModel, inputs: Sequence[HeadInput]) -> dict[str, torch.Tensor]:
        logits = model.head(torch.cat([f for f, _ in inputs]))
        labels = torch.cat([y for _, y in inputs])
        return {"segmentation": segmentation_loss(logits, labels, IGNORE_INDEX, self.args.ce_weight,
                                                  self.args.lovasz_weight)}

    @torch.no_grad()
    def evaluate(self, model: DownstreamModel, samples: Sequence[LabelledCloud], device: torch.device,
                 dataset: DatasetSpec) -> dict[str, Any]:
        model.eval()
        cm = ConfusionMatrix(model.head.out_features)
        for cloud in samples:
            logits = model.head(model.backbone([cloud.points.to(device)])[0])
            logits[:, IGNORE_INDEX] = -torch.inf
            cm.update(cloud.labels.cpu(), logits.argmax(dim=1).cpu())
        return {**REDUCERS[dataset.reducer](cm).to_dict(), "confusion_matrix": cm.to_list()}
