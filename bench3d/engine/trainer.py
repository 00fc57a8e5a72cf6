"""One training loop for every method and protocol: epochs of steps, checkpoint per epoch, resume.

The caller supplies the modules, the optimiser, the steps of each epoch — each the list of micro-batches this
process runs (one, unless the step is split for DDP or gradient accumulation: `engine.distributed`) — and a
step function that returns the named losses of one micro-batch. After every epoch the full state (model, optimiser, scheduler, torch RNG, epoch)
is written atomically; a run killed at any point restarts from the last finished epoch and, because
batch order and augmentation come from (seed, epoch), ends with the same weights.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from bench3d.engine.distributed import Parallel
from bench3d.engine.numerics import autocast, grad_scaler
from bench3d.paths import temp_name

log = logging.getLogger(__name__)

StepFn = Callable[[Any], dict[str, torch.Tensor]]


@dataclass
class TrainState:
    epoch: int = 0  # epochs finished
    history: list[dict[str, float]] = field(default_factory=list)
    # The epoch each process segment started at: [0] uninterrupted; [0, 3] killed after 3 finished epochs.
    # Non-decreasing unless finished epochs were lost and retrained.
    segments: list[int] = field(default_factory=list)
    wall_s: float = 0.0  # wall time of all segments up to the last checkpoint (this one's, once fit returns)
    earlier_wall_s: float = 0.0  # wall time of the earlier segments, as loaded on resume

    @property
    def resumes(self) -> int:
        return max(len(self.segments) - 1, 0)


def save_atomic(obj: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        torch.save(obj, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler | None,
        epochs: int,
        state_path: Path | None,
        train_mode: Callable[[], None] | None = None,
        parallel: Parallel | None = None,
        clip_grad_norm: float | None = None,
    ) -> None:
        self.parallel = parallel or Parallel()
        self.clip_grad_norm = clip_grad_norm  # max global gradient norm (None: no clipping)
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.epochs = epochs
        self.state_path = state_path
        self.train_mode = train_mode or (lambda: model.train())
        self.state = TrainState()
        self._segment_start = time.perf_counter()
        params = list(model.parameters())
        self.device = params[0].device if params else torch.device("cpu")
        self.scaler = grad_scaler(self.device)

    def _resume(self) -> None:
        if self.state_path is None or not self.state_path.is_file():
            return
        ckpt = torch.load(self.state_path, map_location="cpu", weights_only=False)
        self.model.load_state_dict(ckpt["model"], strict=True)
        self.optimizer.load_state_dict(ckpt["optimizer"])
        if self.scheduler is not None:
            self.scheduler.load_state_dict(ckpt["scheduler"])
        if self.scaler is not None and ckpt.get("scaler"):
            self.scaler.load_state_dict(ckpt["scaler"])
        torch.set_rng_state(ckpt["torch_rng"])
        wall = float(ckpt.get("wall_s", 0.0))
        self.state = TrainState(epoch=ckpt["epoch"], history=ckpt["history"], segments=list(ckpt.get("segments", [])),
                                wall_s=wall, earlier_wall_s=wall)
        log.info("resumed from %s after epoch %d", self.state_path, self.state.epoch)

    def _checkpoint(self) -> None:
        if self.state_path is None:
            return
        if not self.parallel.is_main:  # rank 0 writes; the others wait until the file is whole
            self.parallel.barrier()
            return
        save_atomic({
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "torch_rng": torch.get_rng_state(),
            "epoch": self.state.epoch,
            "history": self.state.history,
            "segments": self.state.segments,
            "wall_s": self.state.wall_s,
        }, self.state_path)
        self.parallel.barrier()

    def fit(self, steps_of_epoch: Callable[[int], Iterable[list[Any]]], step: StepFn,
            on_epoch_end: Callable[[int, dict[str, float]], None] | None = None) -> TrainState:
        """Train to `epochs`. `steps_of_epoch(epoch)` yields, per optimiser step, this process's micro-batches;
        the gradients of a step are the mean over all micro-batches of all ranks."""
        self._resume()
        self._segment_start = time.perf_counter()
        self.state.segments.append(self.state.epoch)
        stepper = self.parallel.step_module(self.model, step, self.device)
        while self.state.epoch < self.epochs:
            epoch = self.state.epoch
            self.train_mode()
            sums: dict[str, float] = {}
            steps = 0
            for micros in steps_of_epoch(epoch):
                self.optimizer.zero_grad(set_to_none=True)
                for k, micro in enumerate(micros):
                    last = k == len(micros) - 1
                    with self.parallel.no_sync(stepper, last):  # forward and backward of the micro-batch
                        with autocast(self.device):
                            losses = stepper(micro)
                        total = sum(losses.values()) / len(micros)  # DDP averages over ranks, this over micros
                        (total if self.scaler is None else self.scaler.scale(total)).backward()
                    for name, value in losses.items():
                        sums[name] = sums.get(name, 0.0) + float(value.detach()) / len(micros)
                if self.clip_grad_norm is not None:
                    if self.scaler is not None:  # clip true gradients, not scaled ones
                        self.scaler.unscale_(self.optimizer)
                    torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip_grad_norm)
                if self.scaler is None:
                    self.optimizer.step()
                else:  # fp16: unscaled step, skipped when gradients overflow
                    self.scaler.step(self.optimizer)
                    self.scaler.update()
                steps += 1
                if self.scheduler is not None and getattr(self.scheduler, "per_step", False):
                    self.scheduler.step()
            if self.scheduler is not None and not getattr(self.scheduler, "per_step", False):
                self.scheduler.step()
            means = self.parallel.mean({k: v / max(steps, 1) for k, v in sums.items()}, self.device)
            self.state.epoch += 1
            self.state.history.append(means)
            self.state.wall_s = self.state.earlier_wall_s + time.perf_counter() - self._segment_start
            self._checkpoint()
            if on_epoch_end is not None:
                on_epoch_end(epoch, means)
            log.debug("epoch %d/%d %s", epoch + 1, self.epochs, means)
        self.state.wall_s = self.state.earlier_wall_s + time.perf_counter() - self._segment_start
        return self.state


def build_optimizer(param_groups: list[dict[str, Any]], name: str, lr: float, momentum: float = 0.9,
                    dampening: float = 0.0, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    if name == "sgd":
        return torch.optim.SGD(param_groups, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(param_groups, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; known: sgd, adamw")


#: OneCycle as SuperFlow's pretraining runs it (mmengine OneCycleLR, configs/_base_/schedules/pretrain.py): the
#: lr alone cycles (AdamW's betas stay), from peak / 25 up to the peak, then down to peak / (25 * 100).
ONECYCLE = {"div_factor": 25.0, "final_div_factor": 100.0, "cycle_momentum": False}


def _cosine(floor: float, t: float) -> float:
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def build_scheduler(optimizer: torch.optim.Optimizer, name: str, epochs: int, total_steps: int = 0,
                    warmup_steps: int = 0, warmup_ratio: float = 0.0, warmup_fraction: float = 0.2,
                    min_lr_ratio: float = 0.0) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule; every parameter group follows it relative to its own lr (its peak), and
    ends at `min_lr_ratio` of that peak (mmcv's `min_lr_ratio`).

    Per epoch: `cosine` and `constant` (None). Per optimiser step (the scheduler's `per_step` attribute is True;
    needs `total_steps`, the optimiser steps of the whole run): `cosine` with `warmup_steps` > 0 — a linear
    warm-up from `warmup_ratio` of the peak (mmcv's `warmup_ratio`; 0 as ScaLR's WarmupCosine) to the peak,
    then cosine — and `onecycle` (`ONECYCLE`, peak after `warmup_fraction` of the steps)."""
    if name == "onecycle" or (name == "cosine" and warmup_steps > 0):
        if total_steps <= 0:
            raise ValueError(f"schedule {name!r} with warm-up is stepped per optimiser step: give total_steps")
    if name == "onecycle":
        peaks = [g["lr"] for g in optimizer.param_groups]
        sched: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=peaks, total_steps=total_steps, pct_start=warmup_fraction, **ONECYCLE)
        sched.per_step = True  # type: ignore[attr-defined]
        return sched
    if name == "cosine" and warmup_steps > 0:
        warm = min(warmup_steps, total_steps)

        def at(step: int) -> float:
            if step < warm:
                return warmup_ratio + (1 - warmup_ratio) * step / warm
            return _cosine(min_lr_ratio, (step - warm) / max(total_steps - warm, 1))

        sched = torch.optim.lr_scheduler.LambdaLR(optimizer, at)
        sched.per_step = True  # type: ignore[attr-defined]
        return sched
    if name == "cosine" and min_lr_ratio > 0:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: _cosine(min_lr_ratio, epoch / epochs))
    if name == "cosine":  # to 0; torch's own form, so runs recorded before `min_lr` keep their numbers
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "constant":
        return None
    raise ValueError(f"unknown schedule {name!r}; known: cosine, constant, onecycle")
