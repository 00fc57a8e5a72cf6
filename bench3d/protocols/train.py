"""The downstream training every protocol shares, over any task.

What trains is the card's: `freeze: all_but_head` trains the head only, `bn_eval` keeps the backbone's
BatchNorm statistics those of pretraining. When the backbone is frozen, in eval mode and nothing is
augmented, its outputs are the same every epoch, so the task's head inputs are computed once and cached.
The last epoch's weights are the result (`checkpoint_rule: last_epoch`; never best-on-val).
Samples stream through a DataLoader (the train sequence may load each on access); under DDP or
`--grad-accum` every step's batch is split into micro-batches (`engine.distributed`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

import numpy as np

from bench3d.engine.distributed import Parallel
from bench3d.engine.loader import KeyedDataset, LazySamples, epoch_loader
from bench3d.engine.seeding import epoch_rng, seed_everything, step_seed
from bench3d.engine.trainer import Trainer, TrainState, build_optimizer, build_scheduler, save_atomic
from bench3d.models.sync_bn import convert_sync_batchnorm
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
                     on_epoch_end: Callable[[int, dict[str, float]], None] | None = None,
                     parallel: Parallel | None = None, workers: int = 0) -> TrainState:
    """Train per the card and schedule; returns the training state (loss history, segments, wall time).
    Resumes from `state_path`. `train[i]` may load sample i when asked (read by `workers` processes)."""
    if protocol.card.checkpoint_rule != "last_epoch":  # the schema allows only this; keep the two in step
        raise NotImplementedError(protocol.card.checkpoint_rule)
    seed_everything(seed)
    par = parallel or Parallel()
    card, schedule, task = protocol.card, protocol.schedule, protocol.task
    if par.sync_bn and card.freeze != "all_but_head":  # a frozen backbone's statistics are not trained
        convert_sync_batchnorm(model.backbone)
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

    cached: Sequence[Any] = []
    if features_are_fixed(protocol):
        cached = _fixed_head_inputs(task, model, train, device, state_path)

    def step(micro: tuple[np.random.Generator | None, list[Any]]) -> dict[str, torch.Tensor]:
        rng, samples = micro
        inputs = [to_device(x, device) for x in samples] if cached else task.head_inputs(model, samples, device, rng)
        return task.loss(model, inputs)

    def rng_of(epoch: int, step_no: int, micro: int) -> np.random.Generator | None:
        return np.random.default_rng(step_seed(seed, epoch, step_no, micro)) if schedule.augment else None

    dataset = KeyedDataset(range(len(train)), cached.__getitem__ if cached else train.__getitem__)

    def steps(epoch: int):
        plan = [par.mine(b) for b in _batches(len(train), schedule.batch_size, seed, epoch)]
        flat = [idx for mine in plan for _, idx in mine]
        loaded = iter(epoch_loader(dataset, lambda e: flat, epoch, workers, device))
        for step_no, mine in enumerate(plan):
            yield [(rng_of(epoch, step_no, micro), next(loaded)) for micro, _ in mine]

    trainable = model.head if frozen else model
    trainer = Trainer(trainable, optimizer, scheduler, schedule.epochs, state_path, train_mode=train_mode,
                      parallel=par)
    return trainer.fit(steps, step, on_epoch_end)


def to_device(obj: Any, device: torch.device) -> Any:
    """Tensors inside tuples, lists and dicts moved to `device`."""
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=True)
    if isinstance(obj, tuple | list):
        return type(obj)(to_device(x, device) for x in obj)
    if isinstance(obj, dict):
        return {k: to_device(v, device) for k, v in obj.items()}
    return obj


def _fixed_head_inputs(task: Any, model: DownstreamModel, train: Sequence[Any], device: torch.device,
                       state_path: Path | None) -> Sequence[Any]:
    """The frozen backbone's head inputs of every training sample, computed once. Beside the run's state
    (`<work>/head_inputs/<i>.pt`, kept across a kill) they stream from disk, so memory stays flat in the
    split's size; without a state path they are kept in memory."""
    model.backbone.eval()

    def compute(i: int) -> Any:
        with torch.no_grad():
            return to_device(task.head_inputs(model, [train[i]], device, None)[0], torch.device("cpu"))

    if state_path is None:
        return [compute(i) for i in range(len(train))]
    folder = state_path.parent / "head_inputs"
    for i in range(len(train)):
        path = folder / f"{i}.pt"
        if not path.is_file():
            save_atomic(compute(i), path)
    return LazySamples(len(train), lambda i: torch.load(folder / f"{i}.pt", map_location="cpu", weights_only=False))
