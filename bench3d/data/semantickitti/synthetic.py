"""The synthetic world as a SemanticKITTI release: rendered once as a nuScenes release without sweeps
(SemanticKITTI has none) and written again in SemanticKITTI's format (`data/rewrite.py`). The nuScenes train /
val scenes become the train sequences and sequence 08."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from bench3d.data.rewrite import write_world_as
from bench3d.data.semantickitti.writer import write_semantickitti
from bench3d.labels.semantickitti import raw_from_nuscenes_fine
from bench3d.synth import SynthConfig


def generate_semantickitti(out: Path, cfg: SynthConfig, overwrite: bool = False, progress=None) -> Path:
    """Write the world of `cfg` as a SemanticKITTI release at `out` (its `--dataroot`)."""
    write = partial(write_semantickitti, label_map=raw_from_nuscenes_fine, overwrite=overwrite)
    return write_world_as(out, cfg, write, overwrite=overwrite, progress=progress)
