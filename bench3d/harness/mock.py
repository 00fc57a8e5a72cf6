"""A mock run for a new adapter (lm-eval / MTEB style): pretrain briefly on a tiny synthetic release,
reload the checkpoint strictly, and check the backbone's per-point features. Seconds, CPU only."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import torch

from bench3d.data.nuscenes import NuScenesReader
from bench3d.methods import PretrainContext, build_method

MOCK_OVERRIDES = {"epochs": 1, "max_points": 3000, "batch_size": 2}


def mock_run(method: str, release: Path | None = None, preset: str = "tiny") -> dict[str, Any]:
    """Raises on any failure; returns the losses and feature shapes it saw."""
    with tempfile.TemporaryDirectory(prefix="bench3d-mock-") as tmp:
        if release is None:
            from bench3d.synth import generate_release, tiny_config

            release = generate_release(Path(tmp) / "release", tiny_config(samples_per_scene=2))
        reader = NuScenesReader(release, "v1.0-mini")
        tokens = [t for seq in reader.sequences() for t in seq.sample_tokens]
        probe = build_method(method, preset, overrides=MOCK_OVERRIDES)
        overrides = {k: v for k, v in MOCK_OVERRIDES.items() if k in probe.config or k == "max_points"}
        adapter = build_method(method, preset, overrides=overrides)
        out: dict[str, Any] = {"method": method, "pretrains": adapter.needs_pretraining}
        checkpoint = None
        if adapter.needs_pretraining:
            ctx = PretrainContext(reader=reader, sample_tokens=tokens, device=torch.device("cpu"), seed=0)
            checkpoint = Path(tmp) / "mock.pt"
            summary = adapter.pretrain(ctx, checkpoint)
            out["loss"] = summary["final_loss"]
            if not math.isfinite(out["loss"]):
                raise AssertionError(f"{method}: pretraining loss is {out['loss']}")
        encoder = adapter.load_encoder(checkpoint).eval()
        frame = reader.frame(tokens[0], cameras=None, boxes=False)
        with torch.no_grad():
            feats = encoder([torch.from_numpy(frame.points[:, :4].copy())])[0]
        if feats.shape != (frame.num_points, encoder.out_dim) or not torch.isfinite(feats).all():
            raise AssertionError(f"{method}: bad per-point features {tuple(feats.shape)}")
        out["features"] = list(feats.shape)
        return out
