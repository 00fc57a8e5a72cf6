"""Pretraining cost per step, through the adapter's public API only.

Data are loaded before timing (every item a timed step reads is in memory, `warm_cache`), GPU work is
synchronised before each clock read (engine/timing.py), the adapter's own cache counters come from its
`cost_report` hook, and an out-of-memory error is returned as a data point, not raised.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from bench3d.engine.numerics import autocast, grad_scaler
from bench3d.engine.seeding import seed_everything
from bench3d.engine.timing import time_steps
from bench3d.errors import ConfigError
from bench3d.methods import MethodAdapter, PretrainContext

log = logging.getLogger(__name__)


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError | torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def measure_pretraining_step(adapter: MethodAdapter, ctx: PretrainContext, steps: int = 10,
                             warmup: int = 3) -> dict[str, Any]:
    """Time `steps` optimisation steps after `warmup` ones on the adapter's own batch order."""
    seed_everything(ctx.seed)
    batches = adapter.batch_order(ctx, 0)[: warmup + steps]
    if len(batches) < warmup + steps:
        raise ConfigError(f"only {len(batches)} batches in the pretraining split; --warmup {warmup} + --steps {steps} "
                          f"need {warmup + steps}: lower them or generate a larger world (bench3d synth --scenes 10)")
    try:
        backbones, heads, model, optimizer = adapter.build_training(ctx)
        model.train()
        prepared = {t: adapter.prepare(ctx, t) for b in batches for t in b}
        for item in prepared.values():
            adapter.warm_cache(ctx, item)
        adapter.on_epoch_start(ctx, 0)
        gen = torch.Generator().manual_seed(ctx.seed)

        scaler = grad_scaler(ctx.device)

        def step(i: int) -> None:  # the Trainer's step: autocast forward, (scaled) backward, optimiser step
            with autocast(ctx.device):
                losses = adapter.loss(backbones, heads, [prepared[t] for t in batches[i]], ctx, gen)
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                sum(losses.values()).backward()
                optimizer.step()
            else:
                scaler.scale(sum(losses.values())).backward()
                scaler.step(optimizer)
                scaler.update()

        out = time_steps(step, warmup + steps, warmup, ctx.device)
    except (RuntimeError, MemoryError) as exc:
        if not _is_oom(exc):
            raise
        log.warning("out of memory: %s", str(exc).splitlines()[0])
        if ctx.device.type == "cuda":
            torch.cuda.empty_cache()
        return {"status": "oom", "error": str(exc).splitlines()[0]}
    return {"status": "ok", **out, **adapter.cost_report()}
