"""A plain ViT camera encoder (generic / MAE-style pretraining), in plain torch.

Patch embedding (16 x 16 conv), a learned absolute position embedding resized bicubically to the input's
patch grid, pre-norm transformer blocks (multi-head self-attention via `scaled_dot_product_attention`, GELU
MLP) and a final LayerNorm. No class token. One output map at stride 16: (N, embed_dim, H // 16, W // 16);
an input that is not a multiple of 16 is cropped (floor) by the patch embedding.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.backbone import BackboneConfig, register_backbone
from bench3d.models.camera.base import CameraBackbone
from bench3d.models.camera.layers import Mlp, init_weights

PATCH_SIZE = 16
#: Patch grid the position embedding is stored at (a 224 x 224 image); resized to each input's grid.
POS_GRID = (14, 14)
#: (embed_dim, depth, heads) per size; "paper" is ViT-B/16.
VIT_SIZES: dict[str, tuple[int, int, int]] = {"tiny": (96, 4, 3), "paper": (768, 12, 12)}


class ViTConfig(BackboneConfig):
    """Settings of the plain ViT camera backbone: `tiny` (96 wide, 4 blocks, 3 heads) or `paper` (ViT-B/16)."""

    type_name = "camera_vit"
    modality = "camera"

    size: Literal["tiny", "paper"] = "tiny"


class Attention(nn.Module):
    """Multi-head self-attention over a token sequence (B, L, C)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(norm(x)), then x + mlp(norm(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class ViTBackbone(CameraBackbone):
    """Plain ViT camera encoder: one feature map (N, embed_dim, H // 16, W // 16) at stride 16."""

    config: ViTConfig

    def __init__(self, config: ViTConfig) -> None:
        super().__init__(config)
        dim, depth, heads = VIT_SIZES[config.size]
        self.channels = (dim,)
        self.strides = (PATCH_SIZE,)
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)
        self.pos_embed = nn.Parameter(torch.zeros(1, dim, *POS_GRID))
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        init_weights(self)

    def position_embedding(self, h: int, w: int) -> torch.Tensor:
        """The position embedding (1, dim, h, w) for an h x w patch grid (bicubic resize of the stored one)."""
        if (h, w) == POS_GRID:
            return self.pos_embed
        return F.interpolate(self.pos_embed, size=(h, w), mode="bicubic", align_corners=False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed(x)  # (N, C, H // 16, W // 16): the conv drops a partial last patch
        n, c, h, w = x.shape
        x = (x + self.position_embedding(h, w)).flatten(2).transpose(1, 2)  # (N, h * w, C)
        for block in self.blocks:
            x = block(x)
        x = self.norm(x)
        return [x.transpose(1, 2).reshape(n, c, h, w)]


register_backbone(ViTBackbone, ViTConfig)
