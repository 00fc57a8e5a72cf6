"""One interface over the two sparse backends: pick a backend, make input tensors and layers.

Model code only uses what both tensor types share: `.features` and `.replace_feature(...)`.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.sparse import spconv_backend
from bench3d.models.sparse.layout import ConvKind, check_kernel, init_kaiming_fan_out, weight_shape
from bench3d.models.sparse.tensor import SparseTensor
from bench3d.models.sparse.torch_conv import TorchSparseConv3d

logger = logging.getLogger(__name__)

BackendChoice = Literal["auto", "torch", "spconv"]
Backend = Literal["torch", "spconv"]
BACKEND_CHOICES: tuple[str, ...] = ("auto", "torch", "spconv")


def resolve_backend(choice: str) -> Backend:
    """`auto` -> spconv when it imports and CUDA is available (its fast path), else the torch backend."""
    if choice not in BACKEND_CHOICES:
        raise ConfigError(f"backend: unknown value {choice!r}; use one of {', '.join(BACKEND_CHOICES)}")
    if choice == "auto":
        use_spconv = torch.cuda.is_available() and spconv_backend.is_available()
        resolved: Backend = "spconv" if use_spconv else "torch"
        logger.debug("backend auto -> %s", resolved)
        return resolved
    if choice == "spconv" and not spconv_backend.is_available():
        raise ConfigError(
            "backend: 'spconv' requested but spconv is not importable; install it with "
            "`pip install 'bench3d[spconv]'` or set backend to 'torch'"
        )
    return choice  # type: ignore[return-value]


def sparse_input(backend: Backend, coords: torch.Tensor, features: torch.Tensor) -> Any:
    """The backend's sparse tensor for unique voxel coords (N, 4) = (batch, x, y, z) and features (N, C)."""
    if backend == "spconv":
        return spconv_backend.make_tensor(coords, features)
    return SparseTensor.from_voxels(coords, features)


class PointwiseConv(nn.Module):
    """1x1x1 conv (a per-site linear map), identical on both backends since it needs no kernel map.

    The weight keeps the common (C_out, 1, 1, 1, C_in) layout so checkpoints stay interchangeable.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = False) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.weight = nn.Parameter(torch.empty(weight_shape(in_channels, out_channels, 1)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        init_kaiming_fan_out(self.weight)

    def forward(self, x: Any) -> Any:
        matrix = self.weight.reshape(self.out_channels, self.in_channels)
        return x.replace_feature(nn.functional.linear(x.features, matrix, self.bias))


def sparse_conv3d(
    backend: Backend,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    kind: ConvKind = ConvKind.SUBMANIFOLD,
    indice_key: str | None = None,
    bias: bool = False,
) -> nn.Module:
    """A sparse conv layer on `backend` with parameters `weight` (C_out, k, k, k, C_in) [and `bias`].

    kind: submanifold (odd k, stride 1), down (kernel == stride == k) or up (transposed down; it returns to
    the sites the matching down conv came from). `indice_key` names the site set for spconv: a down conv
    and the up conv undoing it must share one; the torch backend finds maps by tensor stride instead.
    """
    check_kernel(kind, kernel_size)
    if kind is ConvKind.SUBMANIFOLD and kernel_size == 1:
        return PointwiseConv(in_channels, out_channels, bias=bias)
    if backend == "spconv":
        if indice_key is None:
            raise ValueError("the spconv backend needs an indice_key for every conv with a kernel map")
        return spconv_backend.make_conv(in_channels, out_channels, kernel_size, kind, indice_key, bias=bias)
    return TorchSparseConv3d(in_channels, out_channels, kernel_size, kind, bias=bias)


class SparseBatchNorm(nn.BatchNorm1d):
    """BatchNorm1d over the feature rows of a sparse tensor (all active sites of the batch)."""

    def forward(self, x: Any) -> Any:  # type: ignore[override]
        return x.replace_feature(super().forward(x.features))


class SparseSyncBatchNorm(nn.SyncBatchNorm):
    """SyncBatchNorm over the feature rows of a sparse tensor: statistics over every rank's active sites
    (`--sync-bn`, CUDA only). Same parameters and buffers as SparseBatchNorm, so checkpoints load in either."""

    def forward(self, x: Any) -> Any:  # type: ignore[override]
        return x.replace_feature(super().forward(x.features))


def relu(x: Any) -> Any:
    return x.replace_feature(torch.relu(x.features))
