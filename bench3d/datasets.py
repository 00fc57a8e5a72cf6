"""Named datasets the harness can run on: where they live, their splits and their metric convention."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bench3d.data.reader import Reader
from bench3d.errors import DataError, UnknownNameError
from bench3d.paths import DEFAULT_SYNTH_VERSION, default_synth_root


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    dataroot: Path
    version: str
    train_split: str
    val_split: str
    reducer: str = "nuscenes"
    synthetic: bool = False

    def open_reader(self) -> Reader:
        """The dataset's reader (the one place above `data/` that names a concrete reader)."""
        from bench3d.data.nuscenes import NuScenesReader

        return NuScenesReader(self.dataroot, self.version)

    def tables_sha256(self) -> str:
        """Content hash of the release's tables (`<dataroot>/<version>/*.json`): its identity, not its path."""
        return tables_sha256(self.dataroot / self.version)

    def as_config(self) -> dict[str, str]:
        """Everything of the dataset that can change a number (goes into run ids)."""
        return {"name": self.name, "version": self.version, "tables_sha256": self.tables_sha256(),
                "train_split": self.train_split, "val_split": self.val_split, "reducer": self.reducer}


_TABLE_HASHES: dict[tuple, str] = {}


def tables_sha256(folder: Path) -> str:
    """sha256 over (name, sha256) of every `*.json` table; memoised on (path, size, mtime) of each file."""
    paths = sorted(folder.glob("*.json"))
    if not paths:
        raise DataError(folder, "holds no *.json tables", "point --dataroot at a release (it needs <version>/*.json)")
    key = tuple((str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns) for p in paths)
    if key not in _TABLE_HASHES:
        outer = hashlib.sha256()
        for p in paths:
            inner = hashlib.sha256()
            with open(p, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    inner.update(chunk)
            outer.update(f"{p.name}:{inner.hexdigest()}\n".encode())
        _TABLE_HASHES[key] = outer.hexdigest()
    return _TABLE_HASHES[key]


def _nuscenes_root(dataroot: str | Path | None) -> Path:
    root = dataroot or os.environ.get("NUSCENES_DATAROOT")
    if root is None:
        raise DataError("--dataroot", "no nuScenes dataroot given", "pass --dataroot or set NUSCENES_DATAROOT")
    return Path(root)


def resolve_dataset(name: str, dataroot: str | Path | None = None) -> DatasetSpec:
    if name == "synth":
        return DatasetSpec("synth", Path(dataroot) if dataroot else default_synth_root(), DEFAULT_SYNTH_VERSION,
                           "mini_train", "mini_val", synthetic=True)
    if name == "nuscenes":
        return DatasetSpec("nuscenes", _nuscenes_root(dataroot), "v1.0-trainval", "train", "val")
    if name == "nuscenes-mini":
        return DatasetSpec("nuscenes-mini", _nuscenes_root(dataroot), "v1.0-mini", "mini_train", "mini_val")
    raise UnknownNameError("dataset", name, dataset_names())


def dataset_names() -> list[str]:
    return ["nuscenes", "nuscenes-mini", "synth"]
