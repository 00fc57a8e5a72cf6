"""Data parallelism: `torchrun --nproc_per_node N` (DDP) and `--grad-accum K` (its one-process equivalent).

One training step takes the card's batch and splits it into P = world size x K micro-batches: rank r runs
micro-batches r*K .. r*K+K-1, one after another, accumulating gradients; DDP all-reduces (averages) them
across ranks before the optimiser steps. A single process with `--grad-accum P` runs the same P
micro-batches in the same order and so takes the same steps: results depend on P (how the batch is split —
BatchNorm statistics and in-batch negatives are per micro-batch), not on how many processes share the work.
Every micro-batch draws its random numbers from (seed, epoch, step, micro-batch index), never from a
stream another micro-batch advanced. Rank 0 alone writes checkpoints and records.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist
from torch import nn

from bench3d.errors import ConfigError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Parallel:
    """How this process shares a training step: its rank among `world_size` and `grad_accum` micro-batches
    per rank."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    backend: str | None = None  # None: no process group (one process)
    grad_accum: int = 1
    sync_bn: bool = False

    @property
    def micro_batches(self) -> int:
        """Micro-batches per step, over all ranks."""
        return self.world_size * self.grad_accum

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.backend is not None

    def run_config(self) -> dict[str, Any]:
        """What changes numbers (part of the run id): the split of each batch, and SyncBatchNorm.
        Empty for the default, so a one-process run keeps its id."""
        out: dict[str, Any] = {}
        if self.micro_batches > 1:
            out["micro_batches"] = self.micro_batches
        if self.sync_bn:
            out["sync_bn"] = True
        return out

    def provenance(self) -> dict[str, Any]:
        return {"world_size": self.world_size, "backend": self.backend, "grad_accum": self.grad_accum,
                "sync_bn": self.sync_bn}

    # ---- the split ------------------------------------------------------------------------------------
    def split(self, batch: Sequence[T]) -> list[list[T]]:
        """All P micro-batches of a batch: contiguous, sizes within one of each other. A batch smaller than
        P is padded by repeating its items (as torch's DistributedSampler pads), so no micro-batch is empty."""
        parts = self.micro_batches
        items = list(batch)
        if not items:
            raise ValueError("empty batch")
        if len(items) < parts:
            items = [items[i % len(items)] for i in range(parts)]
        base, extra = divmod(len(items), parts)
        out, start = [], 0
        for p in range(parts):
            size = base + (p < extra)
            out.append(items[start:start + size])
            start += size
        return out

    def mine(self, batch: Sequence[T]) -> list[tuple[int, list[T]]]:
        """This rank's (micro-batch index, micro-batch) pairs of a batch, in the order it runs them."""
        micros = self.split(batch)
        first = self.rank * self.grad_accum
        return [(first + k, micros[first + k]) for k in range(self.grad_accum)]

    # ---- collectives (no-ops in one process) -----------------------------------------------------------
    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def agree(self, value: T) -> T:
        """Rank 0's `value` on every rank (decisions such as 'is this run finished?' must not diverge)."""
        if not self.distributed:
            return value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def mean(self, values: dict[str, float], device: torch.device) -> dict[str, float]:
        """The mean over ranks of each value (loss histories cover every rank's micro-batches); `device` is the
        run's (NCCL reduces device tensors)."""
        if not self.distributed or not values:
            return values
        names = sorted(values)
        t = torch.tensor([values[n] for n in names], dtype=torch.float64, device=device)
        dist.all_reduce(t)
        return {n: float(v) / self.world_size for n, v in zip(names, t.tolist())}

    def step_module(self, model: nn.Module, step: Callable[[Any], dict[str, torch.Tensor]],
                    device: torch.device) -> Callable[[Any], dict[str, torch.Tensor]]:
        """`step` as DDP sees it: its forward runs the step over `model`'s parameters, so DDP all-reduces their
        gradients on backward. In one process, `step` itself."""
        if not self.distributed:
            return step
        from torch.nn.parallel import DistributedDataParallel as DDP

        # Parameters a step leaves unused (a component switched off) still get their (zero) share reduced.
        return DDP(_StepModule(model, step), device_ids=[device.index] if device.type == "cuda" else None,
                   find_unused_parameters=True)

    def no_sync(self, stepper: Any, last: bool) -> contextlib.AbstractContextManager:
        """Gradient all-reduce only on the last micro-batch of a rank's step."""
        if last or not hasattr(stepper, "no_sync"):
            return contextlib.nullcontext()
        return stepper.no_sync()


class _StepModule(nn.Module):
    def __init__(self, model: nn.Module, step: Callable[[Any], dict[str, torch.Tensor]]) -> None:
        super().__init__()
        self.model = model
        self.step = step

    def forward(self, batch: Any) -> dict[str, torch.Tensor]:
        return self.step(batch)


def from_environment(device: torch.device, grad_accum: int = 1, sync_bn: bool = False) -> tuple[Parallel, torch.device]:
    """The process's Parallel and device: under torchrun (WORLD_SIZE > 1 or a torchrun launch), the process
    group is initialised — NCCL on CUDA, gloo on CPU — and a CUDA device becomes cuda:LOCAL_RANK."""
    if grad_accum < 1:
        raise ConfigError(f"--grad-accum {grad_accum}: must be >= 1")
    if sync_bn and device.type != "cuda":
        raise ConfigError("--sync-bn converts BatchNorm to SyncBatchNorm, which runs on CUDA only; drop it on CPU")
    if "TORCHELASTIC_RUN_ID" not in os.environ and int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Parallel(grad_accum=grad_accum), device
    world = int(os.environ["WORLD_SIZE"])
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise ConfigError(f"LOCAL_RANK {local}: only {torch.cuda.device_count()} CUDA device(s) on this node; "
                              "lower --nproc_per_node")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    backend = "nccl" if device.type == "cuda" else "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, timeout=datetime.timedelta(minutes=60))
    log.info("rank %d of %d (%s) on %s", rank, world, backend, device)
    return Parallel(world, rank, local, backend, grad_accum, sync_bn), device
