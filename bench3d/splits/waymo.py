"""Waymo Open Dataset (v2, Parquet) label-fraction splits at frame level.

No method's code defines Waymo fractions (research notes, methods §1.1), so the rule is ours and written
down: sort the labelled training frames by (segment context name, frame timestamp) and keep every k-th,
starting at index 0 (k = 100 for 1 %), as SemanticKITTI's rule. Ids are `<segment>/<timestamp_micros>`.
Frames are the rows of `<root>/training/lidar_segmentation/*.parquet` (only labelled frames have rows).
Draw d >= 1 keeps the stride from another start offset, as SemanticKITTI's draws do: the offsets 1..k-1
permuted by numpy default_rng(draw_seed("waymo", fraction, 0)), draw d takes the d-th.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from bench3d.errors import DataError, SplitError
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import draw_seed, stride

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


def draw_offset(fraction: float, draw: int, step: int) -> int:
    if draw == 0:
        return 0
    if not 1 <= draw < step:
        raise SplitError(f"--draw: Waymo fraction {fraction} has draws 0..{step - 1}")
    return int(np.random.default_rng(draw_seed("waymo", fraction, 0)).permutation(np.arange(1, step))[draw - 1])


def waymo_manifest(frames: Iterable[tuple[str, int]], fraction: float, source: str, draw: int = 0) -> SplitManifest:
    ordered = sorted(set((str(seg), int(ts)) for seg, ts in frames))
    if fraction >= 1.0:
        return SplitManifest("waymo", "all labelled train frames", 1.0, draw,
                             tuple(f"{seg}/{ts}" for seg, ts in ordered), unit="frame", source=source)
    step = next((s for f, s in STEP_BY_FRACTION.items() if abs(f - fraction) < 1e-9), None)
    if step is None:
        raise SplitError(f"--fraction {fraction}: no Waymo stride for this label fraction; use one of "
                         f"{sorted(STEP_BY_FRACTION)}")
    offset = draw_offset(fraction, draw, step)
    ids = tuple(f"{seg}/{ts}" for seg, ts in stride(ordered, step, offset))
    rule = (f"stride: labelled train frames sorted by (segment, timestamp) [{offset}::{step}]"
            + ("" if draw == 0 else f" (offset of draw {draw})"))
    return SplitManifest("waymo", rule, fraction, draw, ids, unit="frame", source=source)
