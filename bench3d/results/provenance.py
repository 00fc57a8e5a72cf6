"""What a run record says about where its numbers came from."""

from __future__ import annotations

import hashlib
import json
import platform
import resource
import subprocess
import sys
from datetime import datetime, timezone
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

import bench3d
from bench3d.results.record import Provenance

TRACKED_PACKAGES = ("torch", "numpy", "scipy", "nuscenes-devkit", "pandas", "pyarrow", "pydantic", "scikit-image",
                    "spconv", "torchmetrics")


def config_hash(config: dict[str, Any]) -> str:
    """Stable hash of a resolved config: canonical JSON (sorted keys), sha256, first 16 hex digits."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@lru_cache(maxsize=1)
def git_sha() -> str | None:
    """Commit of the suite's source tree (with '-dirty' when it has uncommitted changes), if a checkout."""
    src = Path(bench3d.__file__).resolve().parent.parent
    # Read-only: --no-optional-locks keeps `git status` from refreshing (and locking) the checkout's index.
    git = ["git", "--no-optional-locks", "-C", str(src)]
    try:
        sha = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=10, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "bench3d"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


@lru_cache(maxsize=1)
def cpu_model() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str]:
    out = {}
    for name in TRACKED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def device_name(device: torch.device | str) -> str:
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"cpu:{platform.processor() or platform.machine()}x{torch.get_num_threads()}threads"


def peak_memory_mb(device: torch.device | str) -> float:
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def collect(
    *,
    resolved_config: dict[str, Any],
    device: torch.device | str,
    wall_time_s: float,
    started_at: str,
    split_hash: str | None = None,
    checkpoint_sha256: str | None = None,
    dataset_version: str | None = None,
    resumes: int = 0,
    parallel: dict[str, Any] | None = None,
) -> Provenance:
    return Provenance(
        suite_version=bench3d.__version__,
        git_sha=git_sha(),
        resolved_config=resolved_config,
        config_hash=config_hash(resolved_config),
        split_hash=split_hash,
        checkpoint_sha256=checkpoint_sha256,
        dataset_version=dataset_version,
        packages=package_versions(),
        device=device_name(device),
        wall_time_s=round(wall_time_s, 3),
        peak_memory_mb=round(peak_memory_mb(device), 1),
        started_at=started_at,
        finished_at=now_iso(),
        python=sys.version.split()[0],
        platform=platform.platform(),
        cpu=cpu_model(),
        resumes=resumes,
        parallel=parallel or {"world_size": 1, "backend": None, "grad_accum": 1, "sync_bn": False},
    )
