"""The same sparse layers mapped onto spconv 2.3.8 (optional dependency, meant for GPU users).

Mapping: submanifold -> `SubMConv3d`, down -> `SparseConv3d(kernel=stride)`, up ->
`SparseInverseConv3d` sharing the `indice_key` of the strided conv it undoes, so it returns to the
exact finer sites in their original row order. Weights are (C_out, k, k, k, C_in) in both backends.

Two facts about spconv 2.3.8 on a CPU-only machine, both handled here: its backward asks for a CUDA
stream (patched to stream 0), and its CPU scatter-add is wrong with more than one torch thread
(refused by `check_cpu_threads`). 1x1 convs never reach spconv (see `layout`).
"""

from __future__ import annotations

import functools
import logging
from types import ModuleType
from typing import Any

import torch
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.sparse.layout import ConvKind, check_kernel

logger = logging.getLogger(__name__)

# spconv needs non-negative indices and a spatial shape that every strided level divides; shifting by a
# multiple of this (and padding the shape to one) keeps floor(site / 2**l) consistent for up to 6 levels.
SPATIAL_ALIGNMENT = 64


def is_available() -> bool:
    try:
        import spconv.pytorch  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def spconv_module() -> ModuleType:
    """Import spconv.pytorch once, making its backward usable on machines without CUDA."""
    import spconv.pytorch as spconv_pytorch

    _allow_backward_without_cuda()
    return spconv_pytorch


def _allow_backward_without_cuda() -> None:
    # spconv 2.3.8's CPU build runs forward on CPU, but its backward asks torch for the current CUDA
    # stream and fails without CUDA; stream 0 is what its CPU kernels expect.
    if torch.cuda.is_available():
        return
    import spconv.pytorch.cppcore as cppcore
    import spconv.pytorch.hash as sp_hash
    import spconv.pytorch.ops as sp_ops

    def current_stream_or_zero() -> int:
        return torch.cuda.current_stream().cuda_stream if torch.cuda.is_available() else 0

    for module in (cppcore, sp_ops, sp_hash):
        module.get_current_stream = current_stream_or_zero
    logger.debug("spconv: CPU backward enabled (get_current_stream -> 0 without CUDA)")


@functools.cache
def conv_classes() -> dict[ConvKind, type[nn.Module]]:
    """spconv's conv classes with torch's own state-dict loading.

    Importing mmdet3d replaces `SparseModule._load_from_state_dict` process-wide with a loader that permutes every
    weight from spconv-1 layout unless the state dict says version 2; bench3d's weights are always
    (C_out, k, k, k, C_in), so its convs keep the plain loader whatever else the process imported.
    """
    sp = spconv_module()

    def plain(base: type[nn.Module]) -> type[nn.Module]:
        return type(base.__name__, (base,), {"_load_from_state_dict": nn.Module._load_from_state_dict})

    return {ConvKind.SUBMANIFOLD: plain(sp.SubMConv3d), ConvKind.DOWN: plain(sp.SparseConv3d),
            ConvKind.UP: plain(sp.SparseInverseConv3d)}


def make_conv(
    in_channels: int, out_channels: int, kernel_size: int, kind: ConvKind, indice_key: str, bias: bool = False
) -> nn.Module:
    check_kernel(kind, kernel_size)
    cls = conv_classes()[kind]
    if kind is ConvKind.DOWN:
        return cls(in_channels, out_channels, kernel_size, stride=kernel_size, bias=bias, indice_key=indice_key)
    return cls(in_channels, out_channels, kernel_size, bias=bias, indice_key=indice_key)


def check_cpu_threads(features: torch.Tensor) -> None:
    """Refuse spconv's CPU kernels when torch runs more than one intra-op thread.

    Measured with spconv 2.3.8: with 2 threads, the CPU scatter-add returns different, wrong features
    on every call (forward outputs and input gradients; weight gradients are unaffected); with 1 thread
    it matches the torch backend exactly. A benchmark must not silently produce such numbers.
    """
    if not features.is_cuda and torch.get_num_threads() > 1:
        raise ConfigError(
            f"backend: spconv on CPU gives wrong, run-to-run different results with "
            f"{torch.get_num_threads()} torch threads; call torch.set_num_threads(1) first, or use "
            "backend 'torch' (the fast CPU path)"
        )


def make_tensor(coords: torch.Tensor, features: torch.Tensor) -> Any:
    """A `spconv.SparseConvTensor` from (N, 4) = (batch, x, y, z) integer coords and (N, C) features."""
    sp = spconv_module()
    check_cpu_threads(features)
    if coords.shape[0] == 0:
        raise ValueError("spconv needs at least one active site")
    spatial = coords[:, 1:].to(torch.int64)
    shift = torch.div(spatial.min(dim=0).values, SPATIAL_ALIGNMENT, rounding_mode="floor") * SPATIAL_ALIGNMENT
    spatial = spatial - shift
    extent = spatial.max(dim=0).values + 1
    blocks = torch.div(extent + SPATIAL_ALIGNMENT - 1, SPATIAL_ALIGNMENT, rounding_mode="floor")
    shape = blocks * SPATIAL_ALIGNMENT
    # spconv reads the raw memory of the index tensor: it must be contiguous int32 (a strided view, as
    # `nonzero().int()` returns, is silently misread).
    indices = torch.cat([coords[:, :1].to(torch.int64), spatial], dim=1).to(torch.int32).contiguous()
    batch_size = int(coords[:, 0].max()) + 1
    return sp.SparseConvTensor(features.contiguous(), indices.to(features.device), shape.tolist(), batch_size)
