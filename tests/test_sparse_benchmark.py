"""Speed of the torch sparse backend on CPU (pytest-benchmark).

Run with timings: `python -m pytest tests/test_sparse_benchmark.py -m benchmark --benchmark-enable`.
In the default run (`--benchmark-disable`) each body runs once, as a smoke test.
"""

from __future__ import annotations

import pytest
import torch
from sparse_frames import lidar_like_frame

from bench3d.models import MinkUNet, MinkUNetConfig, VoxelConfig, voxelize

pytestmark = pytest.mark.benchmark


def test_tiny_training_step_on_20k_points(benchmark) -> None:  # type: ignore[no-untyped-def]
    """One forward + backward + SGD step of the tiny preset, ~20k points at 0.25 m voxels."""
    frame = lidar_like_frame(num_beams=32, num_azimuths=625)
    assert frame.shape[0] == 20_000
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.25), features=frame[:, 3:])
    torch.manual_seed(0)
    model = MinkUNet(MinkUNetConfig.from_preset("tiny", backend="torch"))
    head = torch.nn.Linear(model.out_channels, 16)
    optimiser = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.01, momentum=0.9)
    labels = torch.randint(0, 16, (frame.shape[0],), generator=torch.Generator().manual_seed(0))

    def step() -> float:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(model.forward_points(voxels)), labels)
        loss.backward()
        optimiser.step()
        return loss.item()

    step()  # warm-up: first-call allocations
    loss = benchmark(step)
    assert torch.isfinite(torch.tensor(loss))


def test_paper_forward_on_30k_points(benchmark) -> None:  # type: ignore[no-untyped-def]
    """Inference forward of MinkUNet-34 (paper preset), ~30k points at 0.1 m voxels."""
    frame = lidar_like_frame(num_beams=32, num_azimuths=940)
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.1), features=frame[:, 3:])
    torch.manual_seed(0)
    model = MinkUNet(MinkUNetConfig.from_preset("paper", backend="torch")).eval()

    def forward() -> torch.Tensor:
        with torch.no_grad():
            return model(voxels.coords, voxels.features)

    out = benchmark.pedantic(forward, rounds=3, iterations=1, warmup_rounds=1)
    assert out.shape == (voxels.coords.shape[0], 96)
