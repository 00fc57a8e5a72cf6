"""The synthetic world as a Waymo v2 release: rendered once as a nuScenes release without sweeps and written
again as Waymo Parquet components (`data/rewrite.py`) on its own LiDAR's range-image grid (its beam elevations
as the beam inclinations, its azimuth steps as the columns). The nuScenes train / val scenes become the
`training` / `validation` segments."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bench3d.data.rewrite import write_world_as
from bench3d.data.waymo.writer import write_waymo
from bench3d.labels.waymo import types_from_nuscenes_fine
from bench3d.synth import SynthConfig
from bench3d.synth.scene import lidar_spec


def generate_waymo(out: Path, cfg: SynthConfig, overwrite: bool = False, progress=None) -> Path:
    """Write the world of `cfg` as a Waymo v2 release at `out` (its `--dataroot`)."""
    lidar = lidar_spec(cfg)  # the grid the world's LiDAR casts on
    write = partial(write_waymo, label_map=types_from_nuscenes_fine, beam_inclinations=lidar.elevations(),
                    width=lidar.azimuth_steps, overwrite=overwrite)
    return write_world_as(out, cfg, write, overwrite=overwrite, progress=progress)
