"""mmdetection3d plugin: bench3d's camera encoders as mmdet3d backbones, so a GeoMIM or MIM4D encoder pretrained
here can be finetuned inside an mmdet3d config.

    custom_imports = dict(imports=['bench3d.interop.mmdet3d_plugin'], allow_failed_imports=False)
    model = dict(
        data_preprocessor=dict(type='Det3DDataPreprocessor', **IMAGENET_PREPROCESSING, pad_size_divisor=32),
        backbone=dict(type='Bench3DSwin', checkpoint='results/<run>/checkpoint.pt'),   # GeoMIM: Swin
        neck=dict(type='mmdet.FPN', in_channels=[64, 128, 256], ...))                  # tiny: 2C, 4C, 8C

`Bench3DSwin` (camera_swin: GeoMIM), `Bench3DConvNeXt` (camera_convnext: MIM4D) and `Bench3DCameraBackbone`
(any registered camera type, named by `encoder`). With `checkpoint`, the encoder is built from the settings stored
in that pretraining checkpoint and loaded strictly (`load_backbone_state`: same config, every key); settings given
in the config must then agree with the stored ones. Without it, the encoder is randomly initialised (bench3d's
seeded init). Input: the data preprocessor's float images (N, 3, H, W); bench3d's encoders expect ImageNet
mean/std on RGB, which is what `IMAGENET_PREPROCESSING` gives mmdet3d. Output: a tuple of maps at strides
(8, 16, 32) (`out_indices` picks some), channels in `Bench3DCameraBackbone.channels`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from mmdet3d.registry import MODELS
from mmengine.model import BaseModule

import bench3d.models.camera  # noqa: F401  (registers the camera backbone types)
from bench3d.errors import ConfigError
from bench3d.models.backbone import backbone_types, build_backbone, config_from_record
from bench3d.models.camera.base import IMAGENET_MEAN, IMAGENET_STD, CameraBackbone
from bench3d.models.checkpoint import load_backbone_state, read_checkpoint

#: mmdet3d `Det3DDataPreprocessor` settings equal to bench3d's `CameraBackbone.normalise` (0..255 scale, RGB).
IMAGENET_PREPROCESSING = {"mean": [255 * m for m in IMAGENET_MEAN], "std": [255 * s for s in IMAGENET_STD],
                          "bgr_to_rgb": True}


def _encoder_config(encoder: str, settings: dict[str, Any], checkpoint: str | None, name: str
                    ) -> tuple[Any, dict[str, Any] | None]:
    """The encoder's config and, with a checkpoint, its contents (read once, loaded from by the caller)."""
    if encoder not in backbone_types("camera"):
        raise ConfigError(f"backbone encoder {encoder!r}: not a bench3d camera encoder; known: "
                          f"{backbone_types('camera')}")
    if checkpoint is None:
        return config_from_record({"type": encoder, **settings}, "mmdet3d backbone config"), None
    ckpt = read_checkpoint(checkpoint)
    if name not in ckpt["configs"]:
        raise ConfigError(f"{checkpoint}: no backbone {name!r}; it holds {sorted(ckpt['configs'])} "
                          "(set checkpoint_backbone)")
    stored = ckpt["configs"][name]
    if stored.get("type") != encoder:
        raise ConfigError(f"{checkpoint}: backbone {name!r} is a {stored.get('type')}, not {encoder}; use the "
                          "plugin class of that encoder")
    config = config_from_record(stored, f"{checkpoint} configs.{name}")
    asked = config_from_record({**stored, **settings}, "the mmdet3d backbone config's settings")
    if asked != config:  # refused before building: the strict load would refuse it after
        raise ConfigError(f"{checkpoint}: backbone {name!r} was pretrained as {config.to_record()}; the config asks "
                          f"for {settings}; drop those settings or use a checkpoint pretrained with them")
    return config, ckpt


@MODELS.register_module()
class Bench3DCameraBackbone(BaseModule):
    """Extension point for mmdet3d: any bench3d camera encoder (`encoder` = its type name) as an mmdet3d backbone.

    checkpoint: a bench3d pretraining checkpoint; checkpoint_backbone: which of its backbones (default `camera`).
    out_indices: which of the encoder's maps (strides 8, 16, 32) to return. frozen: no gradients, eval-mode norms.
    Other keyword arguments are the encoder's settings (e.g. size='paper').
    """

    def __init__(self, encoder: str, checkpoint: str | None = None, checkpoint_backbone: str = "camera",
                 out_indices: tuple[int, ...] | None = None, frozen: bool = False,
                 init_cfg: dict | None = None, **settings: Any) -> None:
        super().__init__(init_cfg)
        config, contents = _encoder_config(encoder, settings, checkpoint, checkpoint_backbone)
        self.encoder: CameraBackbone = build_backbone(config)  # type: ignore[assignment]
        if checkpoint is not None:
            load_backbone_state(self.encoder, Path(checkpoint), checkpoint_backbone, contents=contents)
        levels = len(self.encoder.channels)
        self.out_indices = tuple(range(levels)) if out_indices is None else tuple(out_indices)
        if not self.out_indices or any(not 0 <= i < levels for i in self.out_indices):
            raise ConfigError(f"out_indices {out_indices}: pick from 0..{levels - 1} (strides {self.encoder.strides})")
        self.channels = tuple(self.encoder.channels[i] for i in self.out_indices)
        self.strides = tuple(self.encoder.strides[i] for i in self.out_indices)
        self.frozen = frozen
        if frozen:
            self.encoder.requires_grad_(False)

    def train(self, mode: bool = True) -> Bench3DCameraBackbone:
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        maps = self.encoder.features(x)
        return tuple(maps[i] for i in self.out_indices)


@MODELS.register_module()
class Bench3DSwin(Bench3DCameraBackbone):
    """bench3d's no-shift Swin (GeoMIM's encoder): tiny (C=32: maps 64, 128, 256) or paper (Swin-B)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(encoder="camera_swin", **kwargs)


@MODELS.register_module()
class Bench3DConvNeXt(Bench3DCameraBackbone):
    """bench3d's ConvNeXt (MIM4D's encoder): tiny (maps 64, 128, 256) or paper (ConvNeXt-B)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(encoder="camera_convnext", **kwargs)
