"""Per-frame BEV map masks in BEVFusion's convention, from the devkit's map API (`NuScenesMap`).

A 100 m x 100 m patch centred on the LiDAR, rotated by the LiDAR's yaw, rasterised at 0.5 m into 200 x 200
cells per class, then transposed so that mask[c, i, j] is the cell at x = -50 + (i + 0.5) * 0.5 (forward)
and y = -50 + (j + 0.5) * 0.5 (left) in the LiDAR frame. Six classes: drivable_area, ped_crossing,
walkway, stop_line, carpark_area and divider (road_divider or lane_divider).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from bench3d.errors import DataError

BEV_CLASSES: tuple[str, ...] = ("drivable_area", "ped_crossing", "walkway", "stop_line", "carpark_area", "divider")
LAYERS_OF: dict[str, tuple[str, ...]] = {"divider": ("road_divider", "lane_divider")}
PATCH_M = 100.0
RESOLUTION_M = 0.5


class BevMaps:
    """The map-expansion files of a release, opened once per location."""

    def __init__(self, dataroot: Path) -> None:
        self.dataroot = Path(dataroot)
        self._maps: dict[str, object] = {}

    def _map(self, location: str):
        if location not in self._maps:
            path = self.dataroot / "maps" / "expansion" / f"{location}.json"
            if not path.is_file():
                raise DataError(path, "map expansion file is missing",
                                "install the nuScenes map expansion (v1.3) into maps/expansion/ of the dataroot; "
                                "a synthetic world made before bench3d wrote maps: regenerate it with `bench3d synth`")
            from nuscenes.map_expansion.map_api import NuScenesMap

            self._maps[location] = NuScenesMap(str(self.dataroot), location)
        return self._maps[location]

    def masks(self, location: str, lidar_to_global: np.ndarray, classes: tuple[str, ...] = BEV_CLASSES,
              patch_m: float = PATCH_M, resolution_m: float = RESOLUTION_M) -> np.ndarray:
        """(len(classes), n, n) bool masks, n = patch_m / resolution_m, axes (x forward, y left)."""
        n = int(round(patch_m / resolution_m))
        layers = sorted({layer for c in classes for layer in LAYERS_OF.get(c, (c,))})
        forward = lidar_to_global[:3, :3] @ np.array([1.0, 0.0, 0.0])
        angle = math.degrees(math.atan2(forward[1], forward[0]))
        x, y = lidar_to_global[0, 3], lidar_to_global[1, 3]
        raw = self._map(location).get_map_mask((x, y, patch_m, patch_m), angle, layers, canvas_size=(n, n))
        raw = raw.transpose(0, 2, 1).astype(bool)  # (layer, x, y): BEVFusion's transpose
        out = np.zeros((len(classes), n, n), dtype=bool)
        for k, c in enumerate(classes):
            for layer in LAYERS_OF.get(c, (c,)):
                out[k] |= raw[layers.index(layer)]
        return out
