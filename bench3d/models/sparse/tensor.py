"""The sparse tensor of the pure-torch backend."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from bench3d.models.sparse.kernel_map import CoordinateContext


@dataclass(frozen=True)
class SparseTensor:
    """Features on active voxel sites at one resolution.

    `features` row i belongs to `coords` row i. `stride` is the tensor stride (1 = input voxels,
    2 after one 2x downsampling, ...). `context` is shared with every tensor derived from the same input,
    so kernel maps built by one layer are reused by all later layers at that resolution.
    The interface (`features`, `replace_feature`, `indices`) mirrors spconv's SparseConvTensor, so model
    code runs unchanged on either backend.
    """

    features: torch.Tensor
    stride: int
    context: CoordinateContext

    @classmethod
    def from_voxels(cls, coords: torch.Tensor, features: torch.Tensor) -> SparseTensor:
        """A stride-1 tensor from unique integer coords (N, 4) = (batch, x, y, z) and features (N, C)."""
        if features.dim() != 2 or features.shape[0] != coords.shape[0]:
            raise ValueError(
                f"features must be (N, C) with N = {coords.shape[0]} coordinate rows, "
                f"got {tuple(features.shape)}"
            )
        return cls(features, 1, CoordinateContext.from_coords(coords.to(features.device)))

    @property
    def coords(self) -> torch.Tensor:
        """(N, 4) int64 (batch, x, y, z) in units of this tensor's stride."""
        return self.context.coords[self.stride]

    @property
    def indices(self) -> torch.Tensor:
        return self.coords

    def replace_feature(self, features: torch.Tensor) -> SparseTensor:
        if features.shape[0] != self.features.shape[0]:
            raise ValueError(f"expected {self.features.shape[0]} feature rows, got {features.shape[0]}")
        return SparseTensor(features, self.stride, self.context)

    def at(self, stride: int, features: torch.Tensor) -> SparseTensor:
        """A tensor on this context's sites at another stride (used by strided / transposed convs)."""
        return SparseTensor(features, stride, self.context)
