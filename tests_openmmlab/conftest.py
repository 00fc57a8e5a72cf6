"""Fixtures of the openmmlab extra's tests (`make test-openmmlab`): mmdet3d's registries, its shipped configs, a
short ScaLR pretraining on a small synthetic release."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the core suite's card helpers
from _cards import using_cards, write_cards  # noqa: E402

# spconv 2.3.8's CPU scatter-add is wrong with more than one torch thread (bench3d refuses it for its own spconv
# backend; mmdet3d does not check), so every comparison with mmdet3d's spconv network runs on one thread.
torch.set_num_threads(1)


@pytest.fixture(scope="session", autouse=True)
def _mmdet3d_registries() -> None:
    from mmdet3d.utils import register_all_modules

    register_all_modules(init_default_scope=True)


@pytest.fixture(scope="session")
def mmdet3d_configs() -> Path:
    """The configs folder shipped inside the mmdet3d wheel."""
    import mmdet3d

    return Path(mmdet3d.__file__).parent / ".mim" / "configs"


@pytest.fixture(scope="session", autouse=True)
def _private_disk_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ["BENCH3D_CACHE"] = str(tmp_path_factory.mktemp("bench3d-cache"))


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-scene x 4-keyframe synthetic nuScenes release (56 x 100 images)."""
    from bench3d.synth import SynthConfig, generate_release

    config = SynthConfig(scenes=4, samples_per_scene=4, image_size=(56, 100), seed=0, workers=2)
    return generate_release(tmp_path_factory.mktemp("synth") / "release", config)


@pytest.fixture(scope="session")
def scalr_checkpoint(release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ScaLR pretraining checkpoint (tiny preset, one short epoch) made by the suite's runner."""
    from bench3d.harness.runner import Runner
    from bench3d.harness.specs import PretrainSpec
    from bench3d.results import ResultsStore

    cards = write_cards(tmp_path_factory.mktemp("cards"), {"max_points": 6000, "epochs": 1}, {})
    with using_cards(cards):
        runner = Runner(ResultsStore(tmp_path_factory.mktemp("store")), "cpu", release)
        _, checkpoint = runner.pretrain(PretrainSpec("scalr", "synth"))
    return Path(checkpoint)


_FIGURES: list[str] = []


@pytest.fixture()
def figure(request: pytest.FixtureRequest):
    """`figure(text)`: a measured figure, printed in the run's summary under the test's name."""
    return lambda text: _FIGURES.append(f"{request.node.name}: {text}")


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("measured figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
