"""Integer keys for voxel coordinates, so kernel maps reduce to sorted search on one int64 array.

A key packs (batch, x, y, z) into one int64: 16 bits per spatial axis (offset by 2**15 so negative
coordinates work) and the batch index above them. Packing is monotone in (b, x, y, z), so sorting keys
sorts coordinates lexicographically, and adding a packed offset to a key moves it by that offset as long
as every coordinate stays inside the 16-bit range (checked once, with a margin for kernel offsets).
"""

from __future__ import annotations

import itertools

import torch

AXIS_BITS = 16
AXIS_OFFSET = 1 << (AXIS_BITS - 1)
# Keeps coord + kernel offset inside one axis' bit range, so neighbours never alias across axes.
COORD_MARGIN = 16
COORD_LIMIT = AXIS_OFFSET - COORD_MARGIN
MAX_BATCH = 1 << (63 - 3 * AXIS_BITS)


def check_coords(coords: torch.Tensor) -> None:
    """Raise if coords (N, 4) = (batch, x, y, z) cannot be packed into keys without aliasing."""
    if coords.dim() != 2 or coords.shape[1] != 4:
        raise ValueError(f"coords must be (N, 4) = (batch, x, y, z), got shape {tuple(coords.shape)}")
    if coords.dtype.is_floating_point:
        raise ValueError(f"coords must be integers, got {coords.dtype}")
    if coords.numel() == 0:
        return
    spatial = coords[:, 1:]
    low, high = int(spatial.min()), int(spatial.max())
    if low < -COORD_LIMIT or high >= COORD_LIMIT:
        raise ValueError(
            f"voxel coordinates span [{low}, {high}], outside ±{COORD_LIMIT}; use a larger voxel size "
            "or crop the point cloud"
        )
    batch_low, batch_high = int(coords[:, 0].min()), int(coords[:, 0].max())
    if batch_low < 0 or batch_high >= MAX_BATCH:
        raise ValueError(f"batch indices must lie in [0, {MAX_BATCH}), got [{batch_low}, {batch_high}]")


def encode(coords: torch.Tensor) -> torch.Tensor:
    """Pack (N, 4) integer coords into (N,) int64 keys ordered like the coords lexicographically."""
    c = coords.to(torch.int64)
    key = c[:, 0]
    for axis in range(1, 4):
        key = (key << AXIS_BITS) | (c[:, axis] + AXIS_OFFSET)
    return key


def decode(keys: torch.Tensor) -> torch.Tensor:
    """Inverse of `encode`: (N,) int64 keys -> (N, 4) int64 coords."""
    mask = (1 << AXIS_BITS) - 1
    z = (keys & mask) - AXIS_OFFSET
    y = ((keys >> AXIS_BITS) & mask) - AXIS_OFFSET
    x = ((keys >> (2 * AXIS_BITS)) & mask) - AXIS_OFFSET
    batch = keys >> (3 * AXIS_BITS)
    return torch.stack([batch, x, y, z], dim=1)


def encode_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """Pack (K, 3) spatial offsets into (K,) int64 key deltas (key(c + d) = key(c) + delta(d))."""
    o = offsets.to(torch.int64)
    return (o[:, 0] << (2 * AXIS_BITS)) + (o[:, 1] << AXIS_BITS) + o[:, 2]


def centred_offsets(kernel_size: int, device: torch.device | None = None) -> torch.Tensor:
    """(k**3, 3) offsets -(k//2)..k//2 per axis, in weight order (x slowest, z fastest).

    For odd k the list is point-symmetric: entry K-1-i is the negation of entry i.
    """
    if kernel_size % 2 == 0:
        raise ValueError(f"a submanifold kernel must have odd size, got {kernel_size}")
    radius = kernel_size // 2
    axis = range(-radius, radius + 1)
    return torch.tensor(list(itertools.product(axis, axis, axis)), dtype=torch.int64, device=device)
