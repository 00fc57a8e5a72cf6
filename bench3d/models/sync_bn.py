"""`--sync-bn`: every BatchNorm of a model made a SyncBatchNorm (statistics over all ranks; CUDA only).

torch's own converter builds a plain `nn.SyncBatchNorm`, whose forward takes a dense tensor; the sparse
backbone's norm takes a sparse tensor, so it becomes `SparseSyncBatchNorm` instead. Parameters are the same
objects and the buffers the same tensors, so an optimiser built before the conversion still steps them and
the state dict keeps its keys.
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from bench3d.models.sparse import SparseBatchNorm, SparseSyncBatchNorm


def _synced(bn: _BatchNorm) -> nn.SyncBatchNorm:
    cls = SparseSyncBatchNorm if isinstance(bn, SparseBatchNorm) else nn.SyncBatchNorm
    out = cls(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
    if bn.affine:
        out.weight, out.bias = bn.weight, bn.bias
    if bn.track_running_stats:
        out.running_mean, out.running_var = bn.running_mean, bn.running_var
        out.num_batches_tracked = bn.num_batches_tracked
    out.train(bn.training)
    return out


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """`module` with each BatchNorm (not already synced) replaced in place; returns it (or its replacement)."""
    if isinstance(module, _BatchNorm) and not isinstance(module, nn.SyncBatchNorm):
        return _synced(module)
    for name, child in module.named_children():
        setattr(module, name, convert_sync_batchnorm(child))
    return module
