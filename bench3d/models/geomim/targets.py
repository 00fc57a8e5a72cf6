"""GeoMIM's masks and targets: complementary mask groups on the 1/32 token grid (one permutation shared by
the whole batch and every view, official `random_masking`), and the teacher's BEV map normalised per BEV
patch over all of the patch's values (official: 18 x 18 cells, (x - mean) / sqrt(var + 1e-6))."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def complementary_groups(h: int, w: int, generator: torch.Generator, groups: int = 2) -> torch.Tensor:
    """(h, w) int64 group id per cell: a random permutation cut into `groups` equal parts (the last takes any
    remainder). Every cell is in exactly one group."""
    n = h * w
    order = torch.randperm(n, generator=generator)
    ids = torch.empty(n, dtype=torch.int64)
    size = n // groups
    for g in range(groups):
        ids[order[g * size:(g + 1) * size if g < groups - 1 else n]] = g
    return ids.view(h, w)


def patch_normalise(bev: torch.Tensor, patch: int, eps: float = 1e-6) -> torch.Tensor:
    """(B, C, nx, ny) -> each patch x patch block standardised over its C * patch^2 values; sides must be
    multiples of `patch`."""
    b, c, nx, ny = bev.shape
    if nx % patch or ny % patch:
        raise ValueError(f"BEV {nx} x {ny} is not a whole number of {patch} x {patch} patches")
    blocks = bev.reshape(b, c, nx // patch, patch, ny // patch, patch).permute(0, 2, 4, 1, 3, 5)
    flat = blocks.reshape(b, nx // patch, ny // patch, -1)
    mean = flat.mean(-1, keepdim=True)
    var = flat.var(-1, unbiased=False, keepdim=True)
    normed = ((flat - mean) / torch.sqrt(var + eps)).view(blocks.shape)
    return normed.permute(0, 3, 1, 4, 2, 5).reshape(b, c, nx, ny)


def depth_bce(depth: torch.Tensor, onehot: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy of predicted depth distributions (N, D, h, w) against one-hot LiDAR depth, summed
    over the bins of foreground cells (those with a LiDAR depth) and divided by their number (official)."""
    fg = onehot.sum(1) > 0  # (N, h, w)
    if not fg.any():
        return depth.sum() * 0
    pred = depth.permute(0, 2, 3, 1)[fg].float().clamp(1e-6, 1 - 1e-6)
    return F.binary_cross_entropy(pred, onehot.permute(0, 2, 3, 1)[fg].float(), reduction="sum") / fg.sum()
