"""`bench3d cache info|clear`: the disk cache of per-sample products ($BENCH3D_CACHE, else ~/.cache/bench3d)."""

from __future__ import annotations

import typer
from rich.console import Console

cache_app = typer.Typer(help="The disk cache of expensive per-sample products (superpixels, ...).",
                        no_args_is_help=True)
console = Console()


@cache_app.command("info")
def info() -> None:
    """Where the cache is, how many entries it holds and their size."""
    from bench3d.engine.disk_cache import cache_info

    i = cache_info()
    console.print(f"{i['root']}: {i['entries']} entries, {i['bytes'] / 2**20:.1f} MiB")


@cache_app.command("clear")
def clear() -> None:
    """Remove every entry (they are recomputed when next needed)."""
    from bench3d.engine.disk_cache import cache_root, clear_cache

    console.print(f"removed {clear_cache()} entries from {cache_root()}")


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")
