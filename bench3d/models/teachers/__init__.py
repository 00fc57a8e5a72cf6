"""Frozen 2D teachers for image-to-LiDAR distillation, chosen by name (a card's `teacher.name`):

- `appearance` — the CI teacher: hand-made colour and texture features, no weights (`appearance.py`);
- `efficientnet_lite0` — real ImageNet weights shipped in a package: the default on real data;
- `dinov2` — a DINOv2 ViT from `--teacher-checkpoint` (ScaLR, SuperFlow, LiMA);
- `resnet50` — a ResNet-50, MoCo-v2 or torchvision layout, from `--teacher-checkpoint` (SLidR, CMCR);
- `auto` — `appearance` on a synthetic release, `efficientnet_lite0` on a real one; with a checkpoint, the
  kind its keys show.

`build_teacher` returns the module with its `identity` (kind, layer, input size, weights digest), which
keys the feature cache and is written into the pretraining's resolved config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench3d.errors import ConfigError
from bench3d.models.teachers.appearance import AppearanceTeacher
from bench3d.models.teachers.base import ImageTeacher, read_checkpoint
from bench3d.models.teachers.efficientnet import EfficientNetLite0Teacher
from bench3d.models.teachers.resnet import ResNet50Teacher
from bench3d.models.teachers.vit import DinoV2Teacher

TEACHERS: dict[str, type[ImageTeacher]] = {t.kind: t for t in (AppearanceTeacher, EfficientNetLite0Teacher,
                                                                 DinoV2Teacher, ResNet50Teacher)}
WITH_CHECKPOINT = ("dinov2", "resnet50")

__all__ = ["AppearanceTeacher", "DinoV2Teacher", "EfficientNetLite0Teacher", "ImageTeacher", "ResNet50Teacher",
           "TEACHERS", "WITH_CHECKPOINT", "build_teacher", "checkpoint_kind", "resolve_teacher_kind"]


def checkpoint_kind(path: str | Path) -> str:
    """`dinov2` or `resnet50`, from a checkpoint's keys."""
    state = read_checkpoint(Path(path), "auto", "a DINOv2 ViT or a ResNet-50 state dict")
    if "cls_token" in state:
        return "dinov2"
    if any(k.endswith("layer4.0.conv1.weight") for k in state):
        return "resnet50"
    raise ConfigError(f"--teacher-checkpoint {path}: neither a DINOv2 ViT (cls_token, pos_embed, blocks.N) nor a "
                      f"ResNet-50 (conv1, layer1..4); keys like {sorted(state)[:4]}")


def resolve_teacher_kind(name: str, synthetic: bool | None, checkpoint: str | Path | None) -> str:
    """The concrete teacher a `teacher.name` means on a synthetic (True) or real (False) release."""
    if name != "auto":
        return name
    if checkpoint:
        return checkpoint_kind(checkpoint)
    if synthetic is None:
        raise ConfigError("teacher.name 'auto' depends on the dataset (appearance on a synthetic release, "
                          "efficientnet_lite0 on a real one), and none was given; name the teacher in the preset")
    return "appearance" if synthetic else "efficientnet_lite0"


def build_teacher(kind: str, checkpoint: str | Path | None = None, layer: str | None = None,
                  input_size: list[int] | None = None, dim: int = 64, stride: int = 2) -> ImageTeacher:
    """The frozen teacher `kind` (already resolved, never `auto`), loaded strictly where it has weights."""
    from bench3d.engine.disk_cache import files_digest

    if kind not in TEACHERS:
        raise ConfigError(f"teacher {kind!r}: unknown; choose one of {sorted(TEACHERS)} (or auto)")
    cls = TEACHERS[kind]
    if kind in WITH_CHECKPOINT and not checkpoint:
        raise ConfigError(f"the {kind} teacher needs its weights: pass --teacher-checkpoint PATH "
                          f"({'a DINOv2 hub state dict' if kind == 'dinov2' else 'MoCo-v2 moco_v2_800ep_pretrain.pth.tar'})")
    if kind not in WITH_CHECKPOINT and checkpoint:
        raise ConfigError(f"--teacher-checkpoint {checkpoint}: the {kind} teacher takes no checkpoint; "
                          f"set teacher.name to one of {list(WITH_CHECKPOINT)} (or auto)")
    layer = layer or cls.layers[0]
    if layer not in cls.layers and not (kind == "appearance" and layer == "default"):
        raise ConfigError(f"teacher.layer {layer!r}: the {kind} teacher has layers {list(cls.layers)}")
    size = tuple(input_size) if input_size else None
    identity: dict[str, Any] = {"kind": kind, "layer": layer, "input_size": list(size) if size else None}
    teacher: ImageTeacher
    if kind == "appearance":
        teacher = AppearanceTeacher(dim=dim, stride=stride, input_size=size)  # type: ignore[arg-type]
        identity.update(dim=dim, stride=stride)
    elif kind == "efficientnet_lite0":
        teacher = EfficientNetLite0Teacher(layer=layer, input_size=size)
        from bench3d.models.camera.efficientnet_lite import imagenet_weights_path

        identity["weights"] = files_digest([imagenet_weights_path()])
    else:
        teacher = cls(checkpoint, layer=layer, input_size=size)  # type: ignore[call-arg]
        identity["weights"] = files_digest([Path(checkpoint)])  # type: ignore[arg-type]
    teacher.identity = identity
    return teacher
