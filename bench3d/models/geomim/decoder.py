"""GeoMIM's decoder (Liu et al., 2023; official code Sense-X/GeoMIM `swin_geomim.py`).

The encoder's stride-32 map is projected, upsampled and added to its stride-16 map, refined by one Swin
block with the same group masking as the encoder, normalised and projected to the decoder width (`EncoderNeck`).
Per mask group, tokens of the other group are replaced by a learned mask token and a fixed 2-D sine-cosine
position embedding is added (the same for every view). The semantic branch is a stack of ViT blocks over one
view's tokens with cross-view attention (CVA) blocks after some of them: the tokens of one image row across
all views attend to each other. The geometry branch taps the semantic branch part-way, is gated per view by a
camera-aware squeeze-and-excitation from 22 camera numbers, and has its own blocks (and CVA). CVA blocks start
as the identity (zero-initialised output projections), as in the official code.
"""

from __future__ import annotations


import torch
from torch import nn

from bench3d.models.camera.layers import Mlp, init_weights
from bench3d.models.camera.swin import SwinBlock
from bench3d.models.camera.vit import Block

CAMERA_NUMBERS = 22  # fx, fy, cx, cy; post-rotation 2x2 and translation 2 (row-major, as [R|t]); sensor->ego 3x4


def sincos_2d(dim: int, h: int, w: int) -> torch.Tensor:
    """Fixed 2-D sine-cosine position embedding (h * w, dim): half the channels encode the row, half the column."""
    if dim % 4:
        raise ValueError(f"sincos_2d needs a dim divisible by 4, got {dim}")
    quarter = dim // 4
    omega = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float64) / quarter)
    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float64), torch.arange(w, dtype=torch.float64),
                                indexing="ij")
    out = [f(a.reshape(-1, 1) * omega) for a in (rows, cols) for f in (torch.sin, torch.cos)]
    return torch.cat(out, dim=1).float()


class EncoderNeck(nn.Module):
    """Encoder maps at strides 16 and 32 -> decoder tokens at stride 16 (group-masked like the encoder)."""

    def __init__(self, c16: int, c32: int, heads: int, dim: int) -> None:
        super().__init__()
        self.lateral = nn.Linear(c32, c16)
        self.block = SwinBlock(c16, heads)
        self.norm = nn.LayerNorm(c16)
        self.embed = nn.Linear(c16, dim)

    def forward(self, m16: torch.Tensor, m32: torch.Tensor, groups16: torch.Tensor | None) -> torch.Tensor:
        """(N, C16, h, w), (N, C32, h/2, w/2), groups (N, h, w) or None -> (N, h, w, dim)."""
        up = self.lateral(m32.permute(0, 2, 3, 1)).repeat_interleave(2, 1).repeat_interleave(2, 2)
        x = m16.permute(0, 2, 3, 1) + up[:, : m16.shape[2], : m16.shape[3]]
        return self.embed(self.norm(self.block(x, groups16)))


class CrossViewBlock(nn.Module):
    """Pre-norm attention + MLP over the tokens of one image row across all views; starts as the identity."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.block = Block(dim, heads)
        nn.init.zeros_(self.block.attn.proj.weight)
        nn.init.zeros_(self.block.attn.proj.bias)
        nn.init.zeros_(self.block.mlp.fc2.weight)
        nn.init.zeros_(self.block.mlp.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (B, V, h, w, C) -> same; attention within each (batch, row) over the V * w tokens."""
        b, v, h, w, c = x.shape
        rows = x.permute(0, 2, 1, 3, 4).reshape(b * h, v * w, c)
        return self.block(rows).view(b, h, v, w, c).permute(0, 2, 1, 3, 4)


class CameraGate(nn.Module):
    """Camera-aware SE: BatchNorm over the 22 camera numbers, MLP to `dim`, then squeeze-excitation -> a
    sigmoid gate per view and channel that multiplies the geometry tokens."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm1d(CAMERA_NUMBERS)
        self.embed = nn.Sequential(nn.Linear(CAMERA_NUMBERS, dim), nn.GELU(), nn.Linear(dim, dim))
        self.excite = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(inplace=True), nn.Linear(dim, dim), nn.Sigmoid())

    def forward(self, x: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        """x (B, V, h, w, C), cameras (B, V, 22) -> gated x."""
        b, v = cameras.shape[:2]
        gate = self.excite(self.embed(self.norm(cameras.reshape(b * v, -1).float()))).view(b, v, 1, 1, -1)
        return x * gate


class GeoMIMDecoder(nn.Module):
    """Masked tokens -> (semantic, geometry) features (B, V, h, w, C); geometry is None without the branch.

    `cva_after` / `geometry_cva_after`: 0-based block indices followed by a CVA block (empty: no CVA);
    `geometry_tap`: the semantic block index whose output feeds the geometry branch (None: no branch, the
    decoupled decoders ablated); `camera_gate`: the camera-aware SE gate on the geometry branch."""

    def __init__(self, dim: int, heads: int, depth: int, cva_after: tuple[int, ...], geometry_tap: int | None,
                 geometry_depth: int, geometry_cva_after: tuple[int, ...], camera_gate: bool) -> None:
        super().__init__()
        self.dim = dim
        self.mask_token = nn.Parameter(torch.zeros(dim))
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.cva = nn.ModuleDict({str(i): CrossViewBlock(dim, heads) for i in cva_after})
        self.norm = nn.LayerNorm(dim)
        self.geometry_tap = geometry_tap
        if geometry_tap is not None:
            self.gate = CameraGate(dim) if camera_gate else None
            self.geometry_blocks = nn.ModuleList(Block(dim, heads) for _ in range(geometry_depth))
            self.geometry_cva = nn.ModuleDict({str(i): CrossViewBlock(dim, heads) for i in geometry_cva_after})
            self.geometry_norm = nn.LayerNorm(dim)
        init_weights(self.blocks)
        if geometry_tap is not None:
            init_weights(self.geometry_blocks)
        nn.init.trunc_normal_(self.mask_token, std=0.02)

    def forward(self, tokens: torch.Tensor, visible: torch.Tensor,
                cameras: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """tokens (B, V, h, w, C) from the encoder neck; visible (h, w) bool, the decoded group's cells (the
        rest become mask tokens); cameras (B, V, 22)."""
        b, v, h, w, c = tokens.shape
        x = torch.where(visible[None, None, :, :, None], tokens, self.mask_token.to(tokens.dtype))
        x = x + sincos_2d(c, h, w).to(device=x.device, dtype=x.dtype).view(1, 1, h, w, c)
        geometry = None
        for i, block in enumerate(self.blocks):
            x = block(x.reshape(b * v, h * w, c)).view(b, v, h, w, c)
            if str(i) in self.cva:
                x = self.cva[str(i)](x)
            if i == self.geometry_tap:
                geometry = self._geometry(x, cameras)
        return self.norm(x), geometry

    def _geometry(self, x: torch.Tensor, cameras: torch.Tensor) -> torch.Tensor:
        b, v, h, w, c = x.shape
        if self.gate is not None:
            x = self.gate(x, cameras)
        for i, block in enumerate(self.geometry_blocks):
            x = block(x.reshape(b * v, h * w, c)).view(b, v, h, w, c)
            if str(i) in self.geometry_cva:
                x = self.geometry_cva[str(i)](x)
        return self.geometry_norm(x)


def camera_numbers(intrinsics: torch.Tensor, post_rotation: torch.Tensor, post_translation: torch.Tensor,
                   sensor_to_ego: torch.Tensor) -> torch.Tensor:
    """(..., 22): fx, fy, cx, cy, then [post_rot | post_tran] row by row (r00, r01, t0, r10, r11, t1), then
    the camera->ego [R | t] row by row — the order of the official code."""
    k = intrinsics
    aug = torch.cat([post_rotation, post_translation.unsqueeze(-1)], dim=-1).flatten(-2)
    return torch.cat([k[..., 0, 0:1], k[..., 1, 1:2], k[..., 0, 2:3], k[..., 1, 2:3], aug,
                      sensor_to_ego[..., :3, :4].flatten(-2)], dim=-1)
