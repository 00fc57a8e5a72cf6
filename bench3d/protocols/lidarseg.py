"""LiDAR semantic segmentation protocols: linear probe and (low-label / full) finetuning.

The protocol receives a backbone and labelled clouds; it never sees which method made the backbone.
Predictions are made per voxel and copied back to every point by the encoder; the ignore class is never
predicted (its logit is masked, as SLidR does); the confusion matrix is accumulated over the whole
evaluation split and reduced with the dataset's own convention. The last epoch's weights are evaluated.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench3d.cards.schema import ProtocolCard, Schedule
from bench3d.harness.seeding import epoch_rng, seed_everything
from bench3d.harness.trainer import Trainer, build_optimizer, build_scheduler
from bench3d.metrics import REDUCERS, ConfusionMatrix
from bench3d.models.encoder import LidarEncoder
from bench3d.models.losses import segmentation_loss
from bench3d.protocols.lidarseg_data import LabelledCloud, augment

log = logging.getLogger(__name__)


class SegmentationModel(nn.Module):
    def __init__(self, encoder: LidarEncoder, num_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.out_dim, num_classes)

    def forward(self, clouds: list[torch.Tensor]) -> list[torch.Tensor]:
        return [self.head(f) for f in self.encoder(clouds)]


def _param_groups(model: SegmentationModel, card: ProtocolCard, schedule: Schedule) -> list[dict[str, Any]]:
    head = {"params": list(model.head.parameters()), "lr": schedule.head_lr or schedule.lr}
    if card.freeze == "all_but_head":
        return [head]
    return [{"params": list(model.encoder.parameters()), "lr": schedule.lr}, head]


def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    order = epoch_rng(seed, epoch).permutation(n).tolist()
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def train_segmentation(model: SegmentationModel, card: ProtocolCard, schedule: Schedule,
                       train: list[LabelledCloud], seed: int, device: torch.device, state_path: Path | None,
                       ignore_index: int = 0,
                       on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> list[dict[str, float]]:
    """Train per the card and schedule; returns the per-epoch loss history."""
    seed_everything(seed)
    frozen = card.freeze == "all_but_head"
    if frozen:
        model.encoder.requires_grad_(False)
    groups = _param_groups(model, card, schedule)
    optimizer = build_optimizer(groups, schedule.optimizer, schedule.lr, schedule.momentum, schedule.dampening,
                                schedule.weight_decay)
    scheduler = build_scheduler(optimizer, schedule.schedule, schedule.epochs)

    def train_mode() -> None:
        model.train()
        if card.bn_eval:  # frozen BN statistics: the probe sees exactly the pretrained features
            model.encoder.eval()

    cached: dict[int, torch.Tensor] = {}
    if frozen and card.bn_eval and not schedule.augment:
        # Frozen encoder in eval mode without augmentation: features are the same every epoch.
        model.encoder.eval()
        with torch.no_grad():
            for i, cloud in enumerate(train):
                cached[i] = model.encoder([cloud.points.to(device)])[0]

    def step(batch: tuple[int, list[int]]) -> dict[str, torch.Tensor]:
        epoch, idx = batch
        if cached:
            logits = [model.head(cached[i]) for i in idx]
        else:
            rng = epoch_rng(seed, epoch, "augment")
            clouds = [augment(train[i].points, rng) if schedule.augment else train[i].points for i in idx]
            logits = model([c.to(device) for c in clouds])
        loss = segmentation_loss(torch.cat(logits), torch.cat([train[i].labels for i in idx]).to(device),
                                 ignore_index, card.ce_weight, card.lovasz_weight)
        return {"segmentation": loss}

    trainable = model.head if frozen else model
    trainer = Trainer(trainable, optimizer, scheduler, schedule.epochs, state_path, train_mode=train_mode)
    state = trainer.fit(lambda e: ((e, b) for b in _batches(len(train), schedule.batch_size, seed, e)), step,
                        on_epoch_end)
    return state.history


@torch.no_grad()
def evaluate_segmentation(model: SegmentationModel, clouds: list[LabelledCloud], device: torch.device,
                          reducer: str = "nuscenes", ignore_index: int = 0) -> tuple[dict[str, Any], ConfusionMatrix]:
    """Confusion matrix over all points of `clouds`, reduced with the named convention."""
    model.eval()
    num_classes = model.head.out_features
    cm = ConfusionMatrix(num_classes)
    for cloud in clouds:
        logits = model([cloud.points.to(device)])[0]
        logits[:, ignore_index] = -torch.inf
        cm.update(cloud.labels.cpu(), logits.argmax(dim=1).cpu())
    scores = REDUCERS[reducer](cm)
    return scores.to_dict(), cm
