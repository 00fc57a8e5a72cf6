"""The frozen 2D teacher contract of image-to-LiDAR distillation, and what every teacher shares.

A teacher maps uint8 images (B, H, W, 3) to feature maps (B, dim, h, w) whose grid covers the *whole* image:
it resizes its input (to its `input_size`, or to the nearest multiple of its stride), it never crops. So the
pixel (u, v) of an H x W image sits at the normalised position ((u + 0.5) / W, (v + 0.5) / H) of the map,
which is what `methods.distill.sample_features` assumes; a crop would shift every pair (by up to a patch).
Features are the chosen layer's raw output; a method normalises what it compares.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.errors import ConfigError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ImageTeacher(nn.Module):
    """Extension point: a frozen 2D encoder. Subclasses set `kind`, `dim`, `stride` and `layer`, and implement
    `features` on float images (B, 3, H', W') already resized to a multiple of `stride`."""

    kind: ClassVar[str]
    layers: ClassVar[tuple[str, ...]] = ("default",)  # the layer choices; the first is the default
    dim: int
    stride: int
    layer: str = "default"
    input_size: tuple[int, int] | None = None  # (H, W) the teacher's input; None: the image's size, rounded
    identity: dict = {}  # what makes its features (kind, layer, input, weights): the feature cache's key

    def train(self, mode: bool = True) -> ImageTeacher:  # a teacher never leaves eval mode
        return super().train(False)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def input_hw(self, h: int, w: int) -> tuple[int, int]:
        """The size the teacher sees an H x W image at: its input size, or H, W rounded to its stride."""
        if self.input_size is not None:
            return self.input_size
        s = self.stride
        return max(s, round(h / s) * s), max(s, round(w / s) * s)

    def prepare(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (B, H, W, 3) -> float (B, 3, H', W') in [0, 1] at the teacher's input size (resized whole)."""
        x = images.permute(0, 3, 1, 2).float() / 255.0
        size = self.input_hw(x.shape[2], x.shape[3])
        if size != tuple(x.shape[2:]):
            shrink = size[0] < x.shape[2] or size[1] < x.shape[3]
            x = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=shrink)
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.features(self.prepare(images))

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.forward(images)

    def freeze(self) -> None:
        self.requires_grad_(False)
        self.eval()


def imagenet_normalise(x: torch.Tensor) -> torch.Tensor:
    mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def check_input_size(kind: str, input_size: list[int] | tuple[int, int] | None, stride: int
                     ) -> tuple[int, int] | None:
    if input_size is None:
        return None
    h, w = int(input_size[0]), int(input_size[1])
    if h % stride or w % stride:
        raise ConfigError(f"teacher.input_size {[h, w]}: the {kind} teacher needs multiples of its stride {stride} "
                          f"(e.g. {[max(stride, round(h / stride) * stride), max(stride, round(w / stride) * stride)]})")
    return h, w


def read_checkpoint(path: Path, kind: str, what: str) -> dict[str, torch.Tensor]:
    """The state dict in `path` (unwrapped from a `state_dict` / `model` / `teacher` entry)."""
    if not path.is_file():
        raise ConfigError(f"--teacher-checkpoint {path}: file not found (give the path of {what})")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001  (pickles of other kinds, truncated files)
        raise ConfigError(f"--teacher-checkpoint {path}: not a torch checkpoint ({exc}); give {what}") from None
    for key in ("state_dict", "model", "teacher"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ConfigError(f"--teacher-checkpoint {path}: holds no tensor state dict; give {what}")
    return state
