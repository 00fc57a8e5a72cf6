"""Frozen 2D teachers for image-to-LiDAR distillation.

`AppearanceTeacher` is the embedded default: it needs no weights. It describes each pixel by what a
camera sees and a LiDAR does not — colour (RGB and opponent channels), local colour statistics at two
scales, and texture (gradient energy and orientation at two scales) — then applies a fixed, seeded
orthogonal projection to `dim` channels and L2-normalises. Classes that are flat and at the same height
(road, sidewalk, terrain, other flat, lane markings) differ in colour and texture, so regressing these
features from LiDAR teaches the 3D backbone distinctions its geometry alone does not give.
`ViTTeacher` loads a real ViT checkpoint (DINOv2 layout) from a user-given path, strictly.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)


class ImageTeacher(nn.Module):
    """Frozen encoder: uint8 images (B, H, W, 3) -> features (B, dim, H / stride, W / stride)."""

    dim: int
    stride: int
    identity: dict = {}  # set by build_teacher

    def train(self, mode: bool = True) -> ImageTeacher:  # a teacher never leaves eval mode
        return super().train(False)

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return self.forward(images)


def _box_mean(x: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over a k x k window (valid pixels only), as two separable 1D passes: O(k), not O(k^2)."""
    x = F.avg_pool2d(x, (1, k), stride=1, padding=(0, k // 2), count_include_pad=False)
    return F.avg_pool2d(x, (k, 1), stride=1, padding=(k // 2, 0), count_include_pad=False)


class AppearanceTeacher(ImageTeacher):
    def __init__(self, dim: int = 64, stride: int = 2, seed: int = 0) -> None:
        super().__init__()
        self.dim, self.stride = dim, stride
        # Two window sizes, about 5 and 11 pixels of the input image whatever the stride.
        self.windows = tuple(max(3, (k // stride) | 1) for k in (5, 11))
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
        self.register_buffer("sobel", torch.stack([sobel, sobel.T]).unsqueeze(1), persistent=False)
        raw_dim = 6 + 12 + 12 + 6
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(max(raw_dim, dim), max(raw_dim, dim), generator=gen))
        self.register_buffer("projection", q[:raw_dim, :dim].contiguous(), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def _texture(self, gray: torch.Tensor, k: int) -> torch.Tensor:
        g = F.conv2d(gray, self.sobel, padding=1)  # (B, 2, H, W): gx, gy
        gx, gy = g[:, :1], g[:, 1:]
        energy = gx * gx + gy * gy
        # Doubled-angle orientation so opposite gradients agree (a stripe, not its sign).
        feats = [energy, gx * gx - gy * gy, 2 * gx * gy]
        return torch.cat([_box_mean(f, k) for f in feats], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images.permute(0, 3, 1, 2).float() / 255.0  # (B, 3, H, W)
        if self.stride > 1:  # features are produced at the output stride: describe the image there
            x = F.avg_pool2d(x, self.stride)
        r, g, b = x[:, :1], x[:, 1:2], x[:, 2:3]
        gray = (r + g + b) / 3.0
        opponent = torch.cat([r - g, (r + g) / 2 - b, gray], dim=1)
        colour = torch.cat([x, opponent], dim=1)  # 6
        stats = []
        for k in self.windows:
            mean = _box_mean(colour, k)
            var = (_box_mean(colour * colour, k) - mean * mean).clamp_min(0)
            stats += [mean, var.sqrt()]
        local = torch.cat(stats, dim=1)  # 24
        texture = torch.cat([self._texture(gray, k) for k in self.windows], dim=1)  # 6
        raw = torch.cat([colour, local, texture], dim=1)
        raw = raw - raw.mean(dim=(2, 3), keepdim=True)  # per-image centring: exposure-invariant
        feats = torch.einsum("bchw,cd->bdhw", raw, self.projection)
        return F.normalize(feats, dim=1)


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


class ViTTeacher(ImageTeacher):
    """ViT patch features; architecture inferred from the checkpoint's shapes, then loaded strictly."""

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, checkpoint: str | Path, heads: int | None = None) -> None:
        super().__init__()
        state = _read_state_dict(Path(checkpoint))
        dim = state["cls_token"].shape[-1]
        patch = state["patch_embed.proj.weight"].shape[-1]
        depth = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("blocks."))
        self.dim, self.stride, self.patch = dim, patch, patch
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
        self.blocks = nn.ModuleList(_Block(dim, heads or max(1, dim // 64), layerscale) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.load_state_dict(state, strict=True)  # missing/unexpected keys raise, naming them
        self.register_buffer("mean", torch.tensor(self.MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()
        log.info("loaded ViT teacher from %s: dim %d, depth %d, patch %d", checkpoint, dim, depth, patch)

    def _pos_embed(self, h: int, w: int) -> torch.Tensor:
        cls_pos, grid = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        side = int(math.sqrt(grid.shape[1]))
        grid = grid.reshape(1, side, side, -1).permute(0, 3, 1, 2)
        grid = F.interpolate(grid, size=(h, w), mode="bicubic", align_corners=False)
        return torch.cat([cls_pos, grid.flatten(2).transpose(1, 2)], dim=1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = (images.permute(0, 3, 1, 2).float() / 255.0 - self.mean) / self.std
        h, w = x.shape[2] // self.patch, x.shape[3] // self.patch
        x = x[:, :, : h * self.patch, : w * self.patch]
        tokens = self.patch_embed.proj(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], dim=1) + self._pos_embed(h, w)
        if self.num_registers:
            tokens = torch.cat([tokens[:, :1], self.register_tokens.expand(len(tokens), -1, -1), tokens[:, 1:]], dim=1)
        for block in self.blocks:
            tokens = block(tokens)
        patches = self.norm(tokens)[:, 1 + self.num_registers:]
        return F.normalize(patches.transpose(1, 2).reshape(len(x), self.dim, h, w), dim=1)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    from bench3d.errors import ConfigError

    if not path.is_file():
        raise ConfigError(f"--teacher-checkpoint {path}: file not found (give the path of a ViT state dict, e.g. DINOv2)")
    state = torch.load(path, map_location="cpu", weights_only=True)
    for key in ("teacher", "model", "state_dict"):
        if isinstance(state, dict) and key in state and isinstance(state[key], dict):
            state = state[key]
    required = ("cls_token", "pos_embed", "patch_embed.proj.weight")
    missing = [k for k in required if k not in state]
    if missing:
        raise ConfigError(f"{path}: not a ViT checkpoint in the DINOv2 layout; missing keys {missing}")
    return state


def build_teacher(checkpoint: str | Path | None = None, dim: int = 64, stride: int = 2) -> ImageTeacher:
    """The default appearance teacher, or a ViT loaded strictly from `checkpoint`. Its `identity` names what
    makes its features (a cache of them is keyed by it): the kind and config, or the weights' sha256."""
    if checkpoint:
        from bench3d.engine.disk_cache import files_digest

        teacher: ImageTeacher = ViTTeacher(checkpoint)
        teacher.identity = {"kind": "vit", "weights": files_digest([Path(checkpoint)])}
    else:
        teacher = AppearanceTeacher(dim=dim, stride=stride)
        teacher.identity = {"kind": "appearance", "dim": dim, "stride": stride}
    return teacher
