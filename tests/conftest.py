"""Shared fixtures: tiny synthetic nuScenes releases made by the suite itself."""

from __future__ import annotations

from pathlib import Path

import pytest

# 2 scenes (= the devkit's mini_val) x 3 keyframes with all sweeps, small images: a few seconds on 2 cores.
TINY_SYNTH = {"scenes": 2, "samples_per_scene": 3, "image_size": (56, 100), "seed": 0}


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dataroot of a tiny synthetic v1.0-mini release (read-only: tests must not modify it)."""
    from bench3d.synth import SynthConfig, generate_release

    return generate_release(tmp_path_factory.mktemp("synth") / "tiny", SynthConfig(**TINY_SYNTH, workers=2))


@pytest.fixture(scope="session")
def tiny_nusc(tiny_release: Path):
    """The official devkit's view of the tiny release."""
    from nuscenes import NuScenes

    return NuScenes("v1.0-mini", str(tiny_release), verbose=False)
