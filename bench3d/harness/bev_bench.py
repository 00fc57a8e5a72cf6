"""Speed of the BEV stack, measured in one run: LSS's vectorised BEV pooling against a naive per-point
scatter loop on the same frustum, and one training step of the camera BEV stack at the tiny preset."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from bench3d.datasets import resolve_dataset
from bench3d.engine.timing import time_steps
from bench3d.methods import build_method
from bench3d.models.bev.grid import pool_to_bev
from bench3d.models.bev.lss import naive_splat
from bench3d.protocols import resolve_protocol


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def compare_bev_pooling(views: int = 6, depth: int = 26, hw: tuple[int, int] = (7, 13), channels: int = 32,
                        cells: int = 64 * 64, repeats: int = 3, seed: int = 0) -> dict[str, Any]:
    """Seconds of pool_to_bev vs naive_splat on one frame's frustum (the tiny preset's sizes by default)."""
    gen = torch.Generator().manual_seed(seed)
    points = views * depth * hw[0] * hw[1]
    volume = torch.randn(points, channels, generator=gen)
    index = torch.randint(-1, cells, (points,), generator=gen)
    fast = _best(lambda: pool_to_bev(volume, index, cells), repeats)
    naive = _best(lambda: naive_splat(volume, index, cells), 1)
    if not torch.allclose(pool_to_bev(volume, index, cells), naive_splat(volume, index, cells), atol=1e-4):
        raise AssertionError("vectorised and naive BEV pooling disagree")
    return {"frustum_points": points, "channels": channels, "vectorised_s": fast, "naive_loop_s": naive,
            "speedup": naive / fast}


def camera_stack_step(dataroot: str | Path | None = None, method: str = "imagenet", protocol: str = "bev_seg_probe",
                      steps: int = 3) -> dict[str, Any]:
    """Median time of one training step (backbone forward, LSS, BEV encoder, head, backward) of a batch."""
    ds = resolve_dataset("synth", dataroot)
    reader = ds.open_reader()
    resolved = resolve_protocol(protocol, "tiny")
    task = resolved.task
    adapter = build_method(method)
    model = task.build_model(adapter.load_backbone(adapter.backbone_for(task.consumes), None), ds)
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][: resolved.schedule.batch_size]
    samples = [task.load(reader, ds, tokens, True, 0)[i] for i in range(len(tokens))]
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    device = torch.device("cpu")

    def step(_: int) -> None:
        losses = task.loss(model, task.head_inputs(model, samples, device, None))
        optimizer.zero_grad(set_to_none=True)
        sum(losses.values()).backward()
        optimizer.step()

    out = time_steps(step, steps + 1, 1, device)
    return {"method": method, "batch": len(samples), "image_hw": list(samples[0].inputs.images.shape[1:3]),
            "step_time_median_s": out["step_time_median_s"], "peak_rss_mb": out.get("peak_rss_mb")}
