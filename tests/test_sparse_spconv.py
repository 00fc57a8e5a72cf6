"""The spconv backend against the torch backend with the same weights (spconv 2.3.8, CPU).

spconv's CPU scatter-add is only correct with one torch thread (see `check_cpu_threads`), so every
comparison runs single-threaded.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch
from sparse_frames import lidar_like_frame

pytest.importorskip("spconv")

from bench3d.errors import ConfigError  # noqa: E402
from bench3d.models import MinkUNet, MinkUNetConfig, VoxelConfig, voxelize  # noqa: E402
from bench3d.models.sparse import ConvKind, SparseTensor, sparse_conv3d, sparse_input  # noqa: E402
from bench3d.models.sparse.keys import encode  # noqa: E402
from bench3d.models.sparse.spconv_backend import spconv_module  # noqa: E402


@pytest.fixture(autouse=True)
def single_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sites(seed: int, size: int = 12, density: float = 0.25) -> torch.Tensor:
    occupied = torch.rand(2, size, size, size, generator=torch.Generator().manual_seed(seed)) < density
    return occupied.nonzero() - torch.tensor([0, 5, 5, 5])  # partly negative, like real voxels


def rows_by_site(coords: torch.Tensor) -> torch.Tensor:
    """Row order that sorts sites, after removing the backend's translation (spconv shifts to >= 0)."""
    origin = torch.cat([torch.zeros(1, dtype=torch.int64), coords[:, 1:].min(dim=0).values])
    return encode(coords.long() - origin).argsort()


def same_weights(*convs: torch.nn.Module) -> None:
    reference = convs[0].state_dict()
    for conv in convs[1:]:
        conv.load_state_dict(reference, strict=True)


@pytest.mark.parametrize("kernel_size", [3, 5])
def test_submanifold_conv_matches(kernel_size: int) -> None:
    coords = sites(0)
    features = torch.randn(coords.shape[0], 3, generator=torch.Generator().manual_seed(1))
    ours = sparse_conv3d("torch", 3, 4, kernel_size)
    theirs = sparse_conv3d("spconv", 3, 4, kernel_size, indice_key="s")
    assert type(theirs).__name__ == "SubMConv3d"
    same_weights(ours, theirs)
    a = ours(sparse_input("torch", coords, features)).features
    b = theirs(sparse_input("spconv", coords, features)).features
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_strided_and_inverse_conv_match() -> None:
    coords = sites(2)
    features = torch.randn(coords.shape[0], 3, generator=torch.Generator().manual_seed(3))
    down_ours = sparse_conv3d("torch", 3, 5, 2, ConvKind.DOWN)
    down_theirs = sparse_conv3d("spconv", 3, 5, 2, ConvKind.DOWN, indice_key="d0")
    up_ours = sparse_conv3d("torch", 5, 4, 2, ConvKind.UP)
    up_theirs = sparse_conv3d("spconv", 5, 4, 2, ConvKind.UP, indice_key="d0")
    assert (type(down_theirs).__name__, type(up_theirs).__name__) == ("SparseConv3d", "SparseInverseConv3d")
    same_weights(down_ours, down_theirs)
    same_weights(up_ours, up_theirs)
    coarse_ours = down_ours(sparse_input("torch", coords, features))
    coarse_theirs = down_theirs(sparse_input("spconv", coords, features))
    # Same coarse sites up to spconv's translation and row order.
    order_ours, order_theirs = rows_by_site(coarse_ours.coords), rows_by_site(coarse_theirs.indices)
    shift = coarse_ours.coords[order_ours[0], 1:] - coarse_theirs.indices[order_theirs[0], 1:].long()
    theirs_sites = coarse_theirs.indices[order_theirs, 1:].long() + shift
    assert torch.equal(coarse_ours.coords[order_ours, 1:], theirs_sites)
    torch.testing.assert_close(
        coarse_ours.features[order_ours], coarse_theirs.features[order_theirs], rtol=1e-4, atol=1e-4
    )
    fine_ours, fine_theirs = up_ours(coarse_ours), up_theirs(coarse_theirs)
    # Both return to the input sites in the input row order.
    assert torch.equal(fine_ours.coords, coords)
    torch.testing.assert_close(fine_ours.features, fine_theirs.features, rtol=1e-4, atol=1e-4)


def test_spconv_1x1_conv_reads_weight_memory_as_in_by_out() -> None:
    """spconv 2.3.8's 1x1 path uses `weight.view(C_in, C_out)` on a (C_out, 1, 1, 1, C_in) tensor.

    That is not the KRSC layout its other kernels use, so bench3d never routes 1x1 convs to spconv:
    `sparse_conv3d(..., kernel_size=1)` is a backend-independent `PointwiseConv`.
    """
    coords = sites(4)
    features = torch.randn(coords.shape[0], 3, generator=torch.Generator().manual_seed(5))
    spconv_1x1 = spconv_module().SubMConv3d(3, 4, 1, bias=False)
    out = spconv_1x1(sparse_input("spconv", coords, features)).features
    weight = spconv_1x1.weight.detach()
    torch.testing.assert_close(out, features @ weight.reshape(3, 4))
    assert not torch.allclose(out, features @ weight[:, 0, 0, 0, :].t())
    pointwise = sparse_conv3d("spconv", 3, 4, 1)
    assert type(pointwise).__name__ == "PointwiseConv"
    pointwise.load_state_dict(spconv_1x1.state_dict(), strict=True)
    ours = pointwise(sparse_input("torch", coords, features)).features
    torch.testing.assert_close(ours, features @ weight[:, 0, 0, 0, :].t())


@pytest.mark.parametrize("preset", ["tiny", "paper"])
def test_whole_unet_matches_and_checkpoints_load_strictly_across_backends(preset: str) -> None:
    frame = lidar_like_frame(num_beams=8, num_azimuths=200 if preset == "tiny" else 120)
    voxels = voxelize(frame, VoxelConfig(voxel_size=0.3), features=frame[:, 3:])
    torch.manual_seed(0)
    ours = MinkUNet(MinkUNetConfig.from_preset(preset, backend="torch"))
    torch.manual_seed(0)
    theirs = MinkUNet(MinkUNetConfig.from_preset(preset, backend="spconv"))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # Same seed, same weights on both backends; and a checkpoint moves either way with strict=True.
    assert all(torch.equal(a, b) for a, b in zip(ours.state_dict().values(), theirs.state_dict().values()))
    theirs.load_state_dict(ours.state_dict(), strict=True)
    ours.load_state_dict(theirs.state_dict(), strict=True)
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        a = ours(voxels.coords, voxels.features)
        b = theirs(voxels.coords, voxels.features)
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_unet_gradients_match_in_float64() -> None:
    frame = lidar_like_frame(num_beams=8, num_azimuths=150)
    voxels = voxelize(frame.double(), VoxelConfig(voxel_size=0.3), features=frame[:, 3:].double())
    torch.manual_seed(0)
    ours = MinkUNet(MinkUNetConfig.from_preset("tiny", backend="torch")).double()
    theirs = MinkUNet(MinkUNetConfig.from_preset("tiny", backend="spconv")).double()
    theirs.load_state_dict(ours.state_dict(), strict=True)
    a = ours(voxels.coords, voxels.features)
    b = theirs(voxels.coords, voxels.features)
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    a.square().sum().backward()
    b.square().sum().backward()
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-8, atol=1e-8, msg=name)


def test_spconv_on_cpu_refuses_several_threads() -> None:
    coords = sites(6)
    torch.set_num_threads(2)
    with pytest.raises(ConfigError, match="set_num_threads"):
        sparse_input("spconv", coords, torch.zeros(coords.shape[0], 1))
    torch.set_num_threads(1)
    assert isinstance(sparse_input("torch", coords, torch.zeros(coords.shape[0], 1)), SparseTensor)
