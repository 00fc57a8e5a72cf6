"""The JSON tables of a nuScenes release, indexed by token, with the links the devkit adds in memory.

Plain json, no devkit: loading v1.0-mini takes well under a second and nothing here needs numpy < 2.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench3d.errors import DataError
from bench3d.labels.nuscenes import FINE_INDEX

log = logging.getLogger(__name__)

REQUIRED_TABLES = (
    "category",
    "attribute",
    "visibility",
    "instance",
    "sensor",
    "calibrated_sensor",
    "ego_pose",
    "log",
    "scene",
    "sample",
    "sample_data",
    "sample_annotation",
    "map",
)
CAMERA_CHANNELS = (
    "CAM_FRONT",
    "CAM_FRONT_RIGHT",
    "CAM_FRONT_LEFT",
    "CAM_BACK",
    "CAM_BACK_LEFT",
    "CAM_BACK_RIGHT",
)
LIDAR_CHANNEL = "LIDAR_TOP"

Record = dict[str, Any]


def _read_table(path: Path) -> list[Record]:
    if not path.is_file():
        raise DataError(path, "table file is missing", "a nuScenes release needs all 13 tables")
    try:
        with path.open() as f:
            records = json.load(f)
    except json.JSONDecodeError as exc:
        raise DataError(path, f"is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(records, list):
        raise DataError(path, "must hold a JSON list of records")
    return records


@dataclass
class NuScenesTables:
    dataroot: Path
    version: str
    tables: dict[str, dict[str, Record]] = field(default_factory=dict)
    # sample token -> channel -> keyframe sample_data token (what the devkit calls sample['data'])
    sample_data_by_channel: dict[str, dict[str, str]] = field(default_factory=dict)
    # sample token -> annotation tokens
    sample_annotations: dict[str, list[str]] = field(default_factory=dict)
    category_names: dict[str, str] = field(default_factory=dict)  # category token -> name
    channel_of: dict[str, str] = field(default_factory=dict)  # calibrated_sensor token -> channel
    scene_by_name: dict[str, str] = field(default_factory=dict)
    lidarseg_files: dict[str, str] = field(default_factory=dict)  # lidar sd token -> relative path
    category_indices: list[int] = field(default_factory=list)  # fine indices that category.json defines

    @classmethod
    def load(cls, dataroot: str | Path, version: str) -> NuScenesTables:
        root = Path(dataroot)
        if not root.is_dir():
            raise DataError(root, "dataroot does not exist", "pass --dataroot pointing at the release")
        table_root = root / version
        if not table_root.is_dir():
            found = sorted(p.name for p in root.iterdir() if p.is_dir() and p.name.startswith("v1.0"))
            raise DataError(table_root, f"version folder is missing; versions found: {found or 'none'}")
        tables = {name: {r["token"]: r for r in _read_table(table_root / f"{name}.json")} for name in REQUIRED_TABLES}
        self = cls(dataroot=root, version=version, tables=tables)
        self._index()
        lidarseg_path = table_root / "lidarseg.json"
        if lidarseg_path.is_file():
            self.lidarseg_files = {r["sample_data_token"]: r["filename"] for r in _read_table(lidarseg_path)}
        log.debug("loaded %s %s: %d scenes, %d samples", root, version, len(self.scene), len(self.sample))
        return self

    def _index(self) -> None:
        category_path = self.dataroot / self.version / "category.json"
        for token, rec in self.tables["category"].items():
            if rec["name"] not in FINE_INDEX:
                raise DataError(category_path, f"unknown category {rec['name']!r}", "use the 32 nuScenes-lidarseg names")
            if "index" in rec and rec["index"] != FINE_INDEX[rec["name"]]:
                raise DataError(category_path, f"category {rec['name']!r} has index {rec['index']}, expected {FINE_INDEX[rec['name']]}")
            self.category_names[token] = rec["name"]
            self.category_indices.append(FINE_INDEX[rec["name"]])
        sensors = self.tables["sensor"]
        for token, rec in self.tables["calibrated_sensor"].items():
            self.channel_of[token] = sensors[rec["sensor_token"]]["channel"]
        for token, rec in self.tables["sample_data"].items():
            if rec["is_key_frame"]:
                channel = self.channel_of[rec["calibrated_sensor_token"]]
                self.sample_data_by_channel.setdefault(rec["sample_token"], {})[channel] = token
        for token, rec in self.tables["sample_annotation"].items():
            self.sample_annotations.setdefault(rec["sample_token"], []).append(token)
        self.scene_by_name = {rec["name"]: token for token, rec in self.tables["scene"].items()}

    # Convenience accessors, named as in the devkit.
    def get(self, table: str, token: str) -> Record:
        try:
            return self.tables[table][token]
        except KeyError:
            raise DataError(self.dataroot / self.version / f"{table}.json", f"no record with token {token!r}") from None

    @property
    def scene(self) -> dict[str, Record]:
        return self.tables["scene"]

    @property
    def sample(self) -> dict[str, Record]:
        return self.tables["sample"]

    def scene_sample_tokens(self, scene_token: str) -> list[str]:
        """Keyframe sample tokens of a scene in time order (walks the linked list, checks nbr_samples)."""
        scene = self.get("scene", scene_token)
        tokens, token = [], scene["first_sample_token"]
        while token:
            tokens.append(token)
            token = self.get("sample", token)["next"]
        if len(tokens) != scene["nbr_samples"]:
            raise DataError(self.dataroot / self.version / "scene.json",
                            f"scene {scene['name']} lists nbr_samples={scene['nbr_samples']} but links {len(tokens)}")
        return tokens
