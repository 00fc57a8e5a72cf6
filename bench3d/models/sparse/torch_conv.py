"""Sparse convolution modules of the pure-torch backend (CPU and GPU, autograd through `torch_ops`)."""

from __future__ import annotations

import torch
from torch import nn

from bench3d.models.sparse.layout import (
    ConvKind,
    check_kernel,
    init_kaiming_fan_out,
    kernel_matrices,
    weight_shape,
)
from bench3d.models.sparse.tensor import SparseTensor
from bench3d.models.sparse.torch_ops import sparse_conv


class TorchSparseConv3d(nn.Module):
    """Submanifold, strided (kernel == stride) or transposed sparse 3D conv on `SparseTensor`s.

    Parameters: `weight` (C_out, k, k, k, C_in) and optional `bias` (C_out,), named and shaped as in
    spconv so state dicts move between backends unchanged.
    """

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, kind: ConvKind, bias: bool = False
    ) -> None:
        super().__init__()
        check_kernel(kind, kernel_size)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.kind = kind
        self.weight = nn.Parameter(torch.empty(weight_shape(in_channels, out_channels, kernel_size)))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        init_kaiming_fan_out(self.weight)

    def forward(self, x: SparseTensor) -> SparseTensor:
        k = self.kernel_size
        if self.kind is ConvKind.SUBMANIFOLD:
            out_stride = x.stride
            kernel_map = x.context.submanifold(x.stride, k)
        elif self.kind is ConvKind.DOWN:
            out_stride = x.stride * k
            kernel_map = x.context.downsample(x.stride, k)
        else:
            out_stride = x.stride // k
            kernel_map = x.context.upsample(x.stride, k)
        features = sparse_conv(x.features, kernel_matrices(self.weight), kernel_map)
        if self.bias is not None:
            features = features + self.bias
        return x.at(out_stride, features)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"kind={self.kind.value}, bias={self.bias is not None}"
        )
