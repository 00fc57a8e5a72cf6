"""`DinoV2Teacher`: a DINOv2 ViT (S/B/L, /14, with or without registers) loaded strictly from a user-given
checkpoint in the official key layout (`torch.hub` state dicts: cls_token, pos_embed, register_tokens,
patch_embed.proj, blocks.N.{norm1, attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1, mlp.fc2, ls2.gamma}, norm).

Layers: `pre_norm` — the last block's patch tokens before the final LayerNorm, what ScaLR ("x_pre_norm") and
SuperFlow distil (the default); `post_norm` — after it, what DINOv2's `x_norm_patchtokens` returns.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.teachers.base import ImageTeacher, check_input_size, imagenet_normalise, read_checkpoint

log = logging.getLogger(__name__)


class _Block(nn.Module):
    """A pre-norm ViT block with DINOv2's parameter names (norm1, attn.qkv, attn.proj, ls1, mlp.fc1...)."""

    def __init__(self, dim: int, heads: int, layerscale: bool) -> None:
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim, eps=1e-6), nn.LayerNorm(dim, eps=1e-6)
        self.attn = nn.Module()
        self.attn.qkv, self.attn.proj = nn.Linear(dim, 3 * dim), nn.Linear(dim, dim)
        self.mlp = nn.Module()
        self.mlp.fc1, self.mlp.fc2 = nn.Linear(dim, 4 * dim), nn.Linear(4 * dim, dim)
        if layerscale:
            self.ls1, self.ls2 = nn.Module(), nn.Module()
            self.ls1.gamma, self.ls2.gamma = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.ones(dim))
        self.layerscale = layerscale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        qkv = self.attn.qkv(self.norm1(x)).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2]).transpose(1, 2).reshape(b, n, d)
        a = self.attn.proj(a)
        x = x + (a * self.ls1.gamma if self.layerscale else a)
        m = self.mlp.fc2(F.gelu(self.mlp.fc1(self.norm2(x))))
        return x + (m * self.ls2.gamma if self.layerscale else m)


# DINOv2's head counts by width (ViT-S/B/L: 6/12/16 heads of 64 channels). ViT-g is refused: its SwiGLU MLP
# (mlp.w12 / w3) is another block.
_HEADS = {384: 6, 768: 12, 1024: 16}


class DinoV2Teacher(ImageTeacher):
    """ViT patch features; the architecture is read from the checkpoint's shapes, then loaded strictly."""

    kind = "dinov2"
    layers = ("pre_norm", "post_norm")

    def __init__(self, checkpoint: str | Path, layer: str = "pre_norm",
                 input_size: list[int] | tuple[int, int] | None = None) -> None:
        super().__init__()
        state = read_checkpoint(Path(checkpoint), self.kind, "a ViT state dict in the DINOv2 layout")
        required = ("cls_token", "pos_embed", "patch_embed.proj.weight", "norm.weight")
        missing = [k for k in required if k not in state]
        if missing:
            raise ConfigError(f"{checkpoint}: not a ViT checkpoint in the DINOv2 layout; missing keys {missing}")
        dim = state["cls_token"].shape[-1]
        patch = state["patch_embed.proj.weight"].shape[-1]
        depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
        if any(k.startswith("blocks.0.0.") or k.startswith("blocks.0.1.") for k in state):
            raise ConfigError(f"{checkpoint}: chunked blocks (blocks.0.N.*) as in DINOv2's training checkpoints; "
                              "save the hub model's state_dict() instead")
        if "blocks.0.mlp.w12.weight" in state:
            raise ConfigError(f"{checkpoint}: a DINOv2 ViT-g (SwiGLU MLP blocks); the teacher takes ViT-S/B/L")
        self.dim, self.stride, self.layer = dim, patch, layer
        self.input_size = check_input_size(self.kind, input_size, patch)
        self.num_registers = state["register_tokens"].shape[1] if "register_tokens" in state else 0
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, dim, patch, stride=patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros_like(state["pos_embed"]))
        if "mask_token" in state:
            self.mask_token = nn.Parameter(torch.zeros_like(state["mask_token"]))
        if self.num_registers:
            self.register_tokens = nn.Parameter(torch.zeros_like(state["register_tokens"]))
        layerscale = "blocks.0.ls1.gamma" in state
        heads = _HEADS.get(dim, max(1, dim // 64))
        self.blocks = nn.ModuleList(_Block(dim, heads, layerscale) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.load_state_dict(state, strict=True)  # missing/unexpected keys raise, naming them
        self.freeze()
        log.info("loaded DINOv2 teacher from %s: dim %d, depth %d, patch %d, %s", checkpoint, dim, depth, patch, layer)

    def _pos_embed(self, h: int, w: int) -> torch.Tensor:
        cls_pos, grid = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        side = int(math.sqrt(grid.shape[1]))
        if h == w == side:  # DINOv2 uses its table as is at the training resolution
            return self.pos_embed
        grid = grid.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        # As DINOv2's interpolate_pos_encoding: bicubic with the scale (n + 0.1) / side, not the size n — the
        # offset moves every sampling position slightly, and the weights were trained with it.
        grid = F.interpolate(grid, scale_factor=((h + 0.1) / side, (w + 0.1) / side), mode="bicubic",
                             align_corners=False)
        assert grid.shape[2:] == (h, w)
        return torch.cat([cls_pos, grid.flatten(2).transpose(1, 2)], dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = imagenet_normalise(x)
        h, w = x.shape[2] // self.stride, x.shape[3] // self.stride
        tokens = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], dim=1) + self._pos_embed(h, w)
        if self.num_registers:
            tokens = torch.cat([tokens[:, :1], self.register_tokens.expand(len(tokens), -1, -1), tokens[:, 1:]], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        if self.layer == "post_norm":
            tokens = self.norm(tokens)
        patches = tokens[:, 1 + self.num_registers:]
        return patches.transpose(1, 2).reshape(len(x), self.dim, h, w)
