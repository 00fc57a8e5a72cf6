"""Long-term feature propagation: past frames' unified targets moved into the current frame.

Past target points are carried with the ego poses (past LiDAR -> global -> current LiDAR), which is
exact for the static world. Moving objects break that alignment; they are handled by two gates, with
no annotation used: (1) geometric — a past point contributes only to current points in the same
`match_voxel` (3D), so features of an object that has moved land in now-empty or differently occupied
voxels and are dropped; (2) semantic — where the current point has its own target, a past feature with
cosine similarity below `min_agreement` is ignored.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bench3d.methods.contrastive import segment_mean


def to_current(points_global: torch.Tensor, global_to_current: torch.Tensor) -> torch.Tensor:
    """(M, 3) global points in the current LiDAR frame, float64 to keep centimetres at city scale."""
    return points_global @ global_to_current[:3, :3].T + global_to_current[:3, 3]


def voxel_keys(xyz: torch.Tensor, size: float) -> torch.Tensor:
    """int64 key per point of its cubic voxel (21 bits per axis, offset to be non-negative)."""
    idx = torch.floor(xyz / size).long() + (1 << 20)
    return (idx[:, 0] << 42) | (idx[:, 1] << 21) | idx[:, 2]


def propagate(current_xyz: torch.Tensor, past_xyz: torch.Tensor, past_features: torch.Tensor,
              past_weight: torch.Tensor, match_voxel: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Weighted mean of past features per current point sharing its voxel: (targets (N, D), has (N,) bool)."""
    n = len(current_xyz)
    if len(past_xyz) == 0:
        device = past_features.device
        return (torch.zeros(n, past_features.shape[1], dtype=past_features.dtype, device=device),
                torch.zeros(n, dtype=torch.bool, device=device))
    cur_keys = voxel_keys(current_xyz, match_voxel)
    past_keys = voxel_keys(past_xyz, match_voxel)
    uniq, inverse = torch.unique(cur_keys, return_inverse=True)
    pos = torch.searchsorted(uniq, past_keys).clamp_max(len(uniq) - 1)
    hit = uniq[pos] == past_keys
    sums, counts = segment_mean(past_features[hit] * past_weight[hit, None], pos[hit], len(uniq))
    wsum, _ = segment_mean(past_weight[hit, None], pos[hit], len(uniq))
    per_voxel = sums / wsum.clamp_min(1e-12)
    has = counts[inverse] > 0
    return per_voxel[inverse], has


def fuse(own: torch.Tensor, own_mask: torch.Tensor, past: torch.Tensor, past_mask: torch.Tensor,
         current_weight: float, min_agreement: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Memory-enhanced targets (N, D) and mask: own view and propagated history, gated by agreement."""
    agree = (F.normalize(own, dim=1) * F.normalize(past, dim=1)).sum(1) >= min_agreement
    use_past = past_mask & (agree | ~own_mask)
    target = torch.where(own_mask[:, None], own * current_weight, torch.zeros_like(own))
    target = target + torch.where(use_past[:, None], past * (1.0 - current_weight * own_mask[:, None].float()),
                                  torch.zeros_like(past))
    mask = own_mask | use_past
    return F.normalize(target, dim=1), mask
