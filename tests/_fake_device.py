"""A second device on a CPU-only machine, for tests: `FAKE_DEVICE` (`cpu:1`) behaves like a GPU for device
discipline. Tensors moved or created there are tagged; every op's tagged results stay tagged; an op that
mixes a tagged tensor with an untagged non-scalar one raises `DeviceMixError`, as CUDA would (indexing with
a host index and cross-device `copy_` are allowed, as CUDA allows them; `.numpy()` of a device tensor is not).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map

FAKE_DEVICE = torch.device("cpu", 1)
HOST = torch.device("cpu")
_INDEXING = {torch.Tensor.__getitem__, torch.Tensor.__setitem__, torch.Tensor.copy_}
_TO_HOST = {torch.Tensor.cpu, torch.Tensor.tolist, torch.Tensor.item}


class DeviceMixError(RuntimeError):
    pass


_DEVICE_GETTER = torch.Tensor.device.__get__


def _as_device(value: Any) -> torch.device | None:
    if isinstance(value, torch.device):
        return value
    if isinstance(value, str):
        try:
            return torch.device(value)
        except RuntimeError:
            return None
    return None


def _is_fake(value: Any) -> bool:
    return _as_device(value) == FAKE_DEVICE


def _target(func: Any, args: tuple, kwargs: dict) -> torch.device | None:
    """The device an op asks for (`device=` or `.to(device)`), if any."""
    if "device" in kwargs and kwargs["device"] is not None:
        return torch.device(kwargs["device"])
    if func is torch.Tensor.to:
        for a in args[1:]:
            if _as_device(a) is not None:
                return _as_device(a)
            if isinstance(a, torch.Tensor):
                return None  # .to(other): handled by tagging rules
    return None


class FakeDevice(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self._ids: set[int] = set()

    def tag(self, t: torch.Tensor) -> None:
        if id(t) not in self._ids:
            self._ids.add(id(t))
            weakref.finalize(t, self._ids.discard, id(t))

    def on_device(self, t: Any) -> bool:
        return isinstance(t, torch.Tensor) and id(t) in self._ids

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        kwargs = dict(kwargs or {})
        if func == _DEVICE_GETTER:
            return FAKE_DEVICE if self.on_device(args[0]) else func(*args, **kwargs)
        target = _target(func, args, kwargs)
        args = tree_map(lambda a: HOST if _is_fake(a) else a, args)
        kwargs = tree_map(lambda a: HOST if _is_fake(a) else a, kwargs)
        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        on_dev = [t for t in tensors if self.on_device(t)]
        if on_dev and func not in _INDEXING:
            host = [t for t in tensors if not self.on_device(t) and t.dim() > 0]
            if host:
                raise DeviceMixError(f"{getattr(func, '__qualname__', func)}: a tensor on {FAKE_DEVICE} meets "
                                     f"{len(host)} host tensor(s) of shape(s) {[tuple(h.shape) for h in host][:3]}")
        if func is torch.Tensor.numpy and on_dev:
            raise DeviceMixError("numpy() of a device tensor (call .cpu() first)")
        out = func(*args, **kwargs)
        to_host = func in _TO_HOST or (target is not None and target == HOST)
        to_dev = target is not None and target == FAKE_DEVICE
        if to_host and isinstance(out, torch.Tensor):
            return out.clone() if on_dev else out  # a new host tensor, as a device -> host copy is
        if to_dev or (on_dev and not to_host):
            if to_dev and isinstance(out, torch.Tensor) and any(out is t for t in tensors):
                out = out.clone()  # moved: the host original stays a host tensor
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor):
                    self.tag(t)
        return out


@contextmanager
def fake_device() -> Iterator[FakeDevice]:
    """Inside: `FAKE_DEVICE` works as a second device; `nn.Module.to(FAKE_DEVICE)` tags parameters and buffers."""
    mode = FakeDevice()
    original = nn.Module.to

    def module_to(module: nn.Module, *args: Any, **kwargs: Any) -> nn.Module:
        wanted = any(_is_fake(a) for a in (*args, *kwargs.values()))
        module = original(module, *[HOST if _is_fake(a) else a for a in args],
                          **{k: HOST if _is_fake(v) else v for k, v in kwargs.items()})
        if wanted:
            for t in (*module.parameters(), *module.buffers()):
                mode.tag(t)
        return module

    nn.Module.to = module_to
    try:
        with mode:
            yield mode
    finally:
        nn.Module.to = original
