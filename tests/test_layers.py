"""Imports only point down the layer order of bench3d/layers.py (DESIGN.md, Layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bench3d.layers import LAYERS, violation

PACKAGE = Path(__file__).resolve().parents[1] / "bench3d"


def _top(path: Path, root: Path = PACKAGE) -> str:
    rel = path.relative_to(root)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level bench3d name) of every import in a module, lazy imports inside functions included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "bench3d":
                names = [f"bench3d.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            raise AssertionError(f"{path}:{node.lineno}: relative import; use absolute bench3d imports")
        else:
            continue
        out += [(node.lineno, n.split(".")[1]) for n in names if n.startswith("bench3d.")]
    return out


def find_violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        importer = _top(path, root)
        for line, imported in _imports(path):
            why = violation(importer, imported)
            if why:
                problems.append(f"{path.relative_to(root.parent)}:{line}: {why}")
    return problems


def test_every_module_has_a_layer() -> None:
    known = {n for layer in LAYERS for n in layer}
    tops = {_top(p) for p in PACKAGE.rglob("*.py")} | {p.name for p in PACKAGE.iterdir() if p.is_dir() and
                                                        (p / "__init__.py").is_file()}
    assert tops <= known, f"add to bench3d/layers.py: {sorted(tops - known)}"


def test_imports_point_down() -> None:
    assert find_violations() == []


@pytest.mark.parametrize(("importer", "line"), [
    ("engine/upward.py", "from bench3d.harness.runner import Runner\n"),
    ("methods/sideways.py", "def f():\n    from bench3d.tasks import get_task\n"),
    ("protocols/peek.py", "import bench3d.methods.base\n"),
])
def test_the_check_fails_on_a_bad_import(tmp_path: Path, importer: str, line: str) -> None:
    """The check itself can fail: a copy of the package with one bad import added is caught."""
    import shutil

    copy = tmp_path / "bench3d"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "_cards", "manifests", "*.csv"))
    (copy / importer).write_text(line)
    problems = find_violations(copy)
    assert len(problems) == 1 and problems[0].startswith(f"bench3d/{importer}:")
