"""The typed list of pretraining augmentations a card may give (`augmentations:`); `methods.augment` applies
them. Each entry names its `kind`; the defaults are the published values of the method named in its docstring."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, PositiveInt, model_validator

from bench3d.methods.settings import Settings


class RotationZ(Settings):
    """Rotation of the cloud about the z axis by an angle uniform in [0, max_degrees) (SLidR `Rotation_z`)."""

    kind: Literal["rotation_z"] = "rotation_z"
    max_degrees: float = Field(360.0, gt=0, le=360)


class FlipXY(Settings):
    """`each_axis`: negate x, then y, each with probability p (SLidR `FlipAxis`); `one_axis`: with probability
    p negate one of x, y chosen uniformly (ScaLR: `RandomApply(FlipXY, prob=2/3)`)."""

    kind: Literal["flip_xy"] = "flip_xy"
    p: float = Field(0.5, ge=0, le=1)
    mode: Literal["each_axis", "one_axis"] = "each_axis"


class ScaleCloud(Settings):
    """Scale the cloud's xyz by a factor uniform in [low, high] (SuperFlow: 0.95-1.05)."""

    kind: Literal["scale"] = "scale"
    low: float = Field(0.95, gt=0)
    high: float = Field(1.05, gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> ScaleCloud:
        if self.low > self.high:
            raise ValueError(f"scale: low {self.low} is above high {self.high}")
        return self


class LimitPoints(Settings):
    """Keep the `max_points` points nearest (in xyz) to a point drawn at random, when the cloud has more: a
    spatial crop redrawn every step (ScaLR `LimitNumPoints(random=True)`, 20,000)."""

    kind: Literal["limit_points"] = "limit_points"
    max_points: PositiveInt


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

    @model_validator(mode="after")
    def _ranges(self) -> ResizedCrop:
        if not 0 < self.scale[0] <= self.scale[1] <= 1:
            raise ValueError(f"resized_crop: scale {self.scale} must be an area range 0 < low <= high <= 1")
        if not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"resized_crop: ratio {self.ratio} must be an aspect range 0 < low <= high")
        return self


class HorizontalFlip(Settings):
    """Mirror each camera's image left-right with probability p (SLidR `FlipHorizontal`)."""

    kind: Literal["horizontal_flip"] = "horizontal_flip"
    p: float = Field(0.5, ge=0, le=1)


Augmentation = Annotated[Union[RotationZ, FlipXY, ScaleCloud, LimitPoints, DropCuboids, ResizedCrop,
                               HorizontalFlip], Field(discriminator="kind")]
CLOUD_KINDS = frozenset({"rotation_z", "flip_xy", "scale"})  # move the student's input only
IMAGE_KINDS = frozenset({"resized_crop", "horizontal_flip"})  # change what the teacher sees
