"""LiMA's memories: a FIFO bank of past frames' unified 2D targets, and a cross-sequence feature queue."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class FrameTargets:
    """One frame's unified 2D features: the points they belong to (global frame) and the features."""

    token: str
    scene: str
    points_global: torch.Tensor  # (M, 3) float64
    features: torch.Tensor  # (M, D) L2-normalised, no grad


class FifoBank:
    """At most `capacity` entries; pushing into a full bank evicts the oldest. Lookup by frame token."""

    def __init__(self, capacity: int) -> None:
        if capacity < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = capacity
        self._entries: OrderedDict[str, FrameTargets] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, token: str) -> bool:
        return token in self._entries

    def tokens(self) -> list[str]:
        """Oldest first."""
        return list(self._entries)

    def get(self, token: str) -> FrameTargets | None:
        entry = self._entries.get(token)
        if entry is None:
            self.misses += 1
        else:
            self.hits += 1
        return entry

    def push(self, entry: FrameTargets) -> None:
        if self.capacity == 0:
            return
        self._entries.pop(entry.token, None)  # re-pushing refreshes, never duplicates
        self._entries[entry.token] = entry
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()


class CrossSequenceQueue:
    """A fixed-size queue of target features tagged with their sequence; negatives from other sequences."""

    def __init__(self, size: int, dim: int) -> None:
        self.size = size
        self.features = torch.zeros(0, dim)
        self.scenes: np.ndarray = np.zeros(0, dtype=object)

    def push(self, features: torch.Tensor, scene: str, count: int, rng: torch.Generator) -> None:
        if self.size == 0 or len(features) == 0:
            return
        pick = torch.randperm(len(features), generator=rng)[:count]
        self.features = torch.cat([self.features, features[pick].detach().cpu()])[-self.size:]
        self.scenes = np.concatenate([self.scenes, np.full(len(pick), scene, dtype=object)])[-self.size:]

    def negatives_for(self, scene: str) -> torch.Tensor:
        return self.features[torch.from_numpy(self.scenes != scene)] if len(self.scenes) else self.features
