"""The camera backbone contract.

Input: uint8 images (N, H, W, 3) — N = batch x views, RGB, as the reader decodes them; each backbone owns
its normalisation (ImageNet mean/std unless its weights say otherwise). Output: a list of feature maps
(N, C_i, H / s_i, W / s_i), one per entry of `strides` (increasing), with `channels[i]` channels. The BEV
stack's neck fuses them to 1/16. `out_channels` is the channels of the last (coarsest) map.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from bench3d.models.backbone import Backbone

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class CameraBackbone(Backbone):
    """Extension point: a camera encoder. Subclasses set `channels` and `strides` in `__init__` and implement
    `features` on normalised float images (N, 3, H, W)."""

    modality: ClassVar = "camera"
    channels: tuple[int, ...]
    strides: tuple[int, ...]

    @property
    def out_channels(self) -> int:
        return self.channels[-1]

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) -> float (N, 3, H, W), ImageNet mean/std."""
        x = images.permute(0, 3, 1, 2).float() / 255.0
        mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        return (x - mean) / std

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        return self.features(self.normalise(images))
