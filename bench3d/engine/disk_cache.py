"""A content-addressed disk cache for expensive per-sample products (superpixels, point-pixel pairs, ...).

The key hashes what makes the product: the producer's name and config, the code version and the content
of the sample's files. Writes are atomic (temporary file, then rename), so concurrent readers and writers —
workers, runs, SLURM jobs on a shared filesystem — see a whole entry or none; two writers of one entry
write the same bytes. `bench3d cache info|clear` shows and frees it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import torch

import bench3d
from bench3d.paths import temp_name

log = logging.getLogger(__name__)
T = TypeVar("T")


def cache_root() -> Path:
    return Path(os.environ.get("BENCH3D_CACHE", Path.home() / ".cache" / "bench3d"))


@lru_cache(maxsize=4096)
def _file_sha256(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def files_digest(paths: Iterable[Path]) -> str:
    """sha256 of the files' contents (memoised per path, size and mtime)."""
    outer = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        st = p.stat()
        outer.update(f"{p.name}:{_file_sha256(str(p), st.st_size, st.st_mtime_ns)}\n".encode())
    return outer.hexdigest()


class DiskCache:
    def __init__(self, root: Path | None = None, enabled: bool = True) -> None:
        self.root = Path(root) if root is not None else cache_root()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def key(self, producer: str, config: dict[str, Any], files: Iterable[Path]) -> str:
        spec = {"producer": producer, "config": config, "code": bench3d.__version__, "files": files_digest(files)}
        return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()

    def path_of(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.pt"

    def get(self, key: str) -> Any | None:
        """The entry, or None when it is absent (or damaged: recomputed, never trusted)."""
        if not self.enabled:
            return None
        path = self.path_of(key)
        if not path.is_file():
            return None
        try:
            value = torch.load(path, map_location="cpu", weights_only=False)
        except (EOFError, RuntimeError, OSError) as exc:
            log.warning("cache entry %s unreadable (%s); recomputing", path, exc)
            return None
        self.hits += 1
        return value

    def put(self, key: str, value: Any) -> None:
        """Write an entry atomically; a full or read-only cache costs time, never a result."""
        self.misses += 1
        if not self.enabled:
            return
        path = self.path_of(key)
        tmp = temp_name(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save(value, tmp)
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("cannot write cache entry %s: %s", path, exc.strerror or exc)
        finally:
            tmp.unlink(missing_ok=True)

    def get_or_compute(self, key: str, compute: Callable[[], T]) -> T:
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value)
        return value


def cache_info(root: Path | None = None) -> dict[str, Any]:
    root = Path(root) if root is not None else cache_root()
    files = [p for p in root.rglob("*.pt")] if root.is_dir() else []
    return {"root": str(root), "entries": len(files), "bytes": sum(p.stat().st_size for p in files)}


def clear_cache(root: Path | None = None) -> int:
    """Remove every entry; returns how many."""
    info = cache_info(root)
    root = Path(info["root"])
    if root.is_dir():
        for sub in root.iterdir():
            if sub.is_dir() and len(sub.name) == 2:
                shutil.rmtree(sub, ignore_errors=True)
    return info["entries"]
