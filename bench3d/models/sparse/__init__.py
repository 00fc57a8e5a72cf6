"""Sparse voxel tensors and convolutions with two interchangeable backends (pure torch, spconv)."""

from bench3d.models.sparse.backend import (
    BACKEND_CHOICES,
    Backend,
    BackendChoice,
    PointwiseConv,
    SparseBatchNorm,
    SparseSyncBatchNorm,
    relu,
    resolve_backend,
    sparse_conv3d,
    sparse_input,
)
from bench3d.models.sparse.layout import ConvKind, kernel_matrices
from bench3d.models.sparse.tensor import SparseTensor
from bench3d.models.sparse.torch_conv import TorchSparseConv3d

__all__ = [
    "BACKEND_CHOICES",
    "Backend",
    "BackendChoice",
    "ConvKind",
    "PointwiseConv",
    "SparseBatchNorm",
    "SparseSyncBatchNorm",
    "SparseTensor",
    "TorchSparseConv3d",
    "kernel_matrices",
    "relu",
    "resolve_backend",
    "sparse_conv3d",
    "sparse_input",
]
