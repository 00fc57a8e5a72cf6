"""The synthetic world as a Waymo v2 release: the world is rendered once as a nuScenes release (in a hidden
sibling folder, without sweeps) and written again as Waymo Parquet components on its own LiDAR's range-image
grid (its beam elevations as the beam inclinations, its azimuth steps as the columns). The nuScenes train /
val scenes become the `training` / `validation` segments."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

from nuscenes.utils.splits import create_splits_scenes

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.waymo.writer import write_waymo
from bench3d.labels.waymo import types_from_nuscenes_fine
from bench3d.synth import SynthConfig, generate_release
from bench3d.synth.generate import check_target
from bench3d.synth.scene import lidar_spec

SPLITS = {"v1.0-mini": ("mini_train", "mini_val"), "v1.0-trainval": ("train", "val")}


def generate_waymo(out: Path, cfg: SynthConfig, overwrite: bool = False, progress=None) -> Path:
    """Write the world of `cfg` as a Waymo v2 release at `out` (its `--dataroot`)."""
    out = Path(out).resolve()
    check_target(out, overwrite)  # the synthetic release's own rule: only an empty folder, unless overwrite
    source = out.parent / f".{out.name}.nuscenes-{os.getpid()}"
    single = dataclasses.replace(cfg, camera_sweeps=False, lidar_sweeps=False, pixel_sidecars=False)
    lidar = lidar_spec(cfg)  # the grid the world's LiDAR casts on
    try:
        generate_release(source, single, overwrite=True, progress=progress)
        reader = NuScenesReader(source, cfg.version)
        names = {s.name for s in reader.sequences()}
        train_split, val_split = SPLITS[cfg.version]
        splits = create_splits_scenes()
        train = [s for s in splits[train_split] if s in names]
        val = [s for s in splits[val_split] if s in names]
        return write_waymo(reader, out, train, val, types_from_nuscenes_fine, lidar.elevations(),
                           lidar.azimuth_steps, overwrite=overwrite)
    finally:
        shutil.rmtree(source, ignore_errors=True)
