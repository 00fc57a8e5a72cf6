"""Shared fixtures: tiny synthetic nuScenes releases made by the suite itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _cards import using_cards, write_cards

# Under pytest-xdist (`make test` runs `-n auto`), each worker gets its share of the cores instead of every
# worker's torch taking all of them: oversubscribed intra-op threads spin and run slower than serial. Set before
# any test builds a Runner (torch threads are part of a run's id) and inherited by the processes tests start.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1)
                                                     // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))))
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


@pytest.fixture(scope="session", autouse=True)
def _private_disk_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests (and the processes they start) cache per-sample products in their own folder, not ~/.cache."""
    os.environ["BENCH3D_CACHE"] = str(tmp_path_factory.mktemp("bench3d-cache"))


@pytest.fixture(scope="session")
def tiny_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Dataroot of the `tiny` synthetic v1.0-mini release: 2 scenes (= mini_val) x 3 keyframes, all sweeps,
    56 x 100 images. Read-only: tests must not modify it."""
    from bench3d.synth import generate_release, tiny_config

    return generate_release(tmp_path_factory.mktemp("synth") / "tiny", tiny_config(workers=2))


@pytest.fixture(scope="session")
def tiny_nusc(tiny_release: Path):
    """The official devkit's view of the tiny release."""
    from nuscenes import NuScenes

    return NuScenes("v1.0-mini", str(tiny_release), verbose=False)


@pytest.fixture(scope="session")
def harness_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A release with train and val scenes for the harness: mini_val (scene-0103, scene-0916) and two mini_train
    scenes (scene-0061, scene-0553), 4 keyframes each, 56 x 100 images. Read-only."""
    from bench3d.synth import SynthConfig, generate_release

    config = SynthConfig(scenes=4, samples_per_scene=4, image_size=(56, 100), seed=0, workers=2)
    return generate_release(tmp_path_factory.mktemp("synth") / "harness", config)


@pytest.fixture(scope="session")
def short_cards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shipped cards with CI-sized schedules: same fields, fewer epochs and points."""
    root = write_cards(tmp_path_factory.mktemp("cards"), {"max_points": 6000, "epochs": 2},
                       {"linear_probe": {"epochs": 4, "task": {"supervised_points": 6000}},
                        "finetune": {"epochs": 6, "task": {"max_points": 6000}},
                        "full_finetune": {"epochs": 2, "task": {"max_points": 6000}},
                        "bev_seg_probe": {"epochs": 4}, "bev_seg_finetune": {"epochs": 2}, "bev_seg_full": {"epochs": 2},
                        "det3d_probe": {"epochs": 4}, "det3d_finetune": {"epochs": 2}, "det3d_full": {"epochs": 2},
                        "det3d_teacher": {"epochs": 2}})
    with using_cards(root):
        yield root
