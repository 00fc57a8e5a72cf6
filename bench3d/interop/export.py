"""Export a pretrained bench3d backbone in another framework's checkpoint format.

`export_backbone(checkpoint, backbone="lidar", to="mmdet3d", out=X.pth)` writes X.pth, an mmengine-style
`{"meta", "state_dict"}` that mmdet3d's `MinkUNetBackbone` loads with `strict=True`, and X.py, the mmdet3d
config fragment that builds that backbone (with `init_cfg` pointing at X.pth). Nothing is overwritten; the
weights are checked against the network the checkpoint's config builds before anything is written.
"""

from __future__ import annotations

import logging
import pprint
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench3d.engine.trainer import save_atomic
from bench3d.errors import ConfigError
from bench3d.interop import mmdet3d_minkunet as minkunet
from bench3d.models.backbone import config_from_record
from bench3d.models.checkpoint import load_backbone_state, read_checkpoint
from bench3d.models.encoder import INPUT_FEATURES, EncoderConfig, LidarEncoder
from bench3d.paths import write_text_atomic
from bench3d.results.provenance import file_sha256

log = logging.getLogger(__name__)

TARGETS = ("mmdet3d",)


@dataclass(frozen=True)
class Export:
    """What an export wrote."""

    weights: Path
    config: Path
    backbone_config: dict[str, Any]
    num_tensors: int


def _lidar_encoder(path: Path, ckpt: dict[str, Any], name: str) -> LidarEncoder:
    """The checkpoint's LiDAR backbone `name`, loaded strictly (what `bench3d run` would load)."""
    if name not in ckpt["backbones"]:
        raise ConfigError(f"{path}: no backbone {name!r}; it holds {sorted(ckpt['backbones'])} (--backbone NAME)")
    record = ckpt["configs"][name]
    if record.get("type") != EncoderConfig.type_name:
        raise ConfigError(f"{path}: backbone {name!r} is a {record.get('type')}; the mmdet3d export covers the LiDAR "
                          "MinkUNet (lidar_minkunet); camera encoders enter mmdet3d through the plugin "
                          "bench3d.interop.mmdet3d_plugin instead")
    encoder = LidarEncoder(config_from_record(record, f"{path} configs.{name}"))  # type: ignore[arg-type]
    load_backbone_state(encoder, path, name, contents=ckpt)
    return encoder


def _config_text(backbone: dict[str, Any], weights: Path, meta: dict[str, Any]) -> str:
    lines = [
        f"# Written by `bench3d export` from {meta['source']} (method {meta['method']}, backbone {meta['backbone']!r}).",
        f"# The backbone of mmdet3d's configs/{minkunet.MMDET3D_CONFIG} at this network's sizes; inherit this",
        "# file (`_base_`) from a task config, or copy `model.backbone`.",
        f"# bench3d's input per voxel: {meta['input_features']}; voxels {meta['voxels']} (m, or rho m / phi deg /",
        "# z m). Feed mmdet3d the same features (a transform before the data preprocessor) and the same voxel size",
        "# (data_preprocessor.voxel_layer.voxel_size; its minkunet voxeliser rounds where bench3d floors and keeps",
        "# one point per voxel where bench3d averages) for the pretrained weights to see what they learned.",
        "# conv_input.1 is an exact identity layer (mmdet3d's stem has two convs, bench3d's one).",
    ]
    init = {"type": "Pretrained", "checkpoint": str(weights)}
    if meta["key_prefix"]:  # mmengine's Pretrained init strips it
        init["prefix"] = meta["key_prefix"]
    backbone = {**backbone, "init_cfg": init}
    return "\n".join(lines) + "\nmodel = dict(backbone=" + pprint.pformat(backbone, sort_dicts=False) + ")\n"


def export_backbone(checkpoint: Path, out: Path, backbone: str = "lidar", to: str = "mmdet3d",
                    prefix: str = "") -> Export:
    """Write `out` (weights) and `out` with suffix .py (mmdet3d config) for backbone `backbone` of `checkpoint`.

    prefix: prepended to every key (`backbone.` makes the file loadable with `load_from` into a whole model).
    """
    if to not in TARGETS:
        raise ConfigError(f"--to {to!r}: unknown export target; known: {', '.join(TARGETS)}")
    if out.suffix != ".pth":
        raise ConfigError(f"--out {out}: give a .pth path (the mmdet3d config is written beside it as .py)")
    config_path = out.with_suffix(".py")
    for path in (out, config_path):
        if path.exists():
            raise ConfigError(f"{path} exists; choose a new --out (an export never overwrites)")
    checkpoint = Path(checkpoint)
    ckpt = read_checkpoint(checkpoint)
    encoder = _lidar_encoder(checkpoint, ckpt, backbone)
    backbone_cfg = minkunet.backbone_config(encoder.unet.config)
    state = minkunet.export_state(encoder.unet.state_dict(), encoder.unet.config, prefix=prefix)
    meta = {
        "source": str(checkpoint.resolve()), "source_sha256": file_sha256(checkpoint),
        "method": ckpt.get("method"), "backbone": backbone, "backbone_record": ckpt["configs"][backbone],
        "mmdet3d_backbone": backbone_cfg, "mmdet3d_config": minkunet.MMDET3D_CONFIG, "key_prefix": prefix,
        "weight_layout": "spconv-1 (k, k, k, C_in, C_out); mmdet3d's spconv loader converts it",
        "input_features": INPUT_FEATURES[encoder.config.in_features],
        "voxels": f"{encoder.config.coordinates} {encoder.config.voxel_size}",
    }
    weights = out.resolve()
    save_atomic({"meta": {"bench3d": meta}, "state_dict": state}, out)
    try:
        write_text_atomic(config_path, _config_text(backbone_cfg, weights, meta))
    except BaseException:
        out.unlink(missing_ok=True)  # both files or neither
        raise
    log.info("exported backbone %r of %s to %s (%d tensors)", backbone, checkpoint, out, len(state))
    return Export(out, config_path, backbone_cfg, len(state))

