"""One pretraining step of a method on the keyframes of a release as they are — a real nuScenes frame at
1600x900 included — with its wall time and peak memory. The tiny preset's `max_image_size` makes the
reader decode the JPEGs at the teacher's size (draft mode), intrinsics scaled to match.

A real release of one keyframe has no full split to pretrain on, so this drives the adapter directly on the
release's own samples, one epoch of one batch, into a scratch checkpoint.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from bench3d.datasets import resolve_dataset
from bench3d.engine.disk_cache import DiskCache
from bench3d.engine.memory_probe import read_peak, reset_peak
from bench3d.engine.numerics import configure_numerics
from bench3d.methods import PretrainContext, build_method


def pretraining_step(dataroot: str | Path, method: str, overrides: dict[str, Any] | None = None,
                     device: str = "cpu", cache: Path | None = None) -> dict[str, Any]:
    """Wall seconds (load + prepare + step), peak memory and loss of one pretraining step on the release's
    first sample(s). `overrides` change the tiny preset (e.g. `{"frames": 1}` for LiMA)."""
    ds = resolve_dataset("nuscenes-mini", dataroot)
    reader = ds.open_reader()
    tokens = [tok for seq in reader.sequences() for tok in seq.sample_tokens]
    adapter = build_method(method, "tiny", overrides={"epochs": 1, "batch_size": 1, **(overrides or {})},
                           synthetic_data=ds.synthetic)
    dev = torch.device(device)
    configure_numerics(dev)
    with tempfile.TemporaryDirectory(prefix="bench3d-frame-step-") as tmp:
        ctx = PretrainContext(reader=reader, sample_tokens=tokens[:1], device=dev, seed=0,
                              disk_cache=DiskCache(cache or Path(tmp) / "cache"))
        reset_peak(dev)
        start = time.perf_counter()
        summary = adapter.pretrain(ctx, Path(tmp) / "step.pt")
        seconds = time.perf_counter() - start
        peak = read_peak(dev)
        size = getattr(adapter.config, "max_image_size", None) or getattr(adapter.config, "read_size", None)
        frame = reader.frame(tokens[0], labels=False, boxes=False, max_image_size=tuple(size) if size else None)
    return {"method": method, "sample": tokens[0], "points": int(len(frame.points)),
            "image_size": list(next(iter(frame.cameras.values())).image.shape[:2]),
            "step_seconds": seconds, **peak, "loss": summary["final_loss"]}
