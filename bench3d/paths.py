"""Default locations, overridable by environment variables (relative paths resolve from the cwd)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

DEFAULT_SYNTH_VERSION = "v1.0-mini"


def data_dir() -> Path:
    return Path(os.environ.get("BENCH3D_DATA", "data"))


def default_synth_root() -> Path:
    """Where `bench3d demo` keeps the embedded synthetic world (`bench3d.demo.DEMO_WORLD`: 5 scenes x 8
    keyframes), the dataroot of the `synth` dataset when none is given."""
    return data_dir() / "synth-demo"


def results_dir() -> Path:
    return Path(os.environ.get("BENCH3D_RESULTS", "results"))


def reports_dir(store: Path | None = None) -> Path:
    """$BENCH3D_REPORTS, else `reports/` next to the results store (the cwd's when no store is named)."""
    if "BENCH3D_REPORTS" in os.environ:
        return Path(os.environ["BENCH3D_REPORTS"])
    return (Path(store).parent if store is not None else Path(".")) / "reports"


TEMP_MARK = ".tmp."


def temp_name(path: Path) -> Path:
    """A temporary sibling named after its writer (host and pid): a sweep can tell a dead writer's leftovers."""
    return path.with_name(f"{path.name}{TEMP_MARK}{socket.gethostname()}.{os.getpid()}")


def temp_writer(path: Path) -> tuple[str, int] | None:
    """(host, pid) of a `temp_name` file, or None if the name is not one."""
    name = path.name
    if TEMP_MARK not in name:
        return None
    host, _, pid = name.rsplit(TEMP_MARK, 1)[1].rpartition(".")
    return (host, int(pid)) if pid.isdigit() and host else None


def write_text_atomic(path: Path, text: str) -> Path:
    """Write a whole file or nothing: a temporary sibling, fsync, rename. A clear error names the path."""
    from bench3d.errors import DataError  # leaf to leaf; errors has no imports

    path = Path(path)
    if path.is_dir():
        raise DataError(path, "is a folder", "give a file path")
    tmp = temp_name(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(path, f"cannot write: {exc.strerror or exc}", "free space or choose another path; "
                        "nothing was written") from None
    finally:
        tmp.unlink(missing_ok=True)
    return path
