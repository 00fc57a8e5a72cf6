"""Frames and Sequences from a nuScenes release (see DESIGN.md, Contracts).

Multi-sweep frames follow the devkit's `from_file_multisweep`: each earlier LiDAR sweep is moved into the
keyframe's sensor frame through the global frame (ego-motion compensation) and gets its time lag (s) as
a 5th column. Labels exist for keyframe points only; sweep points come after them, labelled 0 (noise,
which every nuScenes mapping sends to ignore).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench3d.data.frame import Box3D, CameraView, Frame
from bench3d.data.nuscenes.bev_map import BEV_CLASSES, BevMaps
from bench3d.data.nuscenes.files import decode_pool, load_image, load_lidarseg, load_pcd_bin, scale_intrinsic
from bench3d.data.nuscenes.tables import CAMERA_CHANNELS, LIDAR_CHANNEL, NuScenesTables
from bench3d.errors import DataError
from bench3d.geometry import apply_transform, invert_transform, make_transform

VELOCITY_MAX_GAP_S = 1.5  # as the devkit's box_velocity (doubled for centred differences)


@dataclass(frozen=True)
class Sequence:
    """A scene: its keyframes in time order."""

    scene_token: str
    name: str
    sample_tokens: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.sample_tokens)


class NuScenesReader:
    def __init__(self, dataroot: str | Path, version: str = "v1.0-mini") -> None:
        self.tables = NuScenesTables.load(dataroot, version)
        self.dataroot = self.tables.dataroot
        self.version = version
        _ = self.tables.category_names  # validate the taxonomy up front: an unknown name fails here
        self._bev_maps = BevMaps(self.dataroot)

    # ---- sequences and neighbours -------------------------------------------------------------
    def sequences(self, scene_names: list[str] | None = None) -> list[Sequence]:
        """Scenes in scene-table order, optionally restricted to the given names (all must exist)."""
        t = self.tables
        if scene_names is None:
            tokens = list(t.scene)
        else:
            missing = [n for n in scene_names if n not in t.scene_token_by_name]
            if missing:
                raise DataError(self.dataroot / self.version / "scene.json", f"scenes not in this release: {missing}")
            tokens = [t.scene_token_by_name[n] for n in scene_names]
        return [Sequence(tok, t.scene[tok]["name"], tuple(t.keyframe_samples(t.scene[tok]))) for tok in tokens]

    def neighbours(self, sample_token: str, past: int = 0, future: int = 0) -> list[str]:
        """Keyframe tokens from `past` before to `future` after (clipped at scene ends), in time order."""
        before, token = [], self.tables.get("sample", sample_token)["prev"]
        while token and len(before) < past:
            before.append(token)
            token = self.tables.sample[token]["prev"]
        after, token = [], self.tables.sample[sample_token]["next"]
        while token and len(after) < future:
            after.append(token)
            token = self.tables.sample[token]["next"]
        return before[::-1] + [sample_token] + after

    def lidar_sweep_tokens(self, lidar_sd_token: str, count: int) -> list[str]:
        """The keyframe LiDAR sample_data token and up to count-1 earlier sweeps, newest first."""
        tokens, token = [], lidar_sd_token
        while token and len(tokens) < count:
            tokens.append(token)
            token = self.tables.get("sample_data", token)["prev"]
        return tokens

    # ---- poses ---------------------------------------------------------------------------------
    def sensor_to_ego(self, sd_token: str) -> np.ndarray:
        cs = self.tables.get("calibrated_sensor", self.tables.get("sample_data", sd_token)["calibrated_sensor_token"])
        return make_transform(cs["rotation"], cs["translation"])

    def ego_to_global(self, sd_token: str) -> np.ndarray:
        pose = self.tables.get("ego_pose", self.tables.get("sample_data", sd_token)["ego_pose_token"])
        return make_transform(pose["rotation"], pose["translation"])

    def sample_files(self, sample_token: str) -> list[Path]:
        """The keyframe's sensor files (LiDAR and cameras): what a content hash of the sample covers."""
        channels = self.tables.sample_data_by_channel.get(sample_token, {})
        return [self.dataroot / self.tables.get("sample_data", tok)["filename"] for tok in channels.values()]

    def location(self, sample_token: str) -> str:
        """The map location of a sample (its scene's log)."""
        t = self.tables
        scene = t.scene[t.get("sample", sample_token)["scene_token"]]
        return t.get("log", scene["log_token"])["location"]

    def bev_map(self, sample_token: str, classes: tuple[str, ...] = BEV_CLASSES) -> np.ndarray:
        """(len(classes), 200, 200) bool BEV map masks around the keyframe's LiDAR (`bev_map.py` convention)."""
        lidar = self.tables.sample_data_by_channel.get(sample_token, {}).get(LIDAR_CHANNEL)
        if lidar is None:
            raise DataError(self.dataroot / self.version / "sample_data.json", f"sample {sample_token} has no {LIDAR_CHANNEL}")
        lidar_to_global = self.ego_to_global(lidar) @ self.sensor_to_ego(lidar)
        return self._bev_maps.masks(self.location(sample_token), lidar_to_global, classes)

    # ---- frames --------------------------------------------------------------------------------
    def frame(
        self,
        sample_token: str,
        *,
        sweeps: int = 1,
        cameras: tuple[str, ...] | None = CAMERA_CHANNELS,
        labels: bool = True,
        boxes: bool = True,
        max_image_size: tuple[int, int] | None = None,
    ) -> Frame:
        """The keyframe `sample_token`: LiDAR (+ `sweeps`-1 earlier sweeps), labels, images, boxes.
        `max_image_size` (H, W): larger images are decoded at that size, their intrinsics scaled to match."""
        t = self.tables
        sample = t.get("sample", sample_token)
        channels = t.sample_data_by_channel.get(sample_token, {})
        if LIDAR_CHANNEL not in channels:
            raise DataError(self.dataroot / self.version / "sample_data.json", f"sample {sample_token} has no {LIDAR_CHANNEL} keyframe")
        lidar_token = channels[LIDAR_CHANNEL]
        lidar_to_ego = self.sensor_to_ego(lidar_token)
        ego_to_global = self.ego_to_global(lidar_token)
        lidar_path = self.dataroot / t.get("sample_data", lidar_token)["filename"]
        # The six JPEGs decode on threads (libjpeg releases the GIL) while this thread reads the LiDAR.
        wanted = [ch for ch in (cameras or ()) if ch in channels]
        views = decode_pool().map(lambda ch: self.camera_view(channels[ch], max_image_size), wanted)
        points = load_pcd_bin(lidar_path)
        point_labels = self._labels(lidar_token, points.shape[0]) if labels else None
        if sweeps > 1:
            points, point_labels = self._stack_sweeps(lidar_token, points, point_labels, lidar_to_ego, ego_to_global, sweeps)
        cams = dict(zip(wanted, views))
        scene_name = t.scene[sample["scene_token"]]["name"]
        return Frame(
            token=sample_token,
            scene_name=scene_name,
            timestamp=int(sample["timestamp"]),
            lidar_token=lidar_token,
            points=points,
            labels=point_labels,
            lidar_to_ego=lidar_to_ego,
            ego_to_global=ego_to_global,
            cameras=cams,
            boxes=self.boxes(sample_token) if boxes else [],
        )

    def camera_sweeps(self, sample_token: str, channel: str, count: int,
                      max_image_size: tuple[int, int] | None = None) -> list[CameraView]:
        """Up to `count` non-key images of a camera before the keyframe (12 Hz), newest first, each with its
        own ego pose and calibration."""
        sd_token = self.tables.sample_data_by_channel.get(sample_token, {}).get(channel)
        if sd_token is None:
            raise DataError(self.dataroot / self.version / "sample_data.json", f"sample {sample_token} has no {channel}")
        views, token = [], self.tables.get("sample_data", sd_token)["prev"]
        while token and len(views) < count:
            sd = self.tables.get("sample_data", token)
            if sd["is_key_frame"]:  # the previous keyframe: the sweeps of this one end here
                break
            views.append(self.camera_view(token, max_image_size))
            token = sd["prev"]
        return views

    def camera_view(self, sd_token: str, max_image_size: tuple[int, int] | None = None) -> CameraView:
        sd = self.tables.get("sample_data", sd_token)
        cs = self.tables.get("calibrated_sensor", sd["calibrated_sensor_token"])
        image, sx, sy = load_image(self.dataroot / sd["filename"], max_image_size)
        return CameraView(
            channel=self.tables.channel_of[sd["calibrated_sensor_token"]],
            token=sd_token,
            image=image,
            intrinsic=scale_intrinsic(np.asarray(cs["camera_intrinsic"], dtype=np.float64), sx, sy),
            sensor_to_ego=make_transform(cs["rotation"], cs["translation"]),
            ego_to_global=self.ego_to_global(sd_token),
            timestamp=int(sd["timestamp"]),
        )

    def _labels(self, lidar_token: str, num_points: int) -> np.ndarray | None:
        rel = self.tables.lidarseg_files.get(lidar_token)
        if rel is None:
            return None
        labels = load_lidarseg(self.dataroot / rel, num_points)
        unknown = np.setdiff1d(np.unique(labels), self.tables.category_indices)
        if unknown.size:
            raise DataError(self.dataroot / rel, f"label ids {unknown.tolist()} have no category in category.json")
        return labels

    def _stack_sweeps(
        self,
        lidar_token: str,
        points: np.ndarray,
        labels: np.ndarray | None,
        lidar_to_ego: np.ndarray,
        ego_to_global: np.ndarray,
        sweeps: int,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        key_time = int(self.tables.get("sample_data", lidar_token)["timestamp"])
        global_to_key = invert_transform(ego_to_global @ lidar_to_ego)
        clouds = [np.concatenate([points, np.zeros((len(points), 1), np.float32)], axis=1)]
        for token in self.lidar_sweep_tokens(lidar_token, sweeps)[1:]:
            sd = self.tables.get("sample_data", token)
            sweep = load_pcd_bin(self.dataroot / sd["filename"])
            to_key = global_to_key @ self.ego_to_global(token) @ self.sensor_to_ego(token)
            moved = np.empty((len(sweep), 5), np.float32)
            moved[:, :3] = apply_transform(to_key, sweep[:, :3])
            moved[:, 3] = sweep[:, 3]
            moved[:, 4] = (key_time - int(sd["timestamp"])) * 1e-6
            clouds.append(moved)
        stacked = np.concatenate(clouds, axis=0)
        if labels is not None:
            labels = np.concatenate([labels, np.zeros(len(stacked) - len(labels), np.uint8)])
        return stacked, labels

    # ---- annotations ---------------------------------------------------------------------------
    def boxes(self, sample_token: str) -> list[Box3D]:
        t = self.tables
        out = []
        for token in t.sample_annotations.get(sample_token, []):
            ann = t.table("sample_annotation")[token]
            instance = t.get("instance", ann["instance_token"])
            attrs = [t.get("attribute", a)["name"] for a in ann["attribute_tokens"]]
            out.append(Box3D(
                token=token,
                instance_token=ann["instance_token"],
                category=t.category_names[instance["category_token"]],
                center=np.asarray(ann["translation"], dtype=np.float64),
                size=np.asarray(ann["size"], dtype=np.float64),
                rotation=np.asarray(ann["rotation"], dtype=np.float64),
                velocity=self.box_velocity(token),
                attribute=attrs[0] if attrs else "",
                num_lidar_pts=int(ann["num_lidar_pts"]),
            ))
        return out

    def box_velocity(self, annotation_token: str) -> np.ndarray:
        """Centred difference over the track's neighbours, one-sided at ends; NaN past the time gap."""
        t = self.tables
        anns = t.table("sample_annotation")
        ann = anns[annotation_token]
        has_prev, has_next = bool(ann["prev"]), bool(ann["next"])
        if not (has_prev or has_next):
            return np.full(3, np.nan)
        first = anns[ann["prev"]] if has_prev else ann
        last = anns[ann["next"]] if has_next else ann
        dt = 1e-6 * (t.sample[last["sample_token"]]["timestamp"] - t.sample[first["sample_token"]]["timestamp"])
        max_gap = VELOCITY_MAX_GAP_S * (2 if has_prev and has_next else 1)
        if dt > max_gap or dt <= 0:
            return np.full(3, np.nan)
        return (np.asarray(last["translation"]) - np.asarray(first["translation"])) / dt

