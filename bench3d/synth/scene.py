"""Render one scene end to end (runs in a worker process): every LiDAR sweep and camera image is written to
disk and the scene's table records are returned to the parent, which only concatenates them."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from bench3d.geometry import yaw_to_quaternion
from bench3d.synth import appearance as ap
from bench3d.synth import files, rig
from bench3d.synth.annotate import KeyframeObs, annotation_tables, points_in_boxes
from bench3d.synth.camera import camera_grid, render_camera
from bench3d.synth.config import SynthConfig
from bench3d.synth.ids import date_of, logfile_name, scene_start_us, token
from bench3d.synth.lidar import lidar_grid, render_lidar
from bench3d.synth.map_expansion import expansion_json
from bench3d.synth.primitives import Prims
from bench3d.synth.tables import link, rounded, sensor_token
from bench3d.synth.timeline import FrameSpec, camera_frames, lidar_frames
from bench3d.synth.town import LOCATIONS
from bench3d.synth.world import World, build_world

log = logging.getLogger(__name__)
Bump = Callable[[int], None]


@dataclass(frozen=True)
class SceneJob:
    cfg: SynthConfig
    index: int  # position in the release; seeds everything about the scene
    name: str
    root: str  # dataroot being written


def lidar_spec(cfg: SynthConfig) -> rig.LidarSpec:
    return rig.LidarSpec(beams=cfg.lidar_beams)


def frame_count(cfg: SynthConfig) -> int:
    """LiDAR sweeps + images one scene writes (for progress bars)."""
    k = cfg.samples_per_scene
    cams = len(camera_frames(rig.CAMERA_CHANNELS[0], k, cfg.camera_sweeps, 0))
    return len(lidar_frames(k, cfg.lidar_sweeps, 0)) + len(rig.CAMERAS) * cams


def sensor_pose(world: World, t: float, translation, yaw_offset: float) -> tuple[np.ndarray, float]:
    """World position and heading of a sensor mounted at `translation` (ego frame) at time t."""
    x, y, yaw = world.ego_pose(t)
    c, s = np.cos(yaw), np.sin(yaw)
    tx, ty, tz = translation
    return np.array([x + c * tx - s * ty, y + s * tx + c * ty, tz]), yaw + yaw_offset


def calibrated_sensors(seed: int, scene: int, cfg: SynthConfig) -> list[dict]:
    h, w = cfg.image_size
    out = []
    for cam in rig.CAMERAS:
        out.append({"translation": list(cam.translation), "rotation": rounded(cam.rotation(), 8),
                    "camera_intrinsic": [rounded(row) for row in cam.intrinsic(h, w)], "channel": cam.channel})
    spec = lidar_spec(cfg)
    out.append({"translation": list(spec.translation), "rotation": rounded(spec.rotation(), 8),
                "camera_intrinsic": [], "channel": rig.LIDAR_CHANNEL})
    for ch, (tr, yaw_deg) in rig.RADARS.items():
        out.append({"translation": list(tr), "rotation": rounded(yaw_to_quaternion(np.deg2rad(yaw_deg)), 8),
                    "camera_intrinsic": [], "channel": ch})
    for rec in out:
        ch = rec.pop("channel")
        rec["token"] = token(seed, "calibrated_sensor", scene, ch)
        rec["sensor_token"] = sensor_token(ch)
    return out


def write_maps(root: Path, world: World, map_token: str) -> None:
    """maps/<token>.png: the devkit's semantic prior (255 = driveable or sidewalk, image row 0 = north edge);
    maps/expansion/<location>.json: the map-expansion layers (NuScenesMap);
    synthetic/maps/<token>.png: the fine class of the ground at 0.1 m."""
    files.write_json(root / "maps" / "expansion" / f"{world.town.location}.json", expansion_json(world.town))
    mat = world.town.material[::-1]
    prior = np.isin(mat, (ap.ASPHALT, ap.PARKING, ap.PAINT_WHITE, ap.PAINT_YELLOW, ap.SIDEWALK))
    files.write_png(root, f"maps/{map_token}.png", prior.astype(np.uint8) * 255, compress_level=6)
    files.write_png(root, f"{files.SIDECAR_DIR}/maps/{map_token}.png", ap.GROUND_LABEL[mat], compress_level=6)


class SceneRenderer:
    """Renders and writes the frames of one scene and collects its table records."""

    def __init__(self, job: SceneJob) -> None:
        cfg = self.cfg = job.cfg
        self.job, self.seed, self.scene, self.root = job, cfg.seed, job.index, Path(job.root)
        self.start = scene_start_us(self.seed, self.scene)
        self.location = self.scene % len(LOCATIONS)
        self.lidar = lidar_frames(cfg.samples_per_scene, cfg.lidar_sweeps, self.start)
        self.cams = {ch: camera_frames(ch, cfg.samples_per_scene, cfg.camera_sweeps, self.start)
                     for ch in rig.CAMERA_CHANNELS}
        # The world spans the full timeline (pre-roll sweeps included) whichever frames are written, so a release
        # without sweeps (and the SemanticKITTI / Waymo ones written from it) holds the same world's keyframes.
        k = cfg.samples_per_scene
        span = lidar_frames(k, True, self.start) + [f for ch in rig.CAMERA_CHANNELS
                                                     for f in camera_frames(ch, k, True, self.start)]
        times = [f.t(self.start) for f in span]
        self.world = build_world(self.seed, self.scene, self.location, min(times) - 0.1, max(times) + 0.1)
        self.logfile = logfile_name(self.location, self.start)
        self.scene_token = token(self.seed, "scene", self.scene)
        self.samples = link([{"token": token(self.seed, "sample", self.scene, m), "timestamp": f.timestamp,
                              "scene_token": self.scene_token} for m, f in enumerate(x for x in self.lidar if x.key)])
        n = len(self.world.agents)
        self.keyframes = [KeyframeObs(s["token"], *self.world.agents.poses(m * 0.5), np.zeros(n, int),
                                      np.zeros(n, int), np.zeros(n, int)) for m, s in enumerate(self.samples)]
        self.sample_data: list[dict] = []
        self.ego_poses: list[dict] = []
        self.lidarseg: list[dict] = []

    def _record(self, f: FrameSpec, size: tuple[int, int] = (0, 0)) -> dict:
        """sample_data record of a frame, plus its ego pose (same token, as in nuScenes)."""
        sd = token(self.seed, "sample_data", self.scene, f.channel, f.index)
        filename = files.data_filename(f.key, f.channel, self.logfile, f.timestamp)
        x, y, yaw = self.world.ego_pose(f.t(self.start))
        self.ego_poses.append({"token": sd, "timestamp": f.timestamp, "translation": rounded([x, y, 0.0]),
                               "rotation": rounded(yaw_to_quaternion(yaw), 8)})
        return {"token": sd, "sample_token": self.samples[f.sample]["token"], "ego_pose_token": sd,
                "calibrated_sensor_token": token(self.seed, "calibrated_sensor", self.scene, f.channel),
                "timestamp": f.timestamp, "fileformat": "jpg" if f.channel.startswith("CAM") else "pcd",
                "is_key_frame": f.key, "height": size[0], "width": size[1], "filename": filename}

    def render_lidar(self, bump: Bump | None) -> None:
        spec = lidar_spec(self.cfg)
        grid = lidar_grid(spec)
        records = []
        for f in self.lidar:
            t = f.t(self.start)
            origin, heading = sensor_pose(self.world, t, spec.translation, spec.yaw)
            prims = Prims.concat([self.world.prims(t), self.world.ego_box(t)])
            rng = np.random.default_rng([self.seed, self.scene, 0, f.index + 1000])
            sweep = render_lidar(prims, self.world.town, origin, heading, grid, rng)
            rec = self._record(f)
            files.write_points(self.root, rec["filename"], sweep.points)
            if f.key:
                seg = files.lidarseg_filename(self.cfg.version, rec["token"])
                files.write_labels(self.root, seg, sweep.labels)
                self.lidarseg.append({"token": rec["token"], "sample_data_token": rec["token"], "filename": seg})
                self._count_box_points(self.keyframes[f.sample], sweep.points, origin, heading, spec.max_range)
            records.append(rec)
            if bump:
                bump(1)
        self.sample_data.extend(link(records))

    def _count_box_points(self, kf: KeyframeObs, p: np.ndarray, origin: np.ndarray, heading: float, reach: float):
        c, s = np.cos(heading), np.sin(heading)
        px, py = origin[0] + c * p[:, 0] - s * p[:, 1], origin[1] + s * p[:, 0] + c * p[:, 1]
        near = np.flatnonzero(np.hypot(kf.x - origin[0], kf.y - origin[1]) < reach + 15)
        kf.num_lidar_pts = points_in_boxes(px, py, p[:, 2] + origin[2], kf.x, kf.y, kf.yaw, self.world.agents.size,
                                           near)

    def render_cameras(self, bump: Bump | None) -> None:
        h, w = self.cfg.image_size
        n = len(self.world.agents)
        for ci, cam in enumerate(rig.CAMERAS):
            grid = camera_grid(cam, h, w)
            records = []
            for f in self.cams[cam.channel]:
                t = f.t(self.start)
                origin, heading = sensor_pose(self.world, t, cam.translation, cam.yaw)
                rng = np.random.default_rng([self.seed, self.scene, 1 + ci, f.index + 1000])
                img = render_camera(self.world.prims(t), self.world.town, origin, heading, grid, self.world.sun, rng,
                                    n if f.key else None)
                rec = self._record(f, (h, w))
                files.write_jpeg(self.root, rec["filename"], img.rgb)
                if self.cfg.pixel_sidecars:
                    classes = files.sidecar_filename("pixel_classes", f.channel, rec["filename"])
                    files.write_png(self.root, classes, img.classes)
                    depth = files.sidecar_filename("depth", f.channel, rec["filename"])
                    files.write_png(self.root, depth, files.depth_to_png(img.depth))
                if f.key:
                    self.keyframes[f.sample].visible += img.visible
                    self.keyframes[f.sample].extent += img.extent
                records.append(rec)
                if bump:
                    bump(1)
            self.sample_data.extend(link(records))

    def agents_meta(self, kept: set[str]) -> dict:
        """Ground truth the tables cannot hold (true speed, whether the path is straight), per instance token."""
        out = {}
        for i, a in enumerate(self.world.agents.agents):
            tok = token(self.seed, "instance", self.scene, i)
            if tok in kept:
                out[tok] = {"category": a.category, "attribute": a.attribute, "speed": round(float(a.speed), 6),
                            "straight_path": bool(a.path is not None and not a.path.turns),
                            "moving": bool(a.path is not None and a.speed > 0.2)}
        return out

    def tables(self) -> dict[str, list[dict]]:
        instances, annotations = annotation_tables(self.seed, self.scene, self.world.agents, self.keyframes)
        log_token, location = token(self.seed, "log", self.scene), LOCATIONS[self.location]
        return {
            "log": [{"token": log_token, "logfile": self.logfile, "vehicle": f"n{self.location:03d}",
                     "date_captured": date_of(self.start), "location": location}],
            "scene": [{"token": self.scene_token, "log_token": log_token, "nbr_samples": len(self.samples),
                       "first_sample_token": self.samples[0]["token"], "last_sample_token": self.samples[-1]["token"],
                       "name": self.job.name,
                       "description": f"Synthetic drive in {location}, ego {self.world.ego.speed:.1f} m/s."}],
            "sample": self.samples, "sample_data": self.sample_data, "ego_pose": self.ego_poses,
            "calibrated_sensor": calibrated_sensors(self.seed, self.scene, self.cfg),
            "instance": instances, "sample_annotation": annotations, "lidarseg": self.lidarseg,
        }


def run_scene(job: SceneJob, progress: Bump | None = None) -> dict:
    """Render and write one scene; returns its table records and sidecar metadata."""
    r = SceneRenderer(job)
    map_token = token(r.seed, "map", r.location)
    if r.scene == r.location:  # the first scene recorded at a location writes its map
        write_maps(r.root, r.world, map_token)
    clock = time.perf_counter()
    r.render_lidar(progress)
    lidar_s, clock = time.perf_counter() - clock, time.perf_counter()
    r.render_cameras(progress)
    camera_s = time.perf_counter() - clock
    tables = r.tables()
    log.debug("scene %s: %d sample_data, %d annotations", job.name, len(r.sample_data),
              len(tables["sample_annotation"]))
    return {
        "index": r.scene,
        "tables": tables,
        "map": {"token": map_token, "location": r.location, "log_token": tables["log"][0]["token"]},
        "agents": r.agents_meta({a["instance_token"] for a in tables["sample_annotation"]}),
        "timing": {"lidar_frames": len(r.lidar), "lidar_s": lidar_s,
                   "images": sum(len(v) for v in r.cams.values()), "camera_s": camera_s},
    }
