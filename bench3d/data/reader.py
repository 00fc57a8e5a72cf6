"""The reader contract: what every dataset reader gives the layers above (DESIGN.md, Contracts).

Tasks, methods and the harness type against `Reader`; only `datasets.py` names a concrete reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from bench3d.data.frame import Frame


class SequenceLike(Protocol):
    """A scene: its name and keyframe tokens in time order."""

    name: str
    sample_tokens: tuple[str, ...]


@runtime_checkable
class Reader(Protocol):
    """Extension point: a dataset on disk as Frames and Sequences."""

    dataroot: Path
    version: str

    def sequences(self, scene_names: list[str] | None = None) -> list[SequenceLike]:
        """Scenes (all, or the named ones) with their keyframes in time order."""

    def neighbours(self, sample_token: str, past: int = 0, future: int = 0) -> list[str]:
        """Keyframe tokens around `sample_token` within its scene, oldest first, itself included."""

    def sample_files(self, sample_token: str) -> list[Path]:
        """The keyframe's sensor files (what a content-hashed cache of the sample depends on)."""

    def frame(self, sample_token: str, *, sweeps: int = 1, cameras: tuple[str, ...] | None = ...,
              labels: bool = True, boxes: bool = True, max_image_size: tuple[int, int] | None = None) -> Frame:
        """One keyframe: LiDAR (+ sweeps), labels, camera views, boxes, as requested. Images larger than
        `max_image_size` (H, W) come at that size, with intrinsics that match their pixels."""
