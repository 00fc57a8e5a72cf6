"""Gather - GEMM - scatter sparse convolution with a hand-written backward.

One Python loop over kernel offsets (at most k**3 iterations); all per-site work is vectorised.
The hand-written backward reuses the kernel map instead of letting autograd record k**3 gathers and
scatters, each of which would allocate a full-size gradient buffer, and it re-gathers the input
features instead of saving the gathered copies, which keeps training memory at O(sites x channels).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.autograd.function import once_differentiable

from bench3d.models.sparse.kernel_map import KernelMap


class _SparseConvFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any, features: torch.Tensor, weight: torch.Tensor, kernel_map: KernelMap
    ) -> torch.Tensor:
        ctx.kernel_map = kernel_map
        ctx.save_for_backward(features, weight)
        return _apply(features, weight, kernel_map)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None, None]:
        features, weight = ctx.saved_tensors
        kernel_map: KernelMap = ctx.kernel_map
        grad_out = grad_out.contiguous()
        want_features, want_weight = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        identity = kernel_map.identity_offset
        # d(features): the same scatter with inputs and outputs swapped and each W[k] transposed.
        grad_features = None
        if want_features:
            if identity is not None:
                grad_features = grad_out @ weight[identity].t()
            else:
                grad_features = features.new_zeros(features.shape)
        grad_weight = torch.zeros_like(weight) if want_weight else None
        if grad_weight is not None and identity is not None:
            grad_weight[identity] = features.t() @ grad_out
        for k in range(kernel_map.num_offsets):
            if k == identity or not kernel_map.in_rows[k].numel():
                continue
            gathered_grad = grad_out.index_select(0, kernel_map.out_rows[k])  # shared by both gradients
            if grad_features is not None:
                grad_features.index_add_(0, kernel_map.in_rows[k], gathered_grad @ weight[k].t())
            if grad_weight is not None:
                grad_weight[k] = features.index_select(0, kernel_map.in_rows[k]).t() @ gathered_grad
        return grad_features, grad_weight, None


def _apply(features: torch.Tensor, weight: torch.Tensor, kernel_map: KernelMap) -> torch.Tensor:
    """out[out_rows[k]] += features[in_rows[k]] @ weight[k] for every offset k; weight is (K, C_in, C_out)."""
    identity = kernel_map.identity_offset
    if identity is not None:
        out = features @ weight[identity]
    else:
        out = features.new_zeros(kernel_map.num_out, weight.shape[2])
    for k in range(kernel_map.num_offsets):
        if k == identity or not kernel_map.in_rows[k].numel():
            continue
        gathered = features.index_select(0, kernel_map.in_rows[k])
        out.index_add_(0, kernel_map.out_rows[k], gathered @ weight[k])
    return out


def sparse_conv(features: torch.Tensor, weight: torch.Tensor, kernel_map: KernelMap) -> torch.Tensor:
    """Apply a sparse convolution given as a kernel map.

    features: (num_in, C_in); weight: (K, C_in, C_out) with K = kernel_map.num_offsets.
    Returns (num_out, C_out).
    """
    if features.shape[0] != kernel_map.num_in:
        raise ValueError(f"kernel map expects {kernel_map.num_in} input rows, got {features.shape[0]}")
    if weight.shape[0] != kernel_map.num_offsets or weight.shape[1] != features.shape[1]:
        raise ValueError(
            f"weight {tuple(weight.shape)} does not fit {kernel_map.num_offsets} offsets x "
            f"{features.shape[1]} channels"
        )
    # Under autocast the gather-GEMM-scatter runs in the weight's dtype (float32): index_add_ accumulates
    # in the output's dtype, and bf16 accumulation over k**3 offsets loses too much. The hand-written
    # backward then sees one dtype throughout.
    with torch.autocast(features.device.type, enabled=False):
        return _SparseConvFunction.apply(features.contiguous().to(weight.dtype), weight.contiguous(), kernel_map)
