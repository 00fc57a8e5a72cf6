"""MinkUNet on the torch backend: presets, shapes, determinism, point-order invariance, a training step."""

from __future__ import annotations

import pytest
import torch
from sparse_frames import lidar_like_frame

from bench3d.errors import ConfigError, UnknownNameError
from bench3d.models import MinkUNet, MinkUNetConfig, VoxelConfig, voxelize
from bench3d.models.sparse import resolve_backend


@pytest.fixture(scope="module")
def frame() -> torch.Tensor:
    return lidar_like_frame(num_beams=16, num_azimuths=400)


def tiny_model(seed: int = 0, **overrides: object) -> MinkUNet:
    torch.manual_seed(seed)
    return MinkUNet(MinkUNetConfig.from_preset("tiny", backend="torch", **overrides))


def test_paper_preset_is_res16unet34c() -> None:
    config = MinkUNetConfig.from_preset("paper")
    assert config.stem_channels == 32
    assert config.encoder_channels + config.decoder_channels == (32, 64, 128, 256, 256, 128, 96, 96)
    assert config.encoder_blocks + config.decoder_blocks == (2, 3, 4, 6, 2, 2, 2, 2)
    assert config.out_channels == 96
    model = MinkUNet(config.model_copy(update={"backend": "torch"}))
    # Res16UNet34C without its final 1x1 head: ~37.8 M parameters.
    assert 37_000_000 < sum(p.numel() for p in model.parameters()) < 38_500_000
    assert len(model.encoder) == 4 and len(model.decoder) == 4


def test_tiny_preset_and_overrides() -> None:
    tiny = MinkUNetConfig.from_preset("tiny")
    assert tiny.out_channels == 32 and tiny.encoder_blocks == (1, 1, 1, 1)
    assert MinkUNetConfig.from_preset("tiny", in_channels=4).in_channels == 4
    with pytest.raises(UnknownNameError, match="paper, tiny"):
        MinkUNetConfig.from_preset("huge")
    with pytest.raises(ConfigError, match="stem_kernel_size"):
        MinkUNetConfig.from_preset("tiny", stem_kernel_size=2)
    with pytest.raises(ConfigError, match="extra"):
        MinkUNetConfig.from_preset("tiny", widths=3)


def test_backend_resolution() -> None:
    assert resolve_backend("torch") == "torch"
    if not torch.cuda.is_available():
        assert resolve_backend("auto") == "torch"
    with pytest.raises(ConfigError, match="unknown value"):
        resolve_backend("minkowski")


def test_output_shapes_and_point_features(frame: torch.Tensor) -> None:
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.3), features=frame[:, 3:])
    model = tiny_model().eval()
    with torch.no_grad():
        voxel_features = model(voxels.coords, voxels.features)
        point_features = model.forward_points(voxels)
    assert voxel_features.shape == (voxels.coords.shape[0], 32)
    assert point_features.shape == (frame.shape[0], 32)
    torch.testing.assert_close(point_features, voxel_features[voxels.point_to_voxel])
    assert torch.isfinite(voxel_features).all()


def test_same_input_gives_bitwise_same_output(frame: torch.Tensor) -> None:
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.3), features=frame[:, 3:])
    first, second = tiny_model(seed=3), tiny_model(seed=3)
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    out_first = first(voxels.coords, voxels.features)
    out_second = second(voxels.coords, voxels.features)
    out_again = first(voxels.coords, voxels.features)
    assert torch.equal(out_first, out_second) and torch.equal(out_first, out_again)
    out_first.square().mean().backward()
    out_second.square().mean().backward()
    assert all(torch.equal(a.grad, b.grad) for a, b in zip(first.parameters(), second.parameters()))


def test_point_features_do_not_depend_on_point_order(frame: torch.Tensor) -> None:
    config = VoxelConfig(voxel_size=0.3)
    permutation = torch.randperm(frame.shape[0], generator=torch.Generator().manual_seed(1))
    model = tiny_model().eval()
    with torch.no_grad():
        original = model.forward_points(voxelize(frame, config, features=frame[:, 3:]))
        shuffled_frame = frame[permutation]
        shuffled = model.forward_points(voxelize(shuffled_frame, config, features=shuffled_frame[:, 3:]))
    torch.testing.assert_close(shuffled, original[permutation], rtol=1e-5, atol=1e-6)


def test_voxel_row_order_only_permutes_the_output(frame: torch.Tensor) -> None:
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.3), features=frame[:, 3:])
    permutation = torch.randperm(voxels.coords.shape[0], generator=torch.Generator().manual_seed(2))
    model = tiny_model().eval()
    with torch.no_grad():
        original = model(voxels.coords, voxels.features)
        permuted = model(voxels.coords[permutation], voxels.features[permutation])
    torch.testing.assert_close(permuted, original[permutation], rtol=1e-5, atol=1e-6)


def test_training_step_updates_every_parameter(frame: torch.Tensor) -> None:
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.25), features=frame[:, 3:])
    model = tiny_model()
    head = torch.nn.Linear(model.out_channels, 4)
    optimiser = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.05)
    labels = (frame[:, 2] > -1.0).long() + 2 * (frame[:, :2].norm(dim=1) > 12.0).long()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    losses = []
    for _ in range(3):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(model.forward_points(voxels)), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    unchanged = [name for name, p in model.named_parameters() if torch.equal(p, before[name])]
    assert not unchanged
