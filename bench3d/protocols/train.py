"""The downstream training every protocol shares, over any task.

What trains is the card's: `freeze: all_but_head` trains the head only, `bn_eval` keeps the backbone's
BatchNorm statistics those of pretraining. When the backbone is frozen, in eval mode and nothing is
augmented, its outputs are the same every epoch, so the task's head inputs are computed once and cached.
The last epoch's weights are the result (`checkpoint_rule: last_epoch`; never best-on-val).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from bench3d.engine.seeding import epoch_rng, seed_everything
from bench3d.engine.trainer import Trainer, TrainState, build_optimizer, build_scheduler
from bench3d.protocols.resolve import ResolvedProtocol
from bench3d.tasks import DownstreamModel


def _batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    order = epoch_rng(seed, epoch).permutation(n).tolist()
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def features_are_fixed(protocol: ResolvedProtocol) -> bool:
    """Frozen backbone in eval mode, no augmentation: its outputs can be computed once."""
    return protocol.card.freeze == "all_but_head" and protocol.card.bn_eval and not protocol.schedule.augment


def train_downstream(protocol: ResolvedProtocol, model: DownstreamModel, train: Sequence[Any], seed: int,
                     device: torch.device, state_path: Path | None,
                     on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> TrainState:
    """Train per the card and schedule; returns the training state (loss history, segments, wall time).
    Resumes from `state_path`."""
    if protocol.card.checkpoint_rule != "last_epoch":  # the schema allows only this; keep the two in step
        raise NotImplementedError(protocol.card.checkpoint_rule)
    seed_everything(seed)
    card, schedule, task = protocol.card, protocol.schedule, protocol.task
    frozen = card.freeze == "all_but_head"
    if frozen:
        model.backbone.requires_grad_(False)
    head = {"params": list(model.head.parameters()), "lr": schedule.head_lr or schedule.lr}
    groups = [head] if frozen else [{"params": list(model.backbone.parameters()), "lr": schedule.lr}, head]
    optimizer = build_optimizer(groups, schedule.optimizer, schedule.lr, schedule.momentum, schedule.dampening,
                                schedule.weight_decay)
    scheduler = build_scheduler(optimizer, schedule.schedule, schedule.epochs)

    def train_mode() -> None:
        model.train()
        if card.bn_eval:  # frozen BN statistics: the probe sees exactly the pretrained features
            model.backbone.eval()

    cached: list[Any] = []
    if features_are_fixed(protocol):
        model.backbone.eval()
        with torch.no_grad():
            cached = [task.head_inputs(model, [sample], device, None)[0] for sample in train]

    def step(batch: tuple[int, list[int]]) -> dict[str, torch.Tensor]:
        epoch, idx = batch
        if cached:
            inputs = [cached[i] for i in idx]
        else:
            rng = epoch_rng(seed, epoch, "augment") if schedule.augment else None
            inputs = task.head_inputs(model, [train[i] for i in idx], device, rng)
        return task.loss(model, inputs)

    trainable = model.head if frozen else model
    trainer = Trainer(trainable, optimizer, scheduler, schedule.epochs, state_path, train_mode=train_mode)
    return trainer.fit(lambda e: ((e, b) for b in _batches(len(train), schedule.batch_size, seed, e)), step,
                       on_epoch_end)
