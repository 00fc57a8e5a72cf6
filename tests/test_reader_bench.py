"""Reader full-frame speed against the devkit's path, measured in the same run (`make bench`).

In the default test run the benchmarks execute once, as smoke tests; the ratio is the point of `make bench`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.bench import compare_frame_speed
from bench3d.data.nuscenes.projection import point_pixel_pairs


@pytest.mark.benchmark
def test_bench_reader_full_frame(benchmark, tiny_release: Path) -> None:
    reader = NuScenesReader(tiny_release, "v1.0-mini")
    token = reader.sequences()[0].sample_tokens[0]
    pairs = benchmark(lambda: point_pixel_pairs(reader.frame(token)))
    assert len(pairs.point_index) > 0


@pytest.mark.benchmark
def test_bench_reader_vs_devkit_ratio(tiny_release: Path) -> None:
    result = compare_frame_speed(tiny_release, "v1.0-mini", n_samples=6, repeats=2)
    assert result["bench3d_frames_per_second"] > 0 and result["devkit_frames_per_second"] > 0
    assert result["speedup"] == pytest.approx(result["bench3d_frames_per_second"] / result["devkit_frames_per_second"])
