"""Atomic publication of a folder written by a dataset writer (SemanticKITTI, Waymo): readers never see a
half-written release, and a failed write leaves what was there."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def publish_folder(out: Path, fill: Callable[[Path], None]) -> Path:
    """Build a release in a hidden sibling folder with `fill`, then put it at `out` in one rename (replacing
    what is there); a failure leaves `out` as it was and removes the partial folder."""
    out = Path(out).resolve()
    tmp = out.parent / f".{out.name}.partial-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        fill(tmp)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
