"""`bench3d` entry point. Each module in bench3d.cli that defines `register(app)` adds its commands."""

from __future__ import annotations

import importlib
import logging
import pkgutil

import typer
from rich.logging import RichHandler

import bench3d
import bench3d.cli as cli_pkg

app = typer.Typer(
    name="bench3d",
    help="Benchmark and evaluation suite for self-supervised 3D representation learning in driving.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _configure(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(show_path=False, rich_tracebacks=False)],
    )


@app.command()
def version() -> None:
    """Print the suite version."""
    typer.echo(bench3d.__version__)


for _mod in sorted(pkgutil.iter_modules(cli_pkg.__path__), key=lambda m: m.name):
    if _mod.name in {"main"} or _mod.name.startswith("_"):
        continue
    _module = importlib.import_module(f"bench3d.cli.{_mod.name}")
    if hasattr(_module, "register"):
        _module.register(app)


def main() -> None:
    """Console entry point: the suite's own errors print one line naming the file or field, exit code 1."""
    import sys

    from bench3d.errors import Bench3DError

    try:
        app(prog_name="bench3d")
    except Bench3DError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(1)
