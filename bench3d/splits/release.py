"""The label split of one release for one (fraction, draw), as the harness trains on it.

A release with at least k train scenes (k = SLidR's skip step of the fraction) uses the scene-level
nuScenes rules (draw 0 = SLidR's every-k-th scene in scene-table order; draws >= 1 = seeded scene draws).
A small release (the embedded synthetic world has 8 train scenes) cannot hold a 1 % scene split, so it
falls back to a frame-level rule, recorded in the manifest: count = max(1, round(fraction x frames));
draw 0 keeps evenly spaced keyframes of the train scenes in scene-table order (the k-th, 2k-th, ... when
k divides the frame count), draws >= 1 are seeded random frame sets of the same size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bench3d.errors import SplitError
from bench3d.splits import nuscenes as nus
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import draw_seed


def frame_level_manifest(frames: Sequence[str], fraction: float, draw: int, source: str) -> SplitManifest:
    n = len(frames)
    count = max(1, round(fraction * n))
    if draw == 0:
        ids = [frames[(i + 1) * n // count - 1] for i in range(count)]
        rule = f"frame-even: {count} of {n} train keyframes in scene-table order, index floor((i+1)*n/count)-1"
    else:
        rng = np.random.default_rng(draw_seed("nuscenes-frames", fraction, draw))
        ids = [frames[i] for i in sorted(rng.choice(n, size=count, replace=False))]
        rule = f"frame-random: {count} of {n} train keyframes, numpy default_rng(draw_seed('nuscenes-frames', {fraction}, {draw}))"
    return SplitManifest("nuscenes", rule, fraction, draw, tuple(ids), unit="frame", source=source)


def release_label_split(scene_table_names: Sequence[str], train_names: Sequence[str],
                        keyframes: Mapping[str, Sequence[str]], fraction: float, draw: int,
                        source: str) -> tuple[SplitManifest, list[str]]:
    """(manifest, sample tokens to train on) for a release; `keyframes` maps scene name -> sample tokens."""
    train = [n for n in scene_table_names if n in set(train_names)]
    if not train:
        raise SplitError(f"{source}: no train scene of the split in this release (generate or point at a release "
                         "that holds the split's scenes)")
    if fraction >= 1.0 or len(train) >= nus.skip_step(fraction):
        manifest = nus.nuscenes_manifest(scene_table_names, train, fraction, draw, source)
        return manifest, [tok for name in manifest.ids for tok in keyframes[name]]
    frames = [tok for name in train for tok in keyframes[name]]
    manifest = frame_level_manifest(frames, fraction, draw, source)
    return manifest, list(manifest.ids)
