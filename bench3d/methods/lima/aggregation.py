"""Cross-view aggregation: one unified 2D target per point from every camera that sees it.

A point in the overlap of two cameras gets two different teacher features; distilling both pulls the
point two ways ("optimisation conflicts"). The unified target is their weighted mean, the weight of a
view falling off towards the image border, where overlaps are and where views are least reliable.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench3d.methods.contrastive import segment_mean


def border_weight(uv: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    """1 at the image centre, falling linearly to ~0 at the nearest border (min over both axes)."""
    h, w = hw
    du = 1.0 - (2.0 * uv[:, 0] / w - 1.0).abs()
    dv = 1.0 - (2.0 * uv[:, 1] / h - 1.0).abs()
    return torch.minimum(du, dv).clamp_min(1e-3)


def aggregate_views(pair_features: torch.Tensor, point_index: torch.Tensor, uv: torch.Tensor,
                    hw: tuple[int, int], num_points: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(points with a target (K,), unified L2-normalised targets (K, D)) from per-pair features (M, D)."""
    weight = border_weight(uv, hw).unsqueeze(1)
    sums, counts = segment_mean(pair_features * weight, point_index, num_points)
    norms, _ = segment_mean(weight, point_index, num_points)
    seen = counts > 0
    unified = sums[seen] / norms[seen].clamp_min(1e-12)
    return torch.nonzero(seen).squeeze(1), F.normalize(unified, dim=1)
