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
from bench3d.errors import ConfigError
from bench3d.harness.bev_teachers import attach_mock_teacher
from bench3d.methods import PretrainContext, build_method
from bench3d.models.teachers import WITH_CHECKPOINT, checkpoint_kind


def pretraining_step(dataroot: str | Path, method: str, overrides: dict[str, Any] | None = None,
                     device: str = "cpu", cache: Path | None = None, preset: str = "tiny",
                     teacher_checkpoint: str | Path | None = None) -> dict[str, Any]:
    """Wall seconds (load + prepare + step), peak memory and loss of one pretraining step on the release's
    first sample(s), with the preset's every setting but epochs and batch (1 and 1). `overrides` change the
    preset (e.g. `{"frames": 1}` for LiMA); `teacher_checkpoint` is the 2D teacher's weights where the preset
    names a checkpoint teacher (dinov2, resnet50)."""
    ds = resolve_dataset("nuscenes-mini", dataroot)
    reader = ds.open_reader()
    tokens = [tok for seq in reader.sequences() for tok in seq.sample_tokens]
    adapter = build_method(method, preset, overrides={"epochs": 1, "batch_size": 1, **(overrides or {})},
                           synthetic_data=ds.synthetic, teacher_checkpoint=teacher_checkpoint)
    dev = torch.device(device)
    configure_numerics(dev)
    with tempfile.TemporaryDirectory(prefix="bench3d-frame-step-") as tmp:
        ctx = PretrainContext(reader=reader, sample_tokens=tokens[:1], device=dev, seed=0,
                              disk_cache=DiskCache(cache or Path(tmp) / "cache"))
        # A step's mechanics, not its numbers: GeoMIM's LiDAR BEV teacher is an untrained mock here (named so
        # in the result); the runner's teachers are trained and recorded.
        attach_mock_teacher(adapter, ctx, preset)
        reset_peak(dev)
        start = time.perf_counter()
        summary = adapter.pretrain(ctx, Path(tmp) / "step.pt")
        seconds = time.perf_counter() - start
        peak = read_peak(dev)
        size = getattr(adapter.config, "max_image_size", None) or getattr(adapter.config, "read_size", None)
        frame = reader.frame(tokens[0], labels=False, boxes=False, max_image_size=tuple(size) if size else None)
    params = sum(p.numel() for p in adapter.build_backbones().parameters())
    bev_teacher = {"bev_teacher": "mock (untrained)"} if adapter.bev_teacher_request() is not None else {}
    return {**bev_teacher, "method": method, "preset": preset, "sample": tokens[0], "backbone_parameters": params, "points": int(len(frame.points)),
            "image_size": list(next(iter(frame.cameras.values())).image.shape[:2]),
            "step_seconds": seconds, **peak, "loss": summary["final_loss"]}


def teacher_checkpoint_for(method: str, preset: str, paths: list[Path]) -> Path | None:
    """The one of `paths` whose kind (by its keys) is the 2D teacher `method`'s `preset` names; None where the
    preset's teacher needs no checkpoint. Several or none of a needed kind is an error naming them."""
    teacher = getattr(build_method(method, preset).config, "teacher", None)
    name = getattr(teacher, "name", None)
    if name not in WITH_CHECKPOINT:
        return None
    matches = [p for p in paths if checkpoint_kind(p) == name]
    if len(matches) != 1:
        raise ConfigError(f"method {method!r} preset {preset!r} distils a {name} teacher: give exactly one "
                          f"--teacher-checkpoint of that kind (given: {[str(p) for p in paths] or 'none'})")
    return matches[0]
