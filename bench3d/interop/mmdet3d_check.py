"""Check an mmdet3d export on real frames: the same per-point features from mmdet3d's MinkUNetBackbone, built
from the export's own config file and loaded strictly, as from bench3d's encoder loaded from the checkpoint.

Needs the `openmmlab` extra. mmdet3d's `Det3DDataPreprocessor` voxelises with hard-coded `.cuda()` calls, so
the check never runs it: bench3d voxelises (the voxels its encoder sees) and calls the backbone's
`forward(voxel_features, coors)` through `backbone_inputs`. spconv's CPU kernels need one torch thread (with
more, its scatter-add returns wrong features), so on CPU the check runs on one thread and restores the count.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from bench3d.datasets import resolve_dataset
from bench3d.errors import ConfigError
from bench3d.interop.mmdet3d_minkunet import backbone_inputs
from bench3d.models.backbone import config_from_record
from bench3d.models.checkpoint import load_backbone_state, read_checkpoint
from bench3d.models.encoder import LidarEncoder
from bench3d.models.voxelize import voxelize_batch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParityReport:
    """How far mmdet3d's features are from bench3d's on the frames checked."""

    frames: int
    points: int
    voxels: int
    max_abs_difference: float
    max_abs_feature: float


def mmdet3d_backbone(export: Path) -> torch.nn.Module:
    """mmdet3d's backbone from the export's .py config, with the .pth loaded strictly (eval mode)."""
    try:
        from mmdet3d.registry import MODELS
        from mmdet3d.utils import register_all_modules
        from mmengine.config import Config
        from mmengine.runner import load_checkpoint
    except ImportError as exc:
        raise ConfigError(f"checking an mmdet3d export needs the openmmlab extra ({exc}); install it with "
                          "`make setup-openmmlab`") from None
    register_all_modules(init_default_scope=False)
    config = export.with_suffix(".py")
    if not config.is_file():
        raise ConfigError(f"{config} not found: the export's config is written beside its .pth; export again")
    backbone_cfg = Config.fromfile(config).model.backbone
    prefix = backbone_cfg.get("init_cfg", {}).get("prefix", "")  # the export names its key prefix there
    backbone = MODELS.build(backbone_cfg)
    load_checkpoint(backbone, str(export), map_location="cpu", strict=True,
                    revise_keys=[(f"^{re.escape(prefix)}", "")] if prefix else [(r"^module\.", "")])
    return backbone.eval()


def check_export(export: Path, checkpoint: Path, backbone: str = "lidar", dataset: str = "synth",
                 dataroot: Path | None = None, frames: int = 4) -> ParityReport:
    """Compare the export with bench3d's encoder on the first `frames` keyframes of `dataset`."""
    ckpt = read_checkpoint(checkpoint)
    if backbone not in ckpt["configs"]:
        raise ConfigError(f"{checkpoint}: no backbone {backbone!r}; it holds {sorted(ckpt['configs'])}")
    encoder = LidarEncoder(config_from_record(ckpt["configs"][backbone], f"{checkpoint} configs.{backbone}"))
    load_backbone_state(encoder, checkpoint, backbone, contents=ckpt)
    encoder.eval()
    theirs = mmdet3d_backbone(Path(export))
    reader = resolve_dataset(dataset, dataroot).open_reader()
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][:frames]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    diff = scale = 0.0
    points = voxels = 0
    try:
        with torch.no_grad():
            for token in tokens:
                cloud = torch.from_numpy(reader.frame(token, cameras=(), labels=False, boxes=False).points).float()
                ours = encoder([cloud])[0]
                grid = voxelize_batch([cloud[:, :3]], encoder.voxels, features=[encoder.point_features(cloud)])
                padded, coors, m = backbone_inputs(grid.coords, grid.features)
                mine = grid.to_points(theirs(padded, coors)[:m])
                diff = max(diff, float((ours - mine).abs().max()))
                scale = max(scale, float(ours.abs().max()))
                points, voxels = points + len(cloud), voxels + m
    finally:
        torch.set_num_threads(threads)
    report = ParityReport(len(tokens), points, voxels, diff, scale)
    log.info("mmdet3d export check: %s", report)
    return report
