"""Name -> adapter class. A new method is an adapter module plus a card in methods/."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bench3d.cards import load_method_card, method_names
from bench3d.errors import ConfigError, UnknownNameError

if TYPE_CHECKING:
    from bench3d.methods.base import MethodAdapter

_ADAPTERS: dict[str, type[MethodAdapter]] = {}
# Adapter modules imported on first use, so `bench3d list` stays fast.
_BUILTIN_MODULES = ("random_init", "scalr", "slidr", "lima.adapter")


def register(cls: type[MethodAdapter]) -> type[MethodAdapter]:
    _ADAPTERS[cls.name] = cls
    return cls


def registered_methods() -> dict[str, type[MethodAdapter]]:
    for mod in _BUILTIN_MODULES:
        importlib.import_module(f"bench3d.methods.{mod}")
    return dict(_ADAPTERS)


def build_method(name: str, preset: str = "tiny", **kwargs: Any) -> MethodAdapter:
    adapters = registered_methods()
    if name not in method_names():
        raise UnknownNameError("method", name, sorted(set(method_names()) & set(adapters)))
    if name not in adapters:
        raise ConfigError(f"method card {name!r} has no adapter; known adapters: {sorted(adapters)}")
    return adapters[name](load_method_card(name), preset=preset, **kwargs)
