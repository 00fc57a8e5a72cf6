"""SemanticKITTI label-fraction splits at scan level.

Draw 0 is SLidR's / ScaLR's rule: list `sequences/NN/velodyne/*.bin` of the train sequences (00-07, 09,
10), sort the full path strings, keep `[::k]` starting at index 0, k = 100 for 1 % (192 of 19,130 scans).
Draw d >= 1 keeps the same stride with another start offset: the offsets 1..k-1 are permuted by numpy
default_rng(draw_seed("semantickitti", fraction, 0)) and draw d takes the d-th (so draws never coincide);
a shifted stride has ceil((N - offset) / k) scans, i.e. 191 or 192 for 1 %.
Ids are paths relative to the dataset root, e.g. `sequences/00/velodyne/000000.bin`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bench3d.errors import SplitError
from bench3d.labels.semantickitti import SCANS_PER_SEQUENCE, TRAIN_SEQUENCES
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.rules import draw_seed, stride

STEP_BY_FRACTION: dict[float, int] = {0.01: 100, 0.05: 20, 0.10: 10, 0.20: 5}  # 1 % from SLidR; others CMCR's


def scan_paths(scans_per_sequence: Mapping[int, int], sequences: Sequence[int] = TRAIN_SEQUENCES) -> list[str]:
    """Relative velodyne paths of every scan of `sequences` (for the released data, without reading it)."""
    return [f"sequences/{s:02d}/velodyne/{i:06d}.bin" for s in sequences for i in range(scans_per_sequence[s])]


def official_train_scan_paths() -> list[str]:
    return scan_paths(SCANS_PER_SEQUENCE, TRAIN_SEQUENCES)


def step_for(fraction: float) -> int:
    for known, step in STEP_BY_FRACTION.items():
        if abs(known - fraction) < 1e-9:
            return step
    raise SplitError(f"--fraction {fraction}: no SemanticKITTI stride for this label fraction; use one of "
                     f"{sorted(STEP_BY_FRACTION)}")


def draw_offset(fraction: float, draw: int) -> int:
    k = step_for(fraction)
    if draw == 0:
        return 0
    if not 1 <= draw < k:
        raise SplitError(f"--draw: SemanticKITTI fraction {fraction} has draws 0..{k - 1}")
    offsets = np.random.default_rng(draw_seed("semantickitti", fraction, 0)).permutation(np.arange(1, k))
    return int(offsets[draw - 1])


def semantickitti_manifest(paths: Sequence[str], fraction: float, draw: int, source: str) -> SplitManifest:
    k, offset = step_for(fraction), draw_offset(fraction, draw)
    ids = stride(sorted(paths), k, offset)
    rule = f"stride: sorted train scan paths [{offset}::{k}]" + ("" if draw == 0 else f" (offset of draw {draw})")
    return SplitManifest("semantickitti", rule, fraction, draw, tuple(ids), unit="scan", source=source)
