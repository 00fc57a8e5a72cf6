"""Example task (docs/architecture.md, "Add a task"): predict each frame's LiDAR point count from the
mean-pooled backbone features; scored by the L1 error in thousands of points, lower is better."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from pydantic import Field
from torch import nn

from bench3d.datasets import DatasetSpec
from bench3d.models.backbone import Backbone
from bench3d.results import ScoreSpec
from bench3d.tasks import DownstreamModel, Task, TaskArgs, register_task

Sample = tuple[torch.Tensor, torch.Tensor]  # (points (N, 4), target (1,))


class PointCountArgs(TaskArgs):
    per: float = Field(1000.0, gt=0)  # the target is the count divided by this


@register_task
class PointCount(Task[Sample, Sample]):
    """Per-frame point-count regression (a toy; it exists to show the task contract)."""

    name = "toy_point_count"
    consumes = frozenset({"lidar"})
    Args = PointCountArgs
    score = ScoreSpec(name="l1", label="L1 (k points)", higher_is_better=False)
    args: PointCountArgs

    def load(self, reader: Any, dataset: DatasetSpec, tokens: Sequence[str], train: bool, seed: int) -> list[Sample]:
        out = []
        for token in tokens:
            points = reader.frame(token, cameras=None, boxes=False).points[:, :4]
            out.append((torch.from_numpy(np.ascontiguousarray(points)),
                        torch.tensor([len(points) / self.args.per], dtype=torch.float32)))
        return out

    def build_model(self, backbone: Backbone, dataset: DatasetSpec) -> DownstreamModel:
        return DownstreamModel(backbone, nn.Linear(backbone.out_channels, 1))

    def head_inputs(self, model: DownstreamModel, samples: Sequence[Sample], device: torch.device,
                    rng: np.random.Generator | None) -> list[Sample]:
        feats = model.backbone([points.to(device) for points, _ in samples])
        return [(f.mean(dim=0, keepdim=True), target.to(device)) for f, (_, target) in zip(feats, samples)]

    def loss(self, model: DownstreamModel, inputs: Sequence[Sample]) -> dict[str, torch.Tensor]:
        pred = model.head(torch.cat([f for f, _ in inputs]))[:, 0]
        return {"l1": (pred - torch.cat([t for _, t in inputs])).abs().mean()}

    @torch.no_grad()
    def evaluate(self, model: DownstreamModel, samples: Sequence[Sample], device: torch.device,
                 dataset: DatasetSpec) -> dict[str, Any]:
        model.eval()
        errors = [float(self.loss(model, self.head_inputs(model, [s], device, None))["l1"]) for s in samples]
        return {"l1": float(np.mean(errors)), "frames": len(errors)}
