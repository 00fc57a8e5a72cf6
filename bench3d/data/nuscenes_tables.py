"""Minimal, fast access to the nuScenes JSON tables that evaluation and split building need.

Plain json, no devkit object: only scene / sample / sample_data / calibrated_sensor / sensor (and
lidarseg when present) are read. Split scene names come from the devkit's hard-coded lists, or from
`<dataroot>/<version>/splits.json` for custom split names (devkit >= 1.2.0 convention).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench3d.errors import DataError

log = logging.getLogger(__name__)

LIDAR_CHANNEL = "LIDAR_TOP"
Record = dict[str, Any]


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
    return records


def predefined_splits() -> dict[str, list[str]]:
    """The devkit's hard-coded scene-name lists (train, val, test, mini_train, mini_val, ...)."""
    from nuscenes.utils.splits import create_splits_scenes  # imported lazily: it pulls in the devkit

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


@dataclass
class NuScenesTables:
    """The scene / sample / lidar keyframe links of one release, indexed by token."""

    dataroot: Path
    version: str
    scenes: list[Record]  # scene table order (SLidR's split rule depends on it)
    samples: dict[str, Record]
    lidar_token_of_sample: dict[str, str]  # sample token -> LIDAR_TOP keyframe sample_data token
    lidarseg_file_of_lidar: dict[str, str]  # LIDAR_TOP sd token -> lidarseg file relative to dataroot

    @classmethod
    def load(cls, dataroot: str | Path, version: str) -> NuScenesTables:
        root = Path(dataroot)
        if not (root / version).is_dir():
            raise DataError(root / version, "release folder is missing", "check --dataroot and --version")
        scenes = read_table(root, version, "scene")
        samples = {r["token"]: r for r in read_table(root, version, "sample")}
        channel_of_sensor = {r["token"]: r["channel"] for r in read_table(root, version, "sensor")}
        channel_of_calib = {
            r["token"]: channel_of_sensor.get(r["sensor_token"], "") for r in read_table(root, version, "calibrated_sensor")
        }
        lidar_of_sample = {
            r["sample_token"]: r["token"]
            for r in read_table(root, version, "sample_data")
            if r["is_key_frame"] and channel_of_calib.get(r["calibrated_sensor_token"]) == LIDAR_CHANNEL
        }
        lidarseg: dict[str, str] = {}
        if (root / version / "lidarseg.json").is_file():
            lidarseg = {r["sample_data_token"]: r["filename"] for r in read_table(root, version, "lidarseg")}
        log.debug("%s/%s: %d scenes, %d samples", root, version, len(scenes), len(samples))
        return cls(root, version, scenes, samples, lidar_of_sample, lidarseg)

    @property
    def table_dir(self) -> Path:
        return self.dataroot / self.version

    def scene_by_name(self, name: str) -> Record:
        for scene in self.scenes:
            if scene["name"] == name:
                return scene
        raise DataError(self.table_dir / "scene.json", f"no scene named {name!r}")

    def keyframe_samples(self, scene: Record) -> list[str]:
        """Sample tokens of a scene in time order (walks first -> next, checks `nbr_samples`)."""
        tokens: list[str] = []
        token = scene["first_sample_token"]
        while token:
            if token not in self.samples:
                raise DataError(self.table_dir / "sample.json", f"missing sample {token!r} of {scene['name']}")
            tokens.append(token)
            token = "" if token == scene["last_sample_token"] else self.samples[token]["next"]
        if len(tokens) != scene["nbr_samples"]:
            raise DataError(
                self.table_dir / "scene.json",
                f"scene {scene['name']} lists nbr_samples={scene['nbr_samples']} but links {len(tokens)} samples",
            )
        return tokens

    def split_samples(self, split: str) -> list[str]:
        """Keyframe sample tokens of every scene of a split, scene by scene (as the devkit's order)."""
        names = split_scene_names(self.dataroot, self.version, split)
        return [t for name in names for t in self.keyframe_samples(self.scene_by_name(name))]

    def lidar_token(self, sample_token: str) -> str:
        try:
            return self.lidar_token_of_sample[sample_token]
        except KeyError:
            raise DataError(self.table_dir / "sample_data.json", f"sample {sample_token} has no LIDAR_TOP keyframe") from None

    def lidarseg_path(self, lidar_token: str) -> Path:
        try:
            return self.dataroot / self.lidarseg_file_of_lidar[lidar_token]
        except KeyError:
            raise DataError(
                self.table_dir / "lidarseg.json", f"no lidarseg record for LIDAR_TOP sample_data {lidar_token}",
                "is nuScenes-lidarseg installed in this release?",
            ) from None
