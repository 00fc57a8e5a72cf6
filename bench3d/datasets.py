"""Named datasets the harness can run on: where they live, their on-disk format, their splits, their label
space and their metric convention."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from bench3d.data.reader import Reader
from bench3d.errors import DataError, UnknownNameError
from bench3d.labels.semantickitti import TRAIN_SEQUENCES, VALID_SEQUENCES
from bench3d.labels.spaces import LABEL_SPACES, LabelSpace
from bench3d.paths import DEFAULT_SYNTH_VERSION, data_dir, default_synth_root

KITTI_SPLITS = {"train": TRAIN_SEQUENCES, "valid": VALID_SEQUENCES}


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    dataroot: Path
    version: str
    train_split: str
    val_split: str
    reducer: str = "nuscenes"  # metric convention, and the label space (labels/spaces.py)
    synthetic: bool = False
    format: str = "nuscenes"  # on-disk layout: nuscenes | semantickitti | waymo

    @property
    def label_space(self) -> LabelSpace:
        return LABEL_SPACES[self.reducer]

    def open_reader(self) -> Reader:
        """The dataset's reader (the one place above `data/` that names a concrete reader)."""
        if self.format == "semantickitti":
            from bench3d.data.semantickitti import SemanticKittiReader

            return SemanticKittiReader(self.dataroot)
        if self.format == "waymo":
            from bench3d.data.waymo import WaymoReader

            return WaymoReader(self.dataroot)
        from bench3d.data.nuscenes import NuScenesReader

        return NuScenesReader(self.dataroot, self.version)

    def split_scenes(self, split: str) -> list[str]:
        """Scene (sequence) names of a split, from the dataset's own split rule."""
        if self.format == "semantickitti":
            if split not in KITTI_SPLITS:
                raise DataError(self.dataroot, f"SemanticKITTI has no split {split!r}", "use train or valid")
            return [f"{n:02d}" for n in KITTI_SPLITS[split]]
        if self.format == "waymo":
            from bench3d.data.waymo.columns import LIDAR, SPLITS

            if split not in SPLITS:
                raise DataError(self.dataroot, f"Waymo has no split {split!r}", f"use one of {', '.join(SPLITS)}")
            return sorted(p.stem for p in (self.dataroot / split / LIDAR).glob("*.parquet"))
        from bench3d.data.nuscenes.tables import split_scene_names

        return split_scene_names(self.dataroot, self.version, split)

    def tables_sha256(self) -> str:
        """The release's identity, not its path: the content hash of its tables (nuScenes `<version>/*.json`;
        SemanticKITTI every sequence's calib, poses and times plus its scan and label file names and sizes;
        Waymo its calibrations and vehicle poses plus every component file's name and size)."""
        if self.format == "semantickitti":
            return kitti_release_sha256(self.dataroot)
        if self.format == "waymo":
            return waymo_release_sha256(self.dataroot)
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


def kitti_release_sha256(root: Path) -> str:
    """sha256 over every sequence's calib.txt, poses.txt, times.txt and its (name, size) list of scans and
    labels — what a run's numbers depend on, without reading tens of GB of scans."""
    sequences = sorted((root / "sequences").glob("[0-9][0-9]"))
    if not sequences:
        raise DataError(root / "sequences", "holds no sequence", "point --dataroot at a SemanticKITTI release")
    outer = hashlib.sha256()
    for seq in sequences:
        for name in ("calib.txt", "poses.txt", "times.txt"):
            if (seq / name).is_file():
                outer.update(f"{seq.name}/{name}:".encode() + hashlib.sha256((seq / name).read_bytes()).digest())
        for sub in ("velodyne", "labels"):
            for f in sorted((seq / sub).glob("*")):
                outer.update(f"{seq.name}/{sub}/{f.name}:{f.stat().st_size}\n".encode())
    return outer.hexdigest()


WAYMO_HASHED_COMPONENTS = ("lidar_calibration", "camera_calibration", "vehicle_pose")  # small: hashed whole


def waymo_release_sha256(root: Path) -> str:
    """sha256 over the calibration and vehicle-pose files' contents and every component file's (path, size)."""
    files = sorted(p for split in ("training", "validation", "testing") for p in (root / split).glob("*/*.parquet"))
    if not files:
        raise DataError(root, "holds no <split>/<component>/*.parquet", "point --dataroot at a Waymo v2 root")
    outer = hashlib.sha256()
    for f in files:
        rel = f.relative_to(root).as_posix()
        outer.update(f"{rel}:{f.stat().st_size}\n".encode())
        if f.parent.name in WAYMO_HASHED_COMPONENTS:
            outer.update(hashlib.sha256(f.read_bytes()).digest())
    return outer.hexdigest()


def _root(dataroot: str | Path | None, synthetic: bool, env: str, synth_folder: str, dataset: str, holds: str
          ) -> Path:
    root = dataroot or (None if synthetic else os.environ.get(env))
    if root is None:
        if synthetic:
            return data_dir() / synth_folder
        raise DataError("--dataroot", f"no {dataset} dataroot given", f"pass --dataroot (the folder holding {holds}) "
                        f"or set {env}")
    return Path(root)


def _kitti_root(dataroot: str | Path | None, synthetic: bool) -> Path:
    return _root(dataroot, synthetic, "SEMANTICKITTI_DATAROOT", "synth-semantickitti", "SemanticKITTI", "sequences/")


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
    if name in ("semantickitti", "synth-semantickitti"):
        synthetic = name == "synth-semantickitti"
        return DatasetSpec(name, _kitti_root(dataroot, synthetic), "semantickitti", "train", "valid",
                           reducer="semantickitti", synthetic=synthetic, format="semantickitti")
    if name in ("waymo", "synth-waymo"):
        synthetic = name == "synth-waymo"
        root = _root(dataroot, synthetic, "WAYMO_DATAROOT", "synth-waymo", "Waymo", "training/ and validation/")
        return DatasetSpec(name, root, "waymo-v2", "training", "validation", reducer="waymo", synthetic=synthetic,
                           format="waymo")
    raise UnknownNameError("dataset", name, dataset_names())


def dataset_names() -> list[str]:
    return ["nuscenes", "nuscenes-mini", "semantickitti", "synth", "synth-semantickitti", "synth-waymo", "waymo"]
