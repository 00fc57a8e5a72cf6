"""Errors that name the file or field at fault and say how to fix it."""

from __future__ import annotations

from pathlib import Path


class Bench3DError(Exception):
    """Base class: every user-facing failure of the suite."""


class DataError(Bench3DError):
    """A dataset file is missing, truncated or inconsistent."""

    def __init__(self, path: str | Path, problem: str, fix: str = "") -> None:
        self.path = str(path)
        msg = f"{path}: {problem}"
        if fix:
            msg += f" ({fix})"
        super().__init__(msg)


class ConfigError(Bench3DError):
    """A card, config or command-line value is invalid."""


class UnknownNameError(Bench3DError, KeyError):
    """An unknown method / protocol / dataset / split name; lists the known ones."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        super().__init__(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known))}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class SplitError(ConfigError, ValueError):
    """A label fraction or draw that no split rule defines (a ValueError too, for library callers)."""
