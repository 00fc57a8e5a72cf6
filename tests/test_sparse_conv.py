"""The pure-torch sparse backend against dense `conv3d` / `conv_transpose3d` on a small grid."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from bench3d.models.sparse import ConvKind, SparseTensor, TorchSparseConv3d, sparse_conv3d

GRID = 8


def random_sites(seed: int, batch_size: int = 2, density: float = 0.3) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    occupied = torch.rand(batch_size, GRID, GRID, GRID, generator=generator) < density
    return occupied.nonzero()  # (N, 4) = (batch, x, y, z), sorted


def to_dense(coords: torch.Tensor, features: torch.Tensor, batch_size: int, size: int) -> torch.Tensor:
    dense = features.new_zeros(batch_size, features.shape[1], size, size, size)
    dense[coords[:, 0], :, coords[:, 1], coords[:, 2], coords[:, 3]] = features
    return dense


def at_sites(dense: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    return dense[coords[:, 0], :, coords[:, 1], coords[:, 2], coords[:, 3]]


def leaf(shape: tuple[int, ...], seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=torch.float64).requires_grad_()


def assert_grads_match(sparse_loss: torch.Tensor, dense_loss: torch.Tensor, *leaves: torch.Tensor) -> None:
    sparse_grads = torch.autograd.grad(sparse_loss, leaves)
    dense_grads = torch.autograd.grad(dense_loss, leaves)
    for sparse_grad, dense_grad in zip(sparse_grads, dense_grads):
        torch.testing.assert_close(sparse_grad, dense_grad, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("kernel_size", [1, 3, 5])
def test_submanifold_conv_equals_dense_conv_at_active_sites(kernel_size: int) -> None:
    coords = random_sites(0)
    features = leaf((coords.shape[0], 3), 1)
    conv = sparse_conv3d("torch", 3, 4, kernel_size).double()
    out = conv(SparseTensor.from_voxels(coords, features))
    dense_out = F.conv3d(
        to_dense(coords, features, 2, GRID), conv.weight.permute(0, 4, 1, 2, 3), padding=kernel_size // 2
    )
    expected = at_sites(dense_out, coords)
    torch.testing.assert_close(out.features, expected, rtol=1e-10, atol=1e-10)
    assert torch.equal(out.coords, coords)
    probe = leaf(tuple(expected.shape), 2).detach()
    assert_grads_match((out.features * probe).sum(), (expected * probe).sum(), features, conv.weight)


def test_strided_conv_equals_dense_strided_conv() -> None:
    coords = random_sites(3)
    features = leaf((coords.shape[0], 3), 4)
    conv = TorchSparseConv3d(3, 5, 2, ConvKind.DOWN).double()
    out = conv(SparseTensor.from_voxels(coords, features))
    dense_out = F.conv3d(to_dense(coords, features, 2, GRID), conv.weight.permute(0, 4, 1, 2, 3), stride=2)
    # Output sites = unique floor(coord / 2), sorted; the dense result is zero everywhere else.
    parents = torch.cat([coords[:, :1], coords[:, 1:] // 2], dim=1).unique(dim=0)
    assert out.stride == 2
    assert torch.equal(out.coords, parents)
    expected = at_sites(dense_out, parents)
    torch.testing.assert_close(out.features, expected, rtol=1e-10, atol=1e-10)
    elsewhere = dense_out.detach().clone()
    elsewhere[parents[:, 0], :, parents[:, 1], parents[:, 2], parents[:, 3]] = 0
    assert not elsewhere.any()
    probe = leaf(tuple(expected.shape), 5).detach()
    assert_grads_match((out.features * probe).sum(), (expected * probe).sum(), features, conv.weight)


def test_transposed_conv_returns_to_the_finer_sites_like_dense_transposed_conv() -> None:
    coords = random_sites(6)
    fine = SparseTensor.from_voxels(coords, torch.zeros(coords.shape[0], 2, dtype=torch.float64))
    down = TorchSparseConv3d(2, 3, 2, ConvKind.DOWN).double()
    coarse_sites = down(fine)
    coarse_features = leaf((coarse_sites.features.shape[0], 3), 7)
    up = TorchSparseConv3d(3, 4, 2, ConvKind.UP).double()
    out = up(coarse_sites.replace_feature(coarse_features))
    assert out.stride == 1
    assert torch.equal(out.coords, coords)
    dense_in = to_dense(coarse_sites.coords, coarse_features, 2, GRID // 2)
    dense_out = F.conv_transpose3d(dense_in, up.weight.permute(4, 0, 1, 2, 3), stride=2)
    expected = at_sites(dense_out, coords)
    torch.testing.assert_close(out.features, expected, rtol=1e-10, atol=1e-10)
    probe = leaf(tuple(expected.shape), 8).detach()
    assert_grads_match((out.features * probe).sum(), (expected * probe).sum(), coarse_features, up.weight)


def test_negative_coordinates_and_bias() -> None:
    coords = random_sites(9)
    shifted = coords.clone()
    shifted[:, 1:] -= 5  # same pattern, partly negative: floor division must keep the parent structure
    features = leaf((coords.shape[0], 2), 10).detach()
    down = TorchSparseConv3d(2, 3, 2, ConvKind.DOWN, bias=True).double()
    with torch.no_grad():
        down.bias.fill_(0.5)
        subm = TorchSparseConv3d(2, 3, 3, ConvKind.SUBMANIFOLD).double()
        a = subm(SparseTensor.from_voxels(coords, features)).features
        b = subm(SparseTensor.from_voxels(shifted, features)).features
        torch.testing.assert_close(a, b)
        coarse = down(SparseTensor.from_voxels(shifted, features))
    parents = torch.cat([shifted[:, :1], torch.div(shifted[:, 1:], 2, rounding_mode="floor")], dim=1)
    assert torch.equal(coarse.coords, parents.unique(dim=0))


def test_kernel_maps_are_built_once_per_stride_and_kernel() -> None:
    coords = random_sites(11)
    x = SparseTensor.from_voxels(coords, torch.randn(coords.shape[0], 2))
    first = x.context.submanifold(1, 3)
    y = sparse_conv3d("torch", 2, 2, 3)(x)
    assert y.context is x.context
    assert x.context.submanifold(1, 3) is first
    down = sparse_conv3d("torch", 2, 2, 2, ConvKind.DOWN)(y)
    down_map = x.context.downsample(1, 2)
    sparse_conv3d("torch", 2, 2, 3)(down)
    assert x.context.downsample(1, 2) is down_map
    assert set(x.context.coords) == {1, 2}


def test_batches_do_not_mix() -> None:
    coords = random_sites(12)
    features = torch.randn(coords.shape[0], 2)
    conv = sparse_conv3d("torch", 2, 3, 3)
    with torch.no_grad():
        joint = conv(SparseTensor.from_voxels(coords, features)).features
        first = coords[:, 0] == 0
        alone = conv(SparseTensor.from_voxels(coords[first], features[first])).features
    torch.testing.assert_close(joint[first], alone)


def test_invalid_inputs_are_refused() -> None:
    coords = random_sites(13)
    with pytest.raises(ValueError, match="duplicate"):
        SparseTensor.from_voxels(torch.cat([coords, coords[:1]]), torch.zeros(coords.shape[0] + 1, 1))
    with pytest.raises(ValueError, match="outside"):
        SparseTensor.from_voxels(torch.tensor([[0, 40000, 0, 0]]), torch.zeros(1, 1))
    with pytest.raises(ValueError, match="run that first"):
        up = sparse_conv3d("torch", 1, 1, 2, ConvKind.UP)
        up(SparseTensor.from_voxels(coords, torch.zeros(len(coords), 1)))
    with pytest.raises(ValueError, match="odd"):
        sparse_conv3d("torch", 1, 1, 2, ConvKind.SUBMANIFOLD)
