"""The JSON tables of a nuScenes release, indexed by token, with the links the devkit adds in memory.

Plain json, no devkit object, and lazy: a table is read the first time something needs it, so split
and evaluation code that needs only scene / sample / sample_data never parses the (large on real
v1.0-trainval) annotation or ego-pose tables. Split scene names come from the devkit's hard-coded lists,
or from `<dataroot>/<version>/splits.json` for custom split names (devkit >= 1.2.0 convention).
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

from bench3d.errors import DataError
from bench3d.labels.nuscenes import FINE_INDEX

log = logging.getLogger(__name__)

TABLE_NAMES = (
    "category", "attribute", "visibility", "instance", "sensor", "calibrated_sensor", "ego_pose", "log",
    "scene", "sample", "sample_data", "sample_annotation", "map",
)  # fmt: skip
CAMERA_CHANNELS = ("CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT", "CAM_BACK_RIGHT")
LIDAR_CHANNEL = "LIDAR_TOP"

Record = dict[str, Any]

# Fields the reader relies on; a record without one is named at load, not a KeyError deep in a run.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "scene": ("token", "name", "first_sample_token", "log_token"),
    "sample": ("token", "scene_token", "timestamp", "prev", "next"),
    "sample_data": ("token", "sample_token", "calibrated_sensor_token", "ego_pose_token", "filename",
                    "is_key_frame", "timestamp"),
    "calibrated_sensor": ("token", "sensor_token", "translation", "rotation", "camera_intrinsic"),
    "ego_pose": ("token", "translation", "rotation"),
    "sensor": ("token", "channel", "modality"),
    "category": ("token", "name"),
    "sample_annotation": ("token", "sample_token", "instance_token", "translation", "size", "rotation"),
    "lidarseg": ("token", "sample_data_token", "filename"),
}


def read_table(dataroot: str | Path, version: str, name: str) -> list[Record]:
    """One table (`<dataroot>/<version>/<name>.json`) as its list of records."""
    path = Path(dataroot) / version / f"{name}.json"
    if not path.is_file():
        raise DataError(path, "table file is missing", "is --dataroot/--version right for a nuScenes release?")
    try:
        records = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(records, list):
        raise DataError(path, "must hold a JSON list of records")
    required = set(REQUIRED_FIELDS.get(name, ("token",)))
    for i, record in enumerate(records):
        if not isinstance(record, dict) or not required <= record.keys():
            missing = sorted(required - set(record)) if isinstance(record, dict) else "all (not an object)"
            token = record.get("token", "?") if isinstance(record, dict) else "?"
            raise DataError(path, f"record {i} (token {token}) lacks field(s) {missing}",
                            "fix the table or regenerate the release")
    return records


def predefined_splits() -> dict[str, list[str]]:
    """The devkit's hard-coded scene-name lists (train, val, test, mini_train, mini_val, ...)."""
    from nuscenes.utils.splits import create_splits_scenes  # lazily: it pulls in the devkit

    return create_splits_scenes(verbose=False)


def split_scene_names(dataroot: str | Path, version: str, split: str) -> list[str]:
    """Scene names of a split: a predefined devkit split, else the entry of `<version>/splits.json`."""
    predefined = predefined_splits()
    if split in predefined:
        return list(predefined[split])
    path = Path(dataroot) / version / "splits.json"
    if not path.is_file():
        raise DataError(
            path, f"split {split!r} is not a predefined nuScenes split and there is no custom splits.json",
            f"use one of {', '.join(predefined)} or add {split!r} to splits.json",
        )
    custom = json.loads(path.read_text())
    if split not in custom or not isinstance(custom[split], list):
        raise DataError(path, f"has no list of scene names for split {split!r}", f"splits there: {', '.join(custom)}")
    return list(custom[split])


class NuScenesTables:
    def __init__(self, dataroot: str | Path, version: str) -> None:
        self.dataroot, self.version = Path(dataroot), version
        self._tables: dict[str, dict[str, Record]] = {}

    @classmethod
    def load(cls, dataroot: str | Path, version: str) -> NuScenesTables:
        root = Path(dataroot)
        if not root.is_dir():
            raise DataError(root, "dataroot does not exist", "pass --dataroot pointing at the release")
        if not (root / version).is_dir():
            found = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("v1.0"))
            raise DataError(root / version, f"version folder is missing; versions found: {found or 'none'}")
        return cls(root, version)

    @property
    def table_dir(self) -> Path:
        return self.dataroot / self.version

    def table(self, name: str) -> dict[str, Record]:
        if name not in self._tables:
            self._tables[name] = {r["token"]: r for r in read_table(self.dataroot, self.version, name)}
        return self._tables[name]

    def get(self, table: str, token: str) -> Record:
        try:
            return self.table(table)[token]
        except KeyError:
            raise DataError(self.table_dir / f"{table}.json", f"no record with token {token!r}") from None

    @property
    def scene(self) -> dict[str, Record]:
        return self.table("scene")

    @property
    def sample(self) -> dict[str, Record]:
        return self.table("sample")

    # ---- indexes the devkit builds in memory (built on first use) ------------------------------------
    @cached_property
    def channel_of(self) -> dict[str, str]:
        """calibrated_sensor token -> channel."""
        sensors = self.table("sensor")
        return {t: sensors[r["sensor_token"]]["channel"] for t, r in self.table("calibrated_sensor").items()}

    @cached_property
    def sample_data_by_channel(self) -> dict[str, dict[str, str]]:
        """sample token -> channel -> keyframe sample_data token (the devkit's `sample['data']`)."""
        out: dict[str, dict[str, str]] = {}
        for token, rec in self.table("sample_data").items():
            if rec["is_key_frame"]:
                out.setdefault(rec["sample_token"], {})[self.channel_of[rec["calibrated_sensor_token"]]] = token
        return out

    @cached_property
    def sample_annotations(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for token, rec in self.table("sample_annotation").items():
            out.setdefault(rec["sample_token"], []).append(token)
        return out

    @cached_property
    def category_names(self) -> dict[str, str]:
        """category token -> fine name; every name must be one of the 32 nuScenes-lidarseg names."""
        path = self.table_dir / "category.json"
        out = {}
        for token, rec in self.table("category").items():
            if rec["name"] not in FINE_INDEX:
                raise DataError(path, f"unknown category {rec['name']!r}", "use the 32 nuScenes-lidarseg names")
            if "index" in rec and rec["index"] != FINE_INDEX[rec["name"]]:
                raise DataError(path, f"category {rec['name']!r} has index {rec['index']}, expected {FINE_INDEX[rec['name']]}")
            out[token] = rec["name"]
        return out

    @cached_property
    def category_indices(self) -> list[int]:
        return [FINE_INDEX[name] for name in self.category_names.values()]

    @cached_property
    def scene_token_by_name(self) -> dict[str, str]:
        return {rec["name"]: token for token, rec in self.scene.items()}

    @cached_property
    def lidarseg_files(self) -> dict[str, str]:
        """LIDAR_TOP keyframe sd token -> lidarseg file (relative to dataroot); empty without lidarseg."""
        if not (self.table_dir / "lidarseg.json").is_file():
            return {}
        return {r["sample_data_token"]: r["filename"] for r in read_table(self.dataroot, self.version, "lidarseg")}

    # ---- navigation ----------------------------------------------------------------------------------
    @property
    def scenes(self) -> list[Record]:
        """Scene records in table order (SLidR's split rule depends on it)."""
        return list(self.scene.values())

    def scene_named(self, name: str) -> Record:
        if name not in self.scene_token_by_name:
            raise DataError(self.table_dir / "scene.json", f"no scene named {name!r}")
        return self.scene[self.scene_token_by_name[name]]

    def keyframe_samples(self, scene: Record) -> list[str]:
        """Sample tokens of a scene in time order (walks first -> next, checks `nbr_samples`)."""
        tokens: list[str] = []
        token = scene["first_sample_token"]
        while token:
            if token not in self.sample:
                raise DataError(self.table_dir / "sample.json", f"missing sample {token!r} of {scene['name']}")
            tokens.append(token)
            token = "" if token == scene["last_sample_token"] else self.sample[token]["next"]
        if len(tokens) != scene["nbr_samples"]:
            raise DataError(self.table_dir / "scene.json",
                            f"scene {scene['name']} lists nbr_samples={scene['nbr_samples']} but links {len(tokens)} samples")
        return tokens

    def split_samples(self, split: str) -> list[str]:
        """Keyframe sample tokens of every scene of a split, scene by scene (the devkit's order)."""
        names = split_scene_names(self.dataroot, self.version, split)
        return [t for name in names for t in self.keyframe_samples(self.scene_named(name))]

    def lidar_token(self, sample_token: str) -> str:
        try:
            return self.sample_data_by_channel[sample_token][LIDAR_CHANNEL]
        except KeyError:
            raise DataError(self.table_dir / "sample_data.json", f"sample {sample_token} has no LIDAR_TOP keyframe") from None

    def lidarseg_path(self, lidar_token: str) -> Path:
        try:
            return self.dataroot / self.lidarseg_files[lidar_token]
        except KeyError:
            raise DataError(self.table_dir / "lidarseg.json", f"no lidarseg record for LIDAR_TOP sample_data {lidar_token}",
                            "is nuScenes-lidarseg installed in this release?") from None
