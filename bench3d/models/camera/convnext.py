"""A ConvNeXt camera encoder (as MIM4D uses), in plain torch.

Stem (4 x 4 stride-4 conv + LayerNorm over channels), four stages of ConvNeXt blocks (depthwise 7 x 7 conv,
channels-last LayerNorm, Linear 4x expansion, GELU, Linear back, layer scale initialised to 1e-6, residual)
and downsampling layers (LayerNorm + 2 x 2 stride-2 conv) between stages. Outputs the maps of stages 2, 3, 4
(each with its own LayerNorm) at strides (8, 16, 32).

Sizes round down: the strided convs drop a partial last window, so the map at stride s is (H // s, W // s).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.backbone import BackboneConfig, register_backbone
from bench3d.models.camera.base import CameraBackbone
from bench3d.models.camera.layers import init_weights

LAYER_SCALE_INIT = 1e-6
#: (dims, depths) per size; "paper" is ConvNeXt-B.
CONVNEXT_SIZES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "tiny": ((32, 64, 128, 256), (1, 1, 2, 1)),
    "paper": ((128, 256, 512, 1024), (3, 3, 27, 3)),
}


class ConvNeXtConfig(BackboneConfig):
    """Settings of the ConvNeXt camera backbone: `tiny` (dims 32..256, depths 1-1-2-1) or `paper` (ConvNeXt-B)."""

    type_name = "camera_convnext"
    modality = "camera"

    size: Literal["tiny", "paper"] = "tiny"


class LayerNorm2d(nn.LayerNorm):
    """LayerNorm over the channels of a (N, C, H, W) map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.permute(0, 2, 3, 1)
        x = F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class ConvNeXtBlock(nn.Module):
    """dwconv 7x7 -> LayerNorm -> Linear(4C) -> GELU -> Linear(C) -> layer scale, plus the input."""

    def __init__(self, dim: int, layer_scale_init: float = LAYER_SCALE_INIT) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale_init))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).permute(0, 2, 3, 1)  # (N, H, W, C)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXtBackbone(CameraBackbone):
    """ConvNeXt camera encoder: maps at strides (8, 16, 32) with channels dims[1:]."""

    config: ConvNeXtConfig

    def __init__(self, config: ConvNeXtConfig) -> None:
        super().__init__(config)
        dims, depths = CONVNEXT_SIZES[config.size]
        self.channels = tuple(dims[1:])
        self.strides = tuple(4 * 2 ** i for i in range(1, len(dims)))
        self.downsample = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], kernel_size=4, stride=4),
                                                       LayerNorm2d(dims[0], eps=1e-6))])
        self.downsample.extend(nn.Sequential(LayerNorm2d(dims[i], eps=1e-6),
                                             nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2))
                               for i in range(len(dims) - 1))
        self.stages = nn.ModuleList(nn.Sequential(*(ConvNeXtBlock(d) for _ in range(n)))
                                    for d, n in zip(dims, depths))
        self.out_norms = nn.ModuleList(LayerNorm2d(d, eps=1e-6) for d in dims[1:])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_weights(self)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        outs = []
        for i, (down, stage) in enumerate(zip(self.downsample, self.stages)):
            x = stage(down(x))
            if i >= 1:
                outs.append(self.out_norms[i - 1](x).contiguous())
        return outs


register_backbone(ConvNeXtBackbone, ConvNeXtConfig)
