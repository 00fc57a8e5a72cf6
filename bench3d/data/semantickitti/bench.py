"""Scans per second of `SemanticKittiReader.frame` (points and labels) against a plain numpy read of the same
files (`np.fromfile` of the .bin and the .label, the semantic-kitti-api's own way), measured in one run."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from bench3d.data.pass_timing import alternating_best_seconds
from bench3d.data.semantickitti.reader import SemanticKittiReader

log = logging.getLogger(__name__)


def compare_scan_speed(dataroot: str | Path, n_scans: int = 20, repeats: int = 3) -> dict:
    reader = SemanticKittiReader(dataroot)
    tokens = [t for seq in reader.sequences() for t in seq.sample_tokens][:n_scans]
    root = Path(dataroot) / "sequences"

    def ours(token: str) -> None:
        reader.frame(token, cameras=None)

    def plain(token: str) -> None:
        seq, scan = token.split("/")
        np.fromfile(root / seq / "velodyne" / f"{scan}.bin", dtype=np.float32).reshape(-1, 4)
        np.fromfile(root / seq / "labels" / f"{scan}.label", dtype=np.uint32) & 0xFFFF

    ours_s, plain_s = alternating_best_seconds(ours, plain, tokens, repeats)
    result = {"scans": len(tokens), "repeats": repeats, "points_per_scan": int(len(reader.frame(tokens[0]).points)),
              "bench3d_scans_per_second": len(tokens) / ours_s, "numpy_scans_per_second": len(tokens) / plain_s,
              "bench3d_time_over_numpy": ours_s / plain_s}
    log.info("SemanticKITTI scan: bench3d %.0f/s, numpy %.0f/s (x%.2f the time)", result["bench3d_scans_per_second"],
             result["numpy_scans_per_second"], result["bench3d_time_over_numpy"])
    return result
