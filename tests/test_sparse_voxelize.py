"""Voxelisation: the inverse map round-trips, means are right, order and batching are handled."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from sparse_frames import lidar_like_frame

from bench3d.models.voxelize import VoxelConfig, grid_coordinates, voxelize, voxelize_batch


@pytest.fixture(scope="module")
def frame() -> torch.Tensor:
    return lidar_like_frame(num_beams=16, num_azimuths=300)


@pytest.mark.parametrize(
    "config",
    [VoxelConfig(voxel_size=0.25), VoxelConfig(voxel_size=(0.2, 0.3, 0.1)), VoxelConfig.cylindrical()],
    ids=["cartesian", "anisotropic", "cylindrical"],
)
def test_every_point_lies_in_its_voxel_and_means_are_exact(frame: torch.Tensor, config: VoxelConfig) -> None:
    voxels = voxelize(frame, config, features=frame[:, 3:])
    grid = grid_coordinates(frame[:, :3].double(), config)
    cell = voxels.coords[voxels.point_to_voxel, 1:].double()
    assert bool(((cell <= grid) & (grid < cell + 1)).all())
    # Unique, sorted voxels; counts and means agree with a direct per-voxel computation.
    assert torch.equal(voxels.coords, voxels.coords.unique(dim=0))
    assert int(voxels.num_points.sum()) == frame.shape[0]
    assert torch.equal(torch.bincount(voxels.point_to_voxel), voxels.num_points)
    for voxel in (0, voxels.coords.shape[0] // 2, voxels.coords.shape[0] - 1):
        members = frame[voxels.point_to_voxel == voxel, 3:]
        torch.testing.assert_close(voxels.features[voxel], members.double().mean(0).float())


def test_cylindrical_cells_follow_rho_phi_z() -> None:
    point = torch.tensor([[0.0, 2.05, 0.33]])  # rho 2.05 m, phi 90 degrees
    voxels = voxelize(point, VoxelConfig.cylindrical(rho=0.1, phi_degrees=1.0, z=0.1))
    assert voxels.coords.tolist() == [[0, 20, 90, 3]]
    left = voxelize(torch.tensor([[-1.0, -1e-3, 0.0]]), VoxelConfig.cylindrical())
    assert left.coords[0, 2].item() == -180  # atan2 just below -x axis: -179.94 degrees


def test_negative_coordinates_floor_towards_minus_infinity() -> None:
    points = torch.tensor([[0.35, -0.25, -0.0001], [0.0, 0.0, 0.0]], dtype=torch.float32)
    voxels = voxelize(points, VoxelConfig(voxel_size=0.1))
    assert voxels.coords[voxels.point_to_voxel].tolist() == [[0, 3, -3, -1], [0, 0, 0, 0]]


def test_voxels_do_not_depend_on_point_order(frame: torch.Tensor) -> None:
    config = VoxelConfig(voxel_size=0.3)
    permutation = torch.randperm(frame.shape[0], generator=torch.Generator().manual_seed(0))
    a = voxelize(frame, config, features=frame[:, 3:])
    b = voxelize(frame[permutation], config, features=frame[permutation, 3:])
    assert torch.equal(a.coords, b.coords)
    torch.testing.assert_close(a.features, b.features, rtol=0, atol=1e-7)
    assert torch.equal(a.point_to_voxel[permutation], b.point_to_voxel)


def test_batched_clouds_keep_their_own_voxels(frame: torch.Tensor) -> None:
    config = VoxelConfig(voxel_size=0.5)
    other = frame[: frame.shape[0] // 3] + torch.tensor([1.0, 0.0, 0.0, 0.0])
    batch = voxelize_batch([frame.numpy(), other], config, features=[frame[:, 3:], other[:, 3:]])
    single = voxelize(other, config, features=other[:, 3:])
    second = batch.coords[:, 0] == 1
    assert torch.equal(batch.coords[second, 1:], single.coords[:, 1:])
    torch.testing.assert_close(batch.features[second], single.features)
    first_count = int((batch.coords[:, 0] == 0).sum())
    assert torch.equal(batch.point_to_voxel[frame.shape[0] :] - first_count, single.point_to_voxel)


def test_numpy_input_and_default_features() -> None:
    points = np.array(
        [[0.05, 0.05, 0.05, 1.0], [0.06, 0.02, 0.01, 3.0], [1.0, 1.0, 1.0, 5.0]], dtype=np.float32
    )
    voxels = voxelize(points, VoxelConfig(voxel_size=0.1))
    assert voxels.features.shape == (2, 4)
    assert math.isclose(float(voxels.features[0, 3]), 2.0)


def test_config_validation() -> None:
    assert VoxelConfig(voxel_size=0.2).voxel_size == (0.2, 0.2, 0.2)
    with pytest.raises(ValidationError, match="positive"):
        VoxelConfig(voxel_size=(0.1, 0.0, 0.1))
    with pytest.raises(ValidationError):
        VoxelConfig(coordinates="spherical")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="x, y, z"):
        voxelize(torch.zeros(4, 2), VoxelConfig())


@pytest.mark.parametrize(("values", "message"), [
    ({"voxel_size": [0.1]}, "one positive size or three"),
    ({"voxel_size": [0.1, 0.1]}, "one positive size or three"),
    ({"voxel_size": -0.1}, "one positive size or three"),
    ({"coordinates": "cylindrical", "voxel_size": 0.1}, "cylindrical grid needs voxel_size per axis"),
])
def test_an_encoder_grid_that_cannot_be_built_is_refused(values: dict, message: str) -> None:
    from pydantic import ValidationError

    from bench3d.models.encoder import EncoderConfig

    with pytest.raises(ValidationError, match=message):
        EncoderConfig(**values)
