"""NeuS-style volume rendering of a MIM4D voxel volume (as UniPAD / MIM4D's render head).

A ray's samples read the volume trilinearly; an SDF MLP turns the feature into a signed distance and a
geometry feature, a colour MLP turns (geometry feature, volume feature, view direction) into RGB. Between
consecutive samples i and i+1, NeuS's discrete opacity is

    alpha_i = clamp((Phi(s·sdf_i) - Phi(s·sdf_{i+1})) / Phi(s·sdf_i), 0, 1),   Phi = sigmoid,

with s = exp(10·variance) learnt (variance starts at 0.3: s = e^3), transmittance T_i = prod_{j<i}(1 - alpha_j)
and weights w_i = T_i·alpha_i, so sum_i w_i = 1 - prod_i (1 - alpha_i) <= 1. Rendered depth = sum w_i·t_i
(t: ray length at the interval's middle) and colour = sum w_i·c_i. Samples: `uniform` stratified ones
between near and far, then `importance` ones drawn by inverse CDF from the weights of the uniform ones at a
fixed sharpness (NeuS's up-sampling, without gradient), merged and sorted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.models.mim4d.volume import VoxelGrid, sample_volume

UPSAMPLE_SHARPNESS = 64.0  # NeuS's inv_s for the first up-sampling round


def _mlp(dims: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i in range(len(dims) - 1):
        layers.append(nn.Linear(dims[i], dims[i + 1]))
        if i < len(dims) - 2:
            layers.append(nn.Softplus(beta=100))
    return nn.Sequential(*layers)


class SDFField(nn.Module):
    """Volume feature -> (signed distance, geometry feature); + view direction -> colour in [0, 1]."""

    def __init__(self, in_channels: int, width: int, sdf_blocks: int, rgb_blocks: int,
                 variance_init: float = 0.3) -> None:
        super().__init__()
        self.sdf_net = _mlp([in_channels] + [width] * sdf_blocks + [1 + width])
        self.rgb_net = _mlp([width + in_channels + 3] + [width] * rgb_blocks + [3])
        self.variance = nn.Parameter(torch.tensor(float(variance_init)))

    def inv_s(self) -> torch.Tensor:
        return torch.exp(10.0 * self.variance)

    def sdf(self, feats: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.sdf_net(feats)
        return out[..., 0], out[..., 1:]

    def rgb(self, geometry: torch.Tensor, feats: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.rgb_net(torch.cat([geometry, feats, dirs], dim=-1)))


def neus_weights(sdf: torch.Tensor, inv_s: torch.Tensor | float) -> torch.Tensor:
    """Weights (..., N-1) of the intervals between N samples of signed distance along each ray."""
    prev = torch.sigmoid(sdf[..., :-1] * inv_s)
    nxt = torch.sigmoid(sdf[..., 1:] * inv_s)
    alpha = ((prev - nxt + 1e-5) / (prev + 1e-5)).clamp(0.0, 1.0)
    transmittance = torch.cumprod(torch.cat([torch.ones_like(alpha[..., :1]), 1.0 - alpha + 1e-7], -1), -1)[..., :-1]
    return alpha * transmittance


def sample_pdf(bins: torch.Tensor, weights: torch.Tensor, count: int) -> torch.Tensor:
    """`count` ray lengths per ray (..., count) by inverse CDF of the piecewise-constant `weights` (..., N-1)
    over `bins` (..., N), at evenly spaced quantiles (deterministic, as NeuS's up-sampling)."""
    pdf = (weights + 1e-5) / (weights + 1e-5).sum(-1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[..., :1]), torch.cumsum(pdf, -1)], -1)  # (..., N)
    u = torch.linspace(0.5 / count, 1 - 0.5 / count, count, device=bins.device, dtype=bins.dtype)
    u = u.expand(*cdf.shape[:-1], count).contiguous()
    idx = torch.searchsorted(cdf.contiguous(), u, right=True)
    lo, hi = (idx - 1).clamp(0, cdf.shape[-1] - 1), idx.clamp(0, cdf.shape[-1] - 1)
    c0, c1 = cdf.gather(-1, lo), cdf.gather(-1, hi)
    b0, b1 = bins.gather(-1, lo), bins.gather(-1, hi)
    frac = torch.where(c1 - c0 < 1e-5, torch.zeros_like(u), (u - c0) / (c1 - c0))
    return b0 + frac * (b1 - b0)


def render_rays(field: SDFField, volume: torch.Tensor, grid: VoxelGrid, origins: torch.Tensor, dirs: torch.Tensor,
                near: float, far: float, uniform: int, importance: int,
                rng: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """Render rays (B, R, 3) origins and unit directions through `volume` (B, C, nz, nx, ny).

    Returns depth (B, R) (ray length), rgb (B, R, 3), weight_sum (B, R) and the weights (B, R, N-1).
    `rng` jitters the uniform samples within their strata (training); None: strata centres."""
    b, r, _ = origins.shape
    step = (far - near) / uniform
    t = near + step * (torch.arange(uniform, device=origins.device, dtype=origins.dtype) + 0.5)
    t = t.expand(b, r, uniform)
    if rng is not None:
        jitter = torch.rand(b, r, uniform, generator=rng).to(origins.device, origins.dtype) - 0.5
        t = t + jitter * step

    def query(ts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pts = origins[:, :, None] + dirs[:, :, None] * ts[..., None]  # (B, R, N, 3)
        feats = sample_volume(volume, grid, pts.reshape(b, -1, 3)).reshape(b, r, ts.shape[-1], -1)
        return feats, pts

    if importance > 0:
        with torch.no_grad():
            feats, _ = query(t)
            sdf, _ = field.sdf(feats)
            coarse = neus_weights(sdf, UPSAMPLE_SHARPNESS)
            extra = sample_pdf(t, coarse, importance)
        t, _ = torch.sort(torch.cat([t, extra], dim=-1), dim=-1)
    feats, _ = query(t)
    sdf, geometry = field.sdf(feats)
    rgb = field.rgb(geometry, feats, dirs[:, :, None].expand(b, r, t.shape[-1], 3))
    weights = neus_weights(sdf, field.inv_s())
    mid_t = 0.5 * (t[..., 1:] + t[..., :-1])
    mid_rgb = 0.5 * (rgb[..., 1:, :] + rgb[..., :-1, :])
    return {"depth": (weights * mid_t).sum(-1), "rgb": (weights[..., None] * mid_rgb).sum(-2),
            "weight_sum": weights.sum(-1), "weights": weights}


def render_loss(rendered: dict[str, torch.Tensor], rgb: torch.Tensor, depth: torch.Tensor, depth_valid: torch.Tensor,
                depth_scale: float, rgb_weight: float, depth_weight: float) -> dict[str, torch.Tensor]:
    """rgb_weight·L1(rgb) over all rays + depth_weight·L1(depth / depth_scale) over rays with a LiDAR depth."""
    out = {}
    if rgb_weight > 0:
        out["rgb"] = rgb_weight * F.l1_loss(rendered["rgb"], rgb)
    if depth_weight > 0:
        valid = depth_valid.to(rendered["depth"].dtype)
        err = (rendered["depth"] - depth.nan_to_num(0.0)).abs() / depth_scale
        out["depth"] = depth_weight * (err * valid).sum() / valid.sum().clamp_min(1.0)
    return out
