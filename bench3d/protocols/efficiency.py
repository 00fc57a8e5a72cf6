"""Pretraining cost per step: median wall time after warm-up and the step's peak memory.

Data are loaded before timing (every item a timed step reads is in memory), GPU work is synchronised
before each clock read, and an out-of-memory error is returned as a data point, not raised.
"""

from __future__ import annotations

import logging
import statistics
import time
from typing import Any

import torch

from bench3d.harness.memory_probe import read_peak, reset_peak, synchronize
from bench3d.harness.seeding import seed_everything
from bench3d.methods.base import MethodAdapter, PretrainContext

log = logging.getLogger(__name__)


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError | torch.cuda.OutOfMemoryError) or "out of memory" in str(exc).lower()


def measure_pretraining_step(adapter: MethodAdapter, ctx: PretrainContext, steps: int = 10,
                             warmup: int = 3) -> dict[str, Any]:
    """Time `steps` optimisation steps after `warmup` ones on the adapter's own batch order."""
    seed_everything(ctx.seed)
    batches = adapter.batch_order(ctx, 0)[: warmup + steps]
    if len(batches) < warmup + steps:
        raise ValueError(f"only {len(batches)} batches in the split; need warmup + steps = {warmup + steps}")
    try:
        encoder, heads, model, optimizer = adapter.build_training(ctx)
        model.train()
        prepared = {t: adapter.prepare(ctx, t) for b in batches for t in b}
        for item in prepared.values():
            adapter.warm_cache(ctx, item)
        adapter.on_epoch_start(ctx, 0)
        gen = torch.Generator().manual_seed(ctx.seed)
        times, peaks = [], []
        for i, tokens in enumerate(batches):
            reset_peak(ctx.device)
            synchronize(ctx.device)
            start = time.perf_counter()
            losses = adapter.loss(encoder, heads, [prepared[t] for t in tokens], ctx, gen)
            optimizer.zero_grad(set_to_none=True)
            sum(losses.values()).backward()
            optimizer.step()
            synchronize(ctx.device)
            elapsed = time.perf_counter() - start
            if i >= warmup:
                times.append(elapsed)
                peaks.append(read_peak(ctx.device))
    except (RuntimeError, MemoryError) as exc:
        if not _is_oom(exc):
            raise
        log.warning("out of memory: %s", str(exc).splitlines()[0])
        if ctx.device.type == "cuda":
            torch.cuda.empty_cache()
        return {"status": "oom", "error": str(exc).splitlines()[0]}
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    out: dict[str, Any] = {"status": "ok", "steps": steps, "warmup": warmup,
                           "step_time_median_s": statistics.median(times),
                           "step_time_p25_s": quartiles[0], "step_time_p75_s": quartiles[2],
                           "step_times_s": times}
    for key in peaks[0]:
        out[key] = max(p[key] for p in peaks)
    bank = getattr(adapter, "bank", None)
    if bank is not None:
        out.update(bank_hits=bank.hits, bank_misses=bank.misses)
    return out
