"""Default locations, overridable by environment variables (relative paths resolve from the cwd)."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_SYNTH_VERSION = "v1.0-mini"


def data_dir() -> Path:
    return Path(os.environ.get("BENCH3D_DATA", "data"))


def default_synth_root() -> Path:
    """Where `bench3d demo` keeps the embedded synthetic world."""
    return data_dir() / "synth-mini"


def results_dir() -> Path:
    return Path(os.environ.get("BENCH3D_RESULTS", "results"))


def reports_dir() -> Path:
    return Path(os.environ.get("BENCH3D_REPORTS", "reports"))
