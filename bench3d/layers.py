"""The layer order of the package, written once (DESIGN.md, Layers).

A module may import its own layer or any layer below it, never one above. Packages on one rank that are
listed in `SEPARATED` are siblings that must not import each other (tasks and methods meet only in the
harness, through a backbone). `tests/test_layers.py` parses every module's imports against this table.
"""

from __future__ import annotations

#: Bottom first. Each entry: the top-level modules/packages of `bench3d` on that rank.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "paths", "geometry", "labels", "reference", "layers", "registry"),
    ("results", "cards", "engine"),
    ("synth",),
    ("data", "datasets"),
    ("metrics", "splits"),
    ("models",),
    ("tasks", "methods"),
    ("protocols",),
    ("reports", "viz"),
    ("harness", "interop"),
    ("cli", "demo", "__main__", "__init__"),
)

#: Pairs on one rank that never import each other.
SEPARATED: tuple[frozenset[str], ...] = (frozenset({"tasks", "methods"}),)

#: Imports that are forbidden although they point down: protocols drive tasks and never see method code.
FORBIDDEN: tuple[tuple[str, str], ...] = (("protocols", "methods"),)


def rank_of(top: str) -> int:
    """The rank of a top-level part of the package (`bench3d.<top>`)."""
    for rank, names in enumerate(LAYERS):
        if top in names:
            return rank
    raise KeyError(f"bench3d.{top} has no layer; add it to bench3d/layers.py LAYERS")


def violation(importer: str, imported: str) -> str | None:
    """Why `bench3d.<importer>` may not import `bench3d.<imported>` (top-level names), or None if it may."""
    if importer == imported:
        return None
    if rank_of(imported) > rank_of(importer):
        return f"{importer} (layer {rank_of(importer)}) imports {imported} (layer {rank_of(imported)}): points up"
    if any({importer, imported} <= pair for pair in SEPARATED):
        return f"{importer} imports {imported}: these siblings meet only in the harness"
    if (importer, imported) in FORBIDDEN:
        return f"{importer} may not import {imported}"
    return None
