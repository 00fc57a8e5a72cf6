"""A Swin-style hierarchical camera encoder WITHOUT shifted windows (as GeoMIM uses), in plain torch.

Patch embedding (4 x 4 conv + LayerNorm), four stages of pre-norm blocks with window multi-head
self-attention (7 x 7 windows, Swin's learned relative position bias, no shift) and a GELU MLP, and patch
merging (2 x 2 concat + LayerNorm + Linear to 2C) between stages. Maps are padded to a multiple of the window
size for attention (padded keys are masked out) and cropped back. Outputs the maps of stages 2, 3, 4 (each
with its own LayerNorm) at strides (8, 16, 32) with channels (2C, 4C, 8C).

Sizes round down: the patch embedding drops a partial last patch and patch merging drops an odd last
row/column, so the map at stride s is (H // s, W // s).

Two options serve masked image modelling (GeoMIM, MixMAE): `absolute_position` adds a learned position
embedding after the patch embedding (bicubically resized when the token grid differs from the one it was
made for), and `features(x, groups)` takes a group id per 1/32 cell: attention inside a window is blocked
between tokens of different groups, so one pass encodes each group as if the others were absent (patch
merging only ever merges tokens of one 1/32 cell, hence of one group).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.backbone import BackboneConfig, register_backbone
from bench3d.models.camera.base import CameraBackbone
from bench3d.models.camera.layers import Mlp, init_weights

PATCH_SIZE = 4
WINDOW_SIZE = 7
#: (C, depths, heads) per size; "paper" is Swin-B.
SWIN_SIZES: dict[str, tuple[int, tuple[int, ...], tuple[int, ...]]] = {
    "tiny": (32, (1, 1, 2, 1), (1, 2, 4, 8)),
    "paper": (128, (2, 2, 18, 2), (4, 8, 16, 32)),
}


class SwinConfig(BackboneConfig):
    """Settings of the no-shift Swin camera backbone: `tiny` (C=32, depths 1-1-2-1) or `paper` (Swin-B)."""

    type_name = "camera_swin"
    modality = "camera"

    size: Literal["tiny", "paper"] = "tiny"
    #: Learned absolute position embedding on the stride-4 token grid of `position_grid_for` (H, W) images.
    absolute_position: bool = False
    position_grid_for: tuple[int, int] = (96, 192)


def window_partition(x: torch.Tensor, ws: int) -> torch.Tensor:
    """(B, H, W, C) with H, W multiples of ws -> (B * nW, ws * ws, C), windows in row-major order."""
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(-1, ws * ws, c)


def window_reverse(windows: torch.Tensor, ws: int, b: int, h: int, w: int) -> torch.Tensor:
    """Inverse of `window_partition`: (B * nW, ws * ws, C) -> (B, H, W, C)."""
    c = windows.shape[-1]
    x = windows.view(b, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, c)


class WindowAttention(nn.Module):
    """Multi-head self-attention inside ws x ws windows with Swin's relative position bias."""

    def __init__(self, dim: int, heads: int, window_size: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        self.heads = heads
        self.window_size = window_size
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window_size - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window_size), torch.arange(window_size),
                                            indexing="ij")).flatten(1)  # (2, ws * ws)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window_size - 1)  # (L, L, 2)
        index = rel[..., 0] * (2 * window_size - 1) + rel[..., 1]
        self.register_buffer("relative_position_index", index, persistent=False)

    def relative_position_bias(self) -> torch.Tensor:
        """(heads, L, L) bias added to the attention logits."""
        n = self.window_size ** 2
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return bias.view(n, n, self.heads).permute(2, 0, 1)

    def forward(self, x: torch.Tensor, valid: torch.Tensor | None = None,
                groups: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B * nW, L, C); valid: optional (B * nW, L) bool, False for padded tokens (masked as keys);
        groups: optional (B * nW, L) group ids, a query attending only to keys of its own group."""
        b, n, c = x.shape
        q, k, v = self.qkv(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        mask = self.relative_position_bias().unsqueeze(0).to(q.dtype)  # (1, heads, L, L)
        if valid is not None:
            key_mask = torch.zeros(valid.shape, dtype=q.dtype, device=q.device)
            key_mask = key_mask.masked_fill(~valid, float("-inf"))
            mask = mask + key_mask[:, None, None, :]
        if groups is not None:
            # Padding has group -1 and blocks nothing (its keys are masked by `valid`; its queries, cropped
            # away later, must not see only -inf, whose softmax is NaN and poisons the backward pass).
            other = (groups[:, :, None] != groups[:, None, :]) & (groups[:, :, None] >= 0) & (groups[:, None, :] >= 0)
            mask = mask + torch.zeros(other.shape, dtype=q.dtype, device=q.device).masked_fill(
                other, float("-inf"))[:, None]
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class SwinBlock(nn.Module):
    """Pre-norm Swin block without shift: x + window_attn(norm(x)), then x + mlp(norm(x)); x is (B, H, W, C)."""

    def __init__(self, dim: int, heads: int, window_size: int = WINDOW_SIZE, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        self.window_size = window_size
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, heads, window_size)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, groups: torch.Tensor | None = None) -> torch.Tensor:
        """x: (B, H, W, C); groups: optional (B, H, W) int group id per token (attention stays inside a group)."""
        b, h, w, c = x.shape
        ws = self.window_size
        pad_h, pad_w = -h % ws, -w % ws
        y = self.norm1(x)
        valid, window_groups = None, None
        if pad_h or pad_w:
            y = F.pad(y, (0, 0, 0, pad_w, 0, pad_h))
            grid = F.pad(torch.ones(1, h, w, 1, dtype=torch.bool, device=x.device),
                         (0, 0, 0, pad_w, 0, pad_h), value=False)
            valid = window_partition(grid, ws).squeeze(-1).repeat(b, 1)  # (B * nW, L)
        if groups is not None:
            padded = F.pad(groups[..., None], (0, 0, 0, pad_w, 0, pad_h), value=-1)  # padding: masked anyway
            window_groups = window_partition(padded, ws).squeeze(-1)
        hp, wp = h + pad_h, w + pad_w
        y = self.attn(window_partition(y, ws), valid, window_groups)
        y = window_reverse(y, ws, b, hp, wp)[:, :h, :w]
        x = x + y
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    """2 x 2 neighbours concatenated (4C) -> LayerNorm -> Linear to 2C; an odd last row/column is dropped."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[1] // 2 * 2, x.shape[2] // 2 * 2
        x = x[:, :h, :w]
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


class SwinBackbone(CameraBackbone):
    """No-shift Swin camera encoder: maps at strides (8, 16, 32) with channels (2C, 4C, 8C)."""

    config: SwinConfig

    def __init__(self, config: SwinConfig) -> None:
        super().__init__(config)
        dim, depths, heads = SWIN_SIZES[config.size]
        dims = [dim * 2 ** i for i in range(len(depths))]
        self.channels = tuple(dims[1:])
        self.strides = tuple(PATCH_SIZE * 2 ** i for i in range(1, len(depths)))
        self.patch_embed = nn.Conv2d(3, dim, kernel_size=PATCH_SIZE, stride=PATCH_SIZE)
        self.patch_norm = nn.LayerNorm(dim)
        self.absolute_position = None
        if config.absolute_position:
            gh, gw = (s // PATCH_SIZE for s in config.position_grid_for)
            self.absolute_position = nn.Parameter(torch.zeros(1, dim, gh, gw))
        self.stages = nn.ModuleList(
            nn.ModuleList(SwinBlock(d, h) for _ in range(n)) for d, n, h in zip(dims, depths, heads))
        self.merges = nn.ModuleList(PatchMerging(d) for d in dims[:-1])
        self.out_norms = nn.ModuleList(nn.LayerNorm(d) for d in dims[1:])
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_weights(self)
        for m in self.modules():
            if isinstance(m, WindowAttention):
                nn.init.trunc_normal_(m.relative_position_bias_table, std=0.02)
        if self.absolute_position is not None:
            nn.init.trunc_normal_(self.absolute_position, std=0.02)

    def features(self, x: torch.Tensor, groups: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Maps at strides (8, 16, 32). `groups` (N, H // 32, W // 32) int: a group id per 1/32 cell
        (images whose sides are multiples of 32); tokens attend only to tokens of their own group."""
        x = self.patch_embed(x)  # (N, C, H // 4, W // 4)
        if self.absolute_position is not None:
            pos = self.absolute_position
            if pos.shape[-2:] != x.shape[-2:]:
                pos = F.interpolate(pos, size=x.shape[-2:], mode="bicubic", align_corners=False)
            x = x + pos
        x = self.patch_norm(x.permute(0, 2, 3, 1))  # (N, H // 4, W // 4, C)
        if groups is not None and (x.shape[1] % 8 or x.shape[2] % 8 or groups.shape[-2:] != (x.shape[1] // 8,
                                                                                            x.shape[2] // 8)):
            raise ValueError(f"groups {tuple(groups.shape)} must give one id per 1/32 cell of images whose sides "
                             f"are multiples of 32 (token grid {tuple(x.shape[1:3])} at stride 4)")
        outs = []
        for i, stage in enumerate(self.stages):
            stage_groups = None
            if groups is not None:  # 1/32 cell ids repeated onto this stage's grid
                up = 2 ** (len(self.stages) - 1 - i)
                stage_groups = groups.repeat_interleave(up, dim=1).repeat_interleave(up, dim=2)
            for block in stage:
                x = block(x, stage_groups)
            if i >= 1:
                outs.append(self.out_norms[i - 1](x).permute(0, 3, 1, 2).contiguous())
            if i < len(self.merges):
                x = self.merges[i](x)
        return outs


register_backbone(SwinBackbone, SwinConfig)
