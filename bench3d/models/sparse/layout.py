"""The one weight layout shared by both backends, and the kinds of sparse convolution.

Every sparse conv weight is stored as (C_out, k_x, k_y, k_z, C_in) - spconv 2.x's default "KRSC"
layout (its `ALL_WEIGHT_IS_KRSC = True`), with kernel axes in coordinate order (x, y, z). In dense terms:

* submanifold / strided conv == `F.conv3d(dense, weight.permute(0, 4, 1, 2, 3), stride=s, padding=p)`
  sampled at the output sites (a cross-correlation: W[a, b, c] multiplies the input at
  site + (a, b, c) - k // 2 for a submanifold conv, at s * site + (a, b, c) for a strided one);
* transposed conv == `F.conv_transpose3d(dense, weight.permute(4, 0, 1, 2, 3), stride=s)` sampled at
  the cached finer sites.

1x1x1 convs read the same layout (weight[:, 0, 0, 0, :] is the C_out x C_in matrix) on both backends;
they never go through spconv, whose 1x1 path in 2.3.8 reads the KRSC tensor's memory as a
(C_in, C_out) matrix instead (see tests/test_sparse_spconv.py).
"""

from __future__ import annotations

import enum
import math

import torch


class ConvKind(str, enum.Enum):
    SUBMANIFOLD = "submanifold"  # stride 1, output sites = input sites, odd kernel
    DOWN = "down"  # kernel == stride, output sites = unique(floor(site / stride))
    UP = "up"  # transposed DOWN, output sites = the cached finer sites


def weight_shape(in_channels: int, out_channels: int, kernel_size: int) -> tuple[int, ...]:
    return (out_channels, kernel_size, kernel_size, kernel_size, in_channels)


def kernel_matrices(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, k, k, k, C_in) -> (k**3, C_in, C_out), offsets in weight order (x slowest, z fastest)."""
    out_channels, in_channels = weight.shape[0], weight.shape[-1]
    return weight.reshape(out_channels, -1, in_channels).permute(1, 2, 0)


def init_kaiming_fan_out(weight: torch.Tensor) -> None:
    """He-normal init with fan_out = C_out * k**3, as MinkowskiEngine's ResNets initialise kernels."""
    fan_out = weight.shape[0] * math.prod(weight.shape[1:-1])
    with torch.no_grad():
        weight.normal_(0.0, math.sqrt(2.0 / fan_out))


def check_kernel(kind: ConvKind, kernel_size: int) -> None:
    if kernel_size < 1:
        raise ValueError(f"kernel size must be >= 1, got {kernel_size}")
    if kind is ConvKind.SUBMANIFOLD and kernel_size % 2 == 0:
        raise ValueError(f"a submanifold conv needs an odd kernel size, got {kernel_size}")
    if kind is not ConvKind.SUBMANIFOLD and kernel_size < 2:
        raise ValueError(f"a {kind.value} conv has kernel size == stride >= 2, got {kernel_size}")
