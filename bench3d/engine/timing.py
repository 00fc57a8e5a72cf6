"""Step timing: median wall time after warm-up, GPU work synchronised before every clock read, and each
step's own peak memory (memory_probe)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from bench3d.engine.memory_probe import read_peak, reset_peak, synchronize


def time_steps(step: Callable[[int], None], total: int, warmup: int, device: torch.device) -> dict[str, Any]:
    """Run `step(i)` for i in 0..total-1; statistics over the steps after the first `warmup`."""
    if total <= warmup:
        raise ValueError(f"need more steps ({total}) than warm-up steps ({warmup})")
    times, peaks = [], []
    for i in range(total):
        reset_peak(device)
        synchronize(device)
        start = time.perf_counter()
        step(i)
        synchronize(device)
        elapsed = time.perf_counter() - start
        if i >= warmup:
            times.append(elapsed)
            peaks.append(read_peak(device))
    quartiles = statistics.quantiles(times, n=4) if len(times) > 1 else [times[0]] * 3
    out: dict[str, Any] = {"steps": len(times), "warmup": warmup, "step_time_median_s": statistics.median(times),
                           "step_time_p25_s": quartiles[0], "step_time_p75_s": quartiles[2], "step_times_s": times}
    for key in peaks[0]:
        out[key] = max(p[key] for p in peaks)
    return out
