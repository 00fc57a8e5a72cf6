"""Class coverage of split manifests: lidarseg points per evaluation class in each manifest's scenes.

Small label fractions can miss classes entirely (then the nuScenes reducer drops them from the mean and the
SemanticKITTI one scores them 0), so the suite shows coverage next to every manifest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from bench3d.data.nuscenes.tables import NuScenesTables
from bench3d.errors import DataError
from bench3d.labels.nuscenes import EVAL_CLASSES
from bench3d.metrics.nuscenes_lidarseg import fine_to_eval_table
from bench3d.splits.manifest import SplitManifest


@dataclass(frozen=True)
class Coverage:
    name: str
    scenes: int
    keyframes: int
    points_per_class: dict[str, int]  # evaluation class (ignore excluded) -> points

    @property
    def missing_classes(self) -> list[str]:
        return [c for c, n in self.points_per_class.items() if n == 0]


def scene_class_points(tables: NuScenesTables, scene_names: Iterable[str]) -> dict[str, tuple[int, np.ndarray]]:
    """Scene name -> (keyframes, points per evaluation class incl. ignore at 0), reading each label file once."""
    lut = fine_to_eval_table(tables.dataroot, tables.version).astype(np.int64)
    out: dict[str, tuple[int, np.ndarray]] = {}
    for name in sorted(set(scene_names)):
        counts = np.zeros(len(EVAL_CLASSES), dtype=np.int64)
        samples = tables.keyframe_samples(tables.scene_named(name))
        for sample in samples:
            path = tables.lidarseg_path(tables.lidar_token(sample))
            fine = np.fromfile(path, dtype=np.uint8)
            if fine.size and (fine.max() >= lut.size or (lut[fine] < 0).any()):
                raise DataError(path, "holds labels without a category index")
            counts += np.bincount(lut[fine], minlength=len(EVAL_CLASSES))
        out[name] = (len(samples), counts)
    return out


def manifest_coverage(
    manifests: Mapping[str, SplitManifest], per_scene: Mapping[str, tuple[int, np.ndarray]]
) -> list[Coverage]:
    rows = []
    for name, manifest in manifests.items():
        counts = np.zeros(len(EVAL_CLASSES), dtype=np.int64)
        keyframes = 0
        for scene in manifest.ids:
            frames, scene_counts = per_scene[scene]
            keyframes += frames
            counts += scene_counts
        points = {c: int(n) for c, n in zip(EVAL_CLASSES[1:], counts[1:])}
        rows.append(Coverage(name, len(manifest.ids), keyframes, points))
    return rows


def release_coverage(tables: NuScenesTables, manifests: Mapping[str, SplitManifest]) -> list[Coverage]:
    scenes = {s for m in manifests.values() for s in m.ids}
    return manifest_coverage(manifests, scene_class_points(tables, scenes))
