"""Name -> class registries for extension points (method adapters, tasks).

Built-in modules are imported on first lookup, so `bench3d list` stays fast and a user's own module
registers by being imported.
"""

from __future__ import annotations

import importlib
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, package: str, builtin_modules: tuple[str, ...]) -> None:
        self._package = package
        self._builtin = builtin_modules
        self._classes: dict[str, type[T]] = {}

    def register(self, cls: type[T]) -> type[T]:
        """Class decorator: make `cls` known under `cls.name`."""
        self._classes[cls.name] = cls  # type: ignore[attr-defined]
        return cls

    def unregister(self, name: str) -> None:
        self._classes.pop(name, None)

    def all(self) -> dict[str, type[T]]:
        for mod in self._builtin:
            importlib.import_module(f"{self._package}.{mod}")
        return dict(self._classes)
