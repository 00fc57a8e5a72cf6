"""Method adapters: one small class per method, joined to the harness by the card and two hooks."""

from bench3d.methods.base import MethodAdapter, PretrainContext, pretrain_state_path
from bench3d.methods.registry import build_method, registered_methods

__all__ = ["MethodAdapter", "PretrainContext", "build_method", "pretrain_state_path", "registered_methods"]
