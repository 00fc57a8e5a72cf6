"""The typed list of pretraining augmentations a card may give (`augmentations:`); `methods.augment` applies
them. Each entry names its `kind`; the defaults are the published values of the method named in its docstring."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, PositiveInt

from bench3d.methods.settings import Settings


class RotationZ(Settings):
    """Rotation of the cloud about the z axis by an angle uniform in [0, max_degrees) (SLidR `Rotation_z`)."""

    kind: Literal["rotation_z"] = "rotation_z"
    max_degrees: float = Field(360.0, gt=0, le=360)


class FlipXY(Settings):
    """Negate x, then y, each with probability p (SLidR `FlipAxis`)."""

    kind: Literal["flip_xy"] = "flip_xy"
    p: float = Field(0.5, ge=0, le=1)


class ScaleCloud(Settings):
    """Scale the cloud's xyz by a factor uniform in [low, high] (SuperFlow: 0.95-1.05)."""

    kind: Literal["scale"] = "scale"
    low: float = Field(0.95, gt=0)
    high: float = Field(1.05, gt=0)


class DropCuboids(Settings):
    """Drop the points inside one cuboid centred on a random point, its side a fraction uniform in
    [0, max_fraction) of the cloud's extent per axis; undone when a camera would keep fewer than
    `min_pairs_per_camera` pairs (SLidR `DropCuboids`: 0.2, 1024)."""

    kind: Literal["drop_cuboids"] = "drop_cuboids"
    max_fraction: float = Field(0.2, gt=0, le=1)
    min_pairs_per_camera: int = Field(1024, ge=0)


class ResizedCrop(Settings):
    """Per camera, a random crop (area fraction uniform in `scale`, aspect W/H log-uniform in `ratio`, as
    torchvision's RandomResizedCrop) resized to `size` (H, W); redrawn until more than `min_pairs` pairs or a
    fraction `min_kept` of the camera's pairs survive (SLidR: 224x416, 0.3-1.0, 14/9-17/9, 1024, 0.75), at
    most `attempts` times, then the whole image is resized."""

    kind: Literal["resized_crop"] = "resized_crop"
    size: list[PositiveInt] = Field(min_length=2, max_length=2)
    scale: list[float] = Field([0.3, 1.0], min_length=2, max_length=2)
    ratio: list[float] = Field([14 / 9, 17 / 9], min_length=2, max_length=2)
    min_pairs: int = Field(1024, ge=0)
    min_kept: float = Field(0.75, ge=0, le=1)
    attempts: int = Field(20, gt=0)


class HorizontalFlip(Settings):
    """Mirror each camera's image left-right with probability p (SLidR `FlipHorizontal`)."""

    kind: Literal["horizontal_flip"] = "horizontal_flip"
    p: float = Field(0.5, ge=0, le=1)


Augmentation = Annotated[Union[RotationZ, FlipXY, ScaleCloud, DropCuboids, ResizedCrop, HorizontalFlip],
                         Field(discriminator="kind")]
CLOUD_KINDS = frozenset({"rotation_z", "flip_xy", "scale"})  # move the student's input only
