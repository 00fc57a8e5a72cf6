"""`AppearanceTeacher`: the CI teacher. It needs no weights, so tests and the synthetic world's defaults run
anywhere; it is not a stand-in for a learned teacher on real data (`efficientnet_lite0` is that default).

It describes each pixel by what a camera sees and a LiDAR does not — colour (RGB and opponent channels),
local colour statistics at two scales, and texture (gradient energy and orientation at two scales) — then
applies a fixed, seeded orthogonal projection to `dim` channels and L2-normalises. On the synthetic world it
reads the very colour cue the world paints per class, so rankings measured with it say little about real
data: compare them with the EfficientNet-Lite0 teacher's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench3d.models.teachers.base import ImageTeacher


def _box_mean(x: torch.Tensor, k: int) -> torch.Tensor:
    """Mean over a k x k window (valid pixels only), as two separable 1D passes: O(k), not O(k^2)."""
    x = F.avg_pool2d(x, (1, k), stride=1, padding=(0, k // 2), count_include_pad=False)
    return F.avg_pool2d(x, (k, 1), stride=1, padding=(k // 2, 0), count_include_pad=False)


class AppearanceTeacher(ImageTeacher):
    kind = "appearance"

    def __init__(self, dim: int = 64, stride: int = 2, seed: int = 0,
                 input_size: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.dim, self.stride, self.input_size = dim, stride, input_size
        # Two window sizes, about 5 and 11 pixels of the input image whatever the stride.
        self.windows = tuple(max(3, (k // stride) | 1) for k in (5, 11))
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
        self.register_buffer("sobel", torch.stack([sobel, sobel.T]).unsqueeze(1), persistent=False)
        raw_dim = 6 + 12 + 12 + 6
        gen = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(max(raw_dim, dim), max(raw_dim, dim), generator=gen))
        self.register_buffer("projection", q[:raw_dim, :dim].contiguous(), persistent=False)
        self.freeze()

    def _texture(self, gray: torch.Tensor, k: int) -> torch.Tensor:
        g = F.conv2d(gray, self.sobel, padding=1)  # (B, 2, H, W): gx, gy
        gx, gy = g[:, :1], g[:, 1:]
        energy = gx * gx + gy * gy
        # Doubled-angle orientation so opposite gradients agree (a stripe, not its sign).
        feats = [energy, gx * gx - gy * gy, 2 * gx * gy]
        return torch.cat([_box_mean(f, k) for f in feats], dim=1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
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
