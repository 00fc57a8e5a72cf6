"""Shared pieces of the split rules: the stride subsample and the documented seed of a random draw."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def draw_seed(dataset: str, fraction: float, draw: int) -> int:
    """Seed of random draw `draw` (>= 1) for one dataset and fraction.

    seed = first 8 bytes (little endian) of sha256("bench3d-split:<dataset>:<fraction:.6g>:<draw>"),
    fed to numpy.random.default_rng. Stable across machines, Python and numpy versions.
    """
    key = f"bench3d-split:{dataset}:{fraction:.6g}:{draw}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def keep_every_kth_counting_from_one(items: Sequence[T], k: int) -> list[T]:
    """SLidR's skip rule: count items from 1, keep those with counter % k == 0 (the k-th, 2k-th, ...)."""
    if k < 1:
        raise ValueError(f"skip step must be >= 1, got {k}")
    return [item for counter, item in enumerate(items, start=1) if counter % k == 0]


def stride(items: Sequence[T], k: int, offset: int = 0) -> list[T]:
    """`items[offset::k]`: SemanticKITTI's 1 % rule keeps index 0, 100, 200, ..."""
    if k < 1 or not 0 <= offset < k:
        raise ValueError(f"need k >= 1 and 0 <= offset < k, got k={k}, offset={offset}")
    return list(items[offset::k])
