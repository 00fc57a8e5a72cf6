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


def main(argv: list[str] | None = None) -> None:
    """Console entry point. Every failure prints one line and exits: 1 for a bad file, field or value the
    suite found (naming it and the fix), 2 for command-line usage. `-v` shows the traceback as well."""
    import sys

    try:  # typer >= 0.16 vendors click
        from typer import _click as click
    except ImportError:  # pragma: no cover - older typer depends on click
        import click

    from bench3d.errors import Bench3DError

    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args or "--verbose" in args

    def fail(message: str, code: int) -> None:
        if verbose and code != 2:
            import traceback

            traceback.print_exc()
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        sys.exit(code)

    exits = tuple(t for t in (getattr(click.exceptions, "Exit", None), typer.Exit) if t)
    aborts = tuple(t for t in (getattr(click.exceptions, "Abort", None), typer.Abort, KeyboardInterrupt) if t)
    try:
        code = app(args=args, prog_name="bench3d", standalone_mode=False)
    except click.exceptions.UsageError as exc:
        message = exc.format_message()
        if not message:  # no arguments: the help was printed
            sys.exit(2)
        where = exc.ctx.command_path if exc.ctx else "bench3d"
        fail(f"{message} (see `{where} --help`)", 2)
    except exits as exc:
        sys.exit(exc.exit_code)
    except aborts:
        fail("aborted", 130)
    except Bench3DError as exc:
        fail(str(exc).replace("\n", " "), 1)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 1)
    except Exception as exc:  # a bug of the suite: still one line, the traceback under -v
        fail(f"internal error {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} "
             "(rerun with -v for the traceback and report it)", 1)
    sys.exit(code if isinstance(code, int) else 0)
