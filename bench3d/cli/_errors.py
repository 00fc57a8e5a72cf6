"""Turn the suite's own errors into one readable line and exit code 1 (no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from bench3d.errors import Bench3DError


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except Bench3DError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
