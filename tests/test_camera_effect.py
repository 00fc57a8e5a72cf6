"""The synthetic world must reward a better camera encoder: on the BEV map-segmentation probe, ImageNet
initialisation beats random initialisation by more than the spread over 3 seeds (DEVELOPERS' guide: if not,
the world or the stack is too weak).

Marked slow: CI runs it at a reduced size (6 scenes x 6 keyframes at 112 x 200, 12 probe epochs); the
full-size figures (10 scenes x 6 keyframes, 20 epochs) are in the closing note and come from
`bench3d run --method imagenet --method random_camera --protocol bev_seg_probe`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _cards import using_cards, write_cards

from bench3d.harness.matrix import expand_matrix
from bench3d.harness.runner import Runner
from bench3d.results import ResultsStore
from bench3d.synth import SynthConfig, generate_release


@pytest.mark.slow
def test_imagenet_beats_random_camera_on_the_bev_probe_beyond_seed_spread(tmp_path: Path) -> None:
    release = generate_release(tmp_path / "world", SynthConfig(scenes=6, samples_per_scene=6, image_size=(112, 200),
                                                               workers=2))
    cards = write_cards(tmp_path / "cards", {}, {"bev_seg_probe": {"epochs": 12}})
    with using_cards(cards):
        runner = Runner(ResultsStore(tmp_path / "results"), "cpu", release)
        miou: dict[str, list[float]] = {"random_camera": [], "imagenet": []}
        for spec in expand_matrix(["random_camera", "imagenet"], ["bev_seg_probe"], "synth", seeds=[0, 1, 2]):
            miou[spec.method].append(runner.evaluate(spec).metrics["miou"])
    spread = max(max(v) - min(v) for v in miou.values())
    gain = sum(miou["imagenet"]) / 3 - sum(miou["random_camera"]) / 3
    assert min(miou["imagenet"]) > max(miou["random_camera"]), miou
    assert gain > spread, (miou, gain, spread)
