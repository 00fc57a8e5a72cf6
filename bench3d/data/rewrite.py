"""Writing the synthetic world again in another dataset's format: the one render-then-rewrite path of
`bench3d synth --format semantickitti|waymo`."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from nuscenes.utils.splits import create_splits_scenes

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.reader import Reader
from bench3d.synth import SynthConfig, generate_release
from bench3d.synth.generate import check_target

#: The devkit's split names of each synthetic version: its train / val scenes become the other format's.
SPLITS = {"v1.0-mini": ("mini_train", "mini_val"), "v1.0-trainval": ("train", "val")}

Writer = Callable[[Reader, Path, list[str], list[str]], Path]


def write_world_as(out: Path, cfg: SynthConfig, write: Writer, overwrite: bool = False, progress=None) -> Path:
    """Render the world of `cfg` once as a nuScenes release without sweeps (in a hidden sibling folder, removed
    after) and write its train and val scenes again with `write(reader, out, train, val)`."""
    out = Path(out).resolve()
    check_target(out, overwrite)  # the synthetic release's own rule: only an empty folder, unless overwrite
    source = out.parent / f".{out.name}.nuscenes-{os.getpid()}"
    single = dataclasses.replace(cfg, camera_sweeps=False, lidar_sweeps=False, pixel_sidecars=False)
    try:
        generate_release(source, single, overwrite=True, progress=progress)
        reader = NuScenesReader(source, cfg.version)
        names = {s.name for s in reader.sequences()}
        train_split, val_split = SPLITS[cfg.version]
        splits = create_splits_scenes()
        return write(reader, out, [s for s in splits[train_split] if s in names],
                     [s for s in splits[val_split] if s in names])
    finally:
        shutil.rmtree(source, ignore_errors=True)
