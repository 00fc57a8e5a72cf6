"""Waymo Open Dataset (v2, Parquet) label-fraction splits at frame level.

No method's code defines Waymo fractions (research notes, methods §1.1), so the rule is ours and written
down: sort the labelled training frames by (segment context name, frame timestamp) and keep every k-th,
starting at index 0 (k = 100 for 1 %), as SemanticKITTI's rule. Ids are `<segment>/<timestamp_micros>`.
Frames are the rows of `<root>/training/lidar_segmentation/*.parquet` (only labelled frames have rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from bench3d.errors import DataError
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import stride

STEP_BY_FRACTION: dict[float, int] = {0.01: 100, 0.10: 10}
SEGMENT_KEY = "key.segment_context_name"
TIMESTAMP_KEY = "key.frame_timestamp_micros"


def read_frame_keys(root: str | Path, split: str = "training", component: str = "lidar_segmentation") -> list[tuple[str, int]]:
    """(segment, timestamp) of every row of a component, reading only the two key columns."""
    import pyarrow.parquet as pq

    folder = Path(root) / split / component
    files = sorted(folder.glob("*.parquet"))
    if not files:
        raise DataError(folder, "no Parquet files", "point --dataroot at a Waymo v2 root with training/<component>/")
    keys: set[tuple[str, int]] = set()
    for path in files:
        table = pq.read_table(path, columns=[SEGMENT_KEY, TIMESTAMP_KEY])
        keys.update(zip(table.column(SEGMENT_KEY).to_pylist(), map(int, table.column(TIMESTAMP_KEY).to_pylist())))
    return sorted(keys)


def waymo_manifest(frames: Iterable[tuple[str, int]], fraction: float, source: str) -> SplitManifest:
    step = next((s for f, s in STEP_BY_FRACTION.items() if abs(f - fraction) < 1e-9), None)
    if step is None:
        raise ValueError(f"no Waymo stride for fraction {fraction}; known: {sorted(STEP_BY_FRACTION)}")
    ordered = sorted(set((str(seg), int(ts)) for seg, ts in frames))
    ids = tuple(f"{seg}/{ts}" for seg, ts in stride(ordered, step))
    rule = f"stride: labelled train frames sorted by (segment, timestamp) [0::{step}]"
    return SplitManifest("waymo", rule, fraction, 0, ids, unit="frame", source=source)
