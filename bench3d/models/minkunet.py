"""MinkUNet: the sparse residual voxel UNet of the image-to-LiDAR literature (Res16UNet34C for `paper`).

Layout (MinkowskiEngine's Res16UNet, as used by SLidR / SuperFlow / LiMA): a stem conv at stride 1;
four encoder stages, each a 2x2x2 stride-2 conv then residual BasicBlocks; four decoder stages, each a
2x2x2 transposed conv back to the finer sites, concatenation with the encoder skip at that stride
(upsampled features first), then BasicBlocks. Output: per-voxel features of `decoder_channels[-1]`.
Task heads (the 1x1 classifier of a linear probe, pretraining projections) live with the protocols.

Parameter names do not depend on the backend (spconv and torch convs share names and shapes), so a
state dict saved with one backend loads with `strict=True` into the other.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from bench3d.errors import ConfigError, UnknownNameError
from bench3d.models.sparse import (
    Backend,
    BackendChoice,
    ConvKind,
    SparseBatchNorm,
    relu,
    resolve_backend,
    sparse_conv3d,
    sparse_input,
)
from bench3d.models.sparse.layout import init_kaiming_fan_out
from bench3d.models.voxelize import Voxels

logger = logging.getLogger(__name__)

PresetName = Literal["paper", "tiny"]
Stages4 = tuple[int, int, int, int]


class MinkUNetConfig(BaseModel):
    """Widths and depths of the UNet; `from_preset('paper' | 'tiny')` gives the two standard sizes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_channels: int = Field(default=1, ge=1, description="per-voxel input features (SLidR: intensity)")
    stem_channels: int = Field(default=32, ge=1)
    stem_kernel_size: int = Field(default=3, ge=1, description="odd; SLidR's `kernel_size: 3`")
    encoder_channels: Stages4 = (32, 64, 128, 256)
    encoder_blocks: Stages4 = (2, 3, 4, 6)
    decoder_channels: Stages4 = (256, 128, 96, 96)
    decoder_blocks: Stages4 = (2, 2, 2, 2)
    bn_momentum: float = Field(default=0.05, gt=0, le=1, description="torch convention; SLidR uses 0.05")
    backend: BackendChoice = "auto"

    @model_validator(mode="after")
    def _check(self) -> MinkUNetConfig:
        if self.stem_kernel_size % 2 == 0:
            raise ValueError(f"stem_kernel_size must be odd (submanifold conv), got {self.stem_kernel_size}")
        for name in ("encoder_channels", "encoder_blocks", "decoder_channels", "decoder_blocks"):
            if min(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1 everywhere, got {getattr(self, name)}")
        return self

    @property
    def out_channels(self) -> int:
        return self.decoder_channels[-1]

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> MinkUNetConfig:
        """`paper` = MinkUNet-34 (Res16UNet34C); `tiny` = narrow one-block-per-stage net for CPU and CI."""
        if name not in PRESETS:
            raise UnknownNameError("MinkUNet preset", name, list(PRESETS))
        try:
            return cls(**{**PRESETS[name], **overrides})
        except ValueError as error:
            raise ConfigError(f"MinkUNet preset {name!r} with overrides {overrides}: {error}") from error


PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},  # the field defaults are Res16UNet34C
    "tiny": {
        "stem_channels": 16,
        "encoder_channels": (16, 32, 48, 64),
        "encoder_blocks": (1, 1, 1, 1),
        "decoder_channels": (64, 48, 32, 32),
        "decoder_blocks": (1, 1, 1, 1),
        "bn_momentum": 0.1,
    },
}


class ConvBNReLU(nn.Module):
    def __init__(self, conv: nn.Module, channels: int, bn_momentum: float) -> None:
        super().__init__()
        self.conv = conv
        self.bn = SparseBatchNorm(channels, momentum=bn_momentum)

    def forward(self, x: Any) -> Any:
        return relu(self.bn(self.conv(x)))


@dataclass(frozen=True)
class LayerFactory:
    """Builds the layers of one network on one backend, naming spconv site maps per UNet level.

    Level l runs at stride 2**l. Submanifold convs of level l share the map "subm{l}k{k}"; the strided conv
    from level l to l+1 owns "down{l}", which the transposed conv from l+1 back to l reuses.
    """

    backend: Backend
    bn_momentum: float

    def submanifold(self, in_channels: int, out_channels: int, kernel_size: int, level: int) -> nn.Module:
        key = f"subm{level}k{kernel_size}"
        return sparse_conv3d(self.backend, in_channels, out_channels, kernel_size, indice_key=key)

    def down(self, channels: int, level: int) -> ConvBNReLU:
        conv = sparse_conv3d(self.backend, channels, channels, 2, ConvKind.DOWN, indice_key=f"down{level}")
        return ConvBNReLU(conv, channels, self.bn_momentum)

    def up(self, in_channels: int, out_channels: int, level: int) -> ConvBNReLU:
        key = f"down{level}"
        conv = sparse_conv3d(self.backend, in_channels, out_channels, 2, ConvKind.UP, indice_key=key)
        return ConvBNReLU(conv, out_channels, self.bn_momentum)

    def norm(self, channels: int) -> SparseBatchNorm:
        return SparseBatchNorm(channels, momentum=self.bn_momentum)

    def blocks(self, in_channels: int, channels: int, count: int, level: int) -> nn.Sequential:
        widths = [in_channels] + [channels] * (count - 1)
        return nn.Sequential(*(BasicBlock(self, width, channels, level) for width in widths))


class BasicBlock(nn.Module):
    """conv3-BN-ReLU-conv3-BN + shortcut (1x1 conv + BN when the width changes), then ReLU."""

    def __init__(self, layers: LayerFactory, in_channels: int, channels: int, level: int) -> None:
        super().__init__()
        self.conv1 = layers.submanifold(in_channels, channels, 3, level)
        self.bn1 = layers.norm(channels)
        self.conv2 = layers.submanifold(channels, channels, 3, level)
        self.bn2 = layers.norm(channels)
        self.shortcut: nn.Module | None = None
        if in_channels != channels:
            projection = layers.submanifold(in_channels, channels, 1, level)
            self.shortcut = nn.Sequential(projection, layers.norm(channels))

    def forward(self, x: Any) -> Any:
        out = self.bn2(self.conv2(relu(self.bn1(self.conv1(x)))))
        residual = x if self.shortcut is None else self.shortcut(x)
        return out.replace_feature(torch.relu(out.features + residual.features))


class EncoderStage(nn.Module):
    """Level l-1 -> l: 2x2x2 stride-2 conv (keeps the width, as in Res16UNet), then BasicBlocks."""

    def __init__(
        self, layers: LayerFactory, in_channels: int, channels: int, blocks: int, level: int
    ) -> None:
        super().__init__()
        self.down = layers.down(in_channels, level - 1)
        self.blocks = layers.blocks(in_channels, channels, blocks, level)

    def forward(self, x: Any) -> Any:
        return self.blocks(self.down(x))


class DecoderStage(nn.Module):
    """Level l+1 -> l: 2x2x2 transposed conv, concat [upsampled, skip of level l], then BasicBlocks."""

    def __init__(
        self,
        layers: LayerFactory,
        in_channels: int,
        channels: int,
        skip_channels: int,
        blocks: int,
        level: int,
    ) -> None:
        super().__init__()
        self.up = layers.up(in_channels, channels, level)
        self.blocks = layers.blocks(channels + skip_channels, channels, blocks, level)

    def forward(self, x: Any, skip: Any) -> Any:
        up = self.up(x)
        return self.blocks(up.replace_feature(torch.cat([up.features, skip.features], dim=1)))


class MinkUNet(nn.Module):
    """Sparse voxel UNet: (voxel coords, voxel features) -> per-voxel features (N_voxels, out_channels)."""

    def __init__(self, config: MinkUNetConfig) -> None:
        super().__init__()
        self.config = config
        self.backend = resolve_backend(config.backend)
        # Layers initialise themselves differently per backend; fork the RNG so that construction draws
        # nothing and `reset_parameters` gives identical weights on both backends for one seed.
        with torch.random.fork_rng(devices=[]):
            self._build(LayerFactory(self.backend, config.bn_momentum))
        self.reset_parameters()
        num_parameters = sum(p.numel() for p in self.parameters())
        logger.debug("MinkUNet on the %s backend: %d parameters", self.backend, num_parameters)

    def _build(self, layers: LayerFactory) -> None:
        c = self.config
        stem = layers.submanifold(c.in_channels, c.stem_channels, c.stem_kernel_size, level=0)
        self.stem = ConvBNReLU(stem, c.stem_channels, c.bn_momentum)
        encoder_in = (c.stem_channels, *c.encoder_channels[:3])
        self.encoder = nn.ModuleList(
            EncoderStage(layers, encoder_in[i], c.encoder_channels[i], c.encoder_blocks[i], level=i + 1)
            for i in range(4)
        )
        # Decoder stage i returns from level 4 - i to level 3 - i and concatenates that level's skip.
        skip_channels = (c.encoder_channels[2], c.encoder_channels[1], c.encoder_channels[0], c.stem_channels)
        decoder_in = (c.encoder_channels[3], *c.decoder_channels[:3])
        self.decoder = nn.ModuleList(
            DecoderStage(
                layers,
                decoder_in[i],
                c.decoder_channels[i],
                skip_channels[i],
                c.decoder_blocks[i],
                level=3 - i,
            )
            for i in range(4)
        )

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    def reset_parameters(self) -> None:
        """He (fan-out) conv weights, BN = identity: identical init on both backends for one seed."""
        for name, parameter in self.named_parameters():
            if parameter.dim() == 5:
                init_kaiming_fan_out(parameter)
            elif name.endswith("bias"):
                nn.init.zeros_(parameter)
        for module in self.modules():
            if isinstance(module, SparseBatchNorm):
                module.reset_parameters()

    def forward(self, coords: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """coords (N, 4) = (batch, x, y, z) unique integers; features (N, in_channels).

        Output row i belongs to input row i, on both backends.
        """
        if features.dim() != 2 or features.shape[1] != self.config.in_channels:
            raise ValueError(
                f"expected features (N, {self.config.in_channels}), got shape {tuple(features.shape)}"
            )
        x = self.stem(sparse_input(self.backend, coords, features))
        skips = [x]
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        skips.pop()  # the deepest level is the decoder's input, not a skip
        for stage in self.decoder:
            x = stage(x, skips.pop())
        return x.features

    def forward_points(self, voxels: Voxels) -> torch.Tensor:
        """Per-point features (N_points, out_channels): voxel features copied back via the inverse map."""
        return voxels.to_points(self(voxels.coords, voxels.features))
