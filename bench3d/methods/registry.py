"""Name -> adapter class. A new method is an adapter module plus a card in methods/."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench3d.cards import load_method_card, method_names
from bench3d.errors import ConfigError, UnknownNameError
from bench3d.registry import Registry

if TYPE_CHECKING:
    from bench3d.methods.base import MethodAdapter

ADAPTERS: Registry[MethodAdapter] = Registry("bench3d.methods", ("random_init", "camera_init", "scalr", "slidr", "lima.adapter", "geomim", "mim4d", "cmcr"))
register = ADAPTERS.register
registered_methods = ADAPTERS.all


def build_method(name: str, preset: str = "tiny", **kwargs: Any) -> MethodAdapter:
    adapters = registered_methods()
    if name not in method_names():
        raise UnknownNameError("method", name, sorted(set(method_names()) & set(adapters)))
    if name not in adapters:
        raise ConfigError(f"method card {name!r} has no adapter; known adapters: {sorted(adapters)}")
    return adapters[name](load_method_card(name), preset=preset, **kwargs)
