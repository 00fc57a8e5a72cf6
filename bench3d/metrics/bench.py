"""Speed of confusion-matrix accumulation against scikit-learn's `confusion_matrix`, measured in one run.

Both build the same (C, C) matrix from the same labels; the best of `repeats` timings is kept for each
(the minimum is the least disturbed by other processes on a shared machine).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from bench3d.metrics.confusion import ConfusionMatrix

log = logging.getLogger(__name__)


def _best_time(fn: Callable[[], np.ndarray], repeats: int) -> tuple[float, np.ndarray]:
    best, result = float("inf"), np.empty(0)
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def compare_confusion_speed(n_points: int = 2_000_000, repeats: int = 5, num_classes: int = 17, seed: int = 0) -> dict:
    """Points per second of `ConfusionMatrix.update` and of sklearn, on uint8 labels like a lidarseg scan."""
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(seed)
    gt = rng.integers(0, num_classes, n_points).astype(np.uint8)
    pred = rng.integers(0, num_classes, n_points).astype(np.uint8)
    labels = np.arange(num_classes)

    ours_s, ours = _best_time(lambda: ConfusionMatrix(num_classes).update(gt, pred).counts, repeats)
    sklearn_s, theirs = _best_time(lambda: confusion_matrix(gt, pred, labels=labels), repeats)
    if not np.array_equal(ours, theirs):
        raise AssertionError("ConfusionMatrix and sklearn disagree on the same labels")
    result = {
        "n_points": n_points,
        "repeats": repeats,
        "num_classes": num_classes,
        "bench3d_seconds": ours_s,
        "sklearn_seconds": sklearn_s,
        "bench3d_points_per_second": n_points / ours_s,
        "sklearn_points_per_second": n_points / sklearn_s,
        "speedup": sklearn_s / ours_s,
    }
    log.info(
        "confusion matrix, %d points: bench3d %.3g pts/s, sklearn %.3g pts/s (x%.1f)",
        n_points, result["bench3d_points_per_second"], result["sklearn_points_per_second"], result["speedup"],
    )  # fmt: skip
    return result
