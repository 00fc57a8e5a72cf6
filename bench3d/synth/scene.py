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
from bench3d.synth.primitives import Prims
from bench3d.synth.tables import link, rounded, sensor_token
from bench3d.synth.timeline import FrameSpec, camera_frames, lidar_frames
from bench3d.synth.town import LOCATIONS
from bench3d.synth.world import World, build_world

log = logging.getLogger(__name__)


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
    n = len(lidar_frames(cfg.samples_per_scene, cfg.lidar_sweeps, 0))
    return n + len(rig.CAMERAS) * len(camera_frames(rig.CAMERA_CHANNELS[0], cfg.samples_per_scene, cfg.camera_sweeps, 0))


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
    synthetic/maps/<token>.png: the fine class of the ground at 0.1 m."""
    mat = world.town.material[::-1]
    prior = np.isin(mat, (ap.ASPHALT, ap.PARKING, ap.PAINT_WHITE, ap.PAINT_YELLOW, ap.SIDEWALK))
    files.write_png(root, f"maps/{map_token}.png", prior.astype(np.uint8) * 255, compress_level=6)
    files.write_png(root, f"{files.SIDECAR_DIR}/maps/{map_token}.png", ap.GROUND_LABEL[mat], compress_level=6)


def _sample_data(seed, scene, f: FrameSpec, sample_tokens, cs_token, filename, size=(0, 0)) -> dict:
    sd = token(seed, "sample_data", scene, f.channel, f.index)
    return {"token": sd, "sample_token": sample_tokens[f.sample], "ego_pose_token": sd,
            "calibrated_sensor_token": cs_token, "timestamp": f.timestamp, "fileformat": filename.rsplit(".", 1)[-1]
            if f.channel.startswith("CAM") else "pcd", "is_key_frame": f.key, "height": size[0], "width": size[1],
            "filename": filename}


def run_scene(job: SceneJob, progress: Callable[[int], None] | None = None) -> dict:
    cfg, scene, root = job.cfg, job.index, Path(job.root)
    seed, n_samples = cfg.seed, cfg.samples_per_scene
    start = scene_start_us(seed, scene)
    location = scene % len(LOCATIONS)
    lidar = lidar_frames(n_samples, cfg.lidar_sweeps, start)
    cams = {ch: camera_frames(ch, n_samples, cfg.camera_sweeps, start) for ch in rig.CAMERA_CHANNELS}
    times = [f.t(start) for f in lidar] + [f.t(start) for fs in cams.values() for f in fs]
    world = build_world(seed, scene, location, min(times) - 0.1, max(times) + 0.1)
    logfile = logfile_name(location, start)
    log_token, scene_token, map_token = token(seed, "log", scene), token(seed, "scene", scene), token(seed, "map", location)
    if scene == location:  # the first scene recorded at a location writes its map
        write_maps(root, world, map_token)
    samples = link([{"token": token(seed, "sample", scene, m), "timestamp": f.timestamp, "scene_token": scene_token}
                    for m, f in enumerate(x for x in lidar if x.key)])
    sample_tokens = [s["token"] for s in samples]
    cs = {ch: token(seed, "calibrated_sensor", scene, ch) for ch in rig.ALL_CHANNELS}
    sample_data, ego_poses, lidarseg = [], [], []
    n = len(world.agents)
    keyframes = [KeyframeObs(sample_tokens[m], *world.agents.poses(m * 0.5), np.zeros(n, int), np.zeros(n, int),
                             np.zeros(n, int)) for m in range(n_samples)]

    def ego_pose(sd_token: str, f: FrameSpec) -> None:
        x, y, yaw = world.ego_pose(f.t(start))
        ego_poses.append({"token": sd_token, "timestamp": f.timestamp, "translation": rounded([x, y, 0.0]),
                          "rotation": rounded(yaw_to_quaternion(yaw), 8)})

    spec = lidar_spec(cfg)
    grid = lidar_grid(spec)
    records = []
    clock = time.perf_counter()
    for f in lidar:
        t = f.t(start)
        origin, heading = sensor_pose(world, t, spec.translation, spec.yaw)
        sweep = render_lidar(Prims.concat([world.prims(t), world.ego_box(t)]), world.town, origin, heading, grid,
                             np.random.default_rng([seed, scene, 0, f.index + 1000]))
        rec = _sample_data(seed, scene, f, sample_tokens, cs[f.channel], files.data_filename(f.key, f.channel, logfile, f.timestamp))
        files.write_points(root, rec["filename"], sweep.points)
        if f.key:
            seg = files.lidarseg_filename(cfg.version, rec["token"])
            files.write_labels(root, seg, sweep.labels)
            lidarseg.append({"token": rec["token"], "sample_data_token": rec["token"], "filename": seg})
            kf = keyframes[f.sample]
            c, s = np.cos(heading), np.sin(heading)
            p = sweep.points
            px, py = origin[0] + c * p[:, 0] - s * p[:, 1], origin[1] + s * p[:, 0] + c * p[:, 1]
            near = np.flatnonzero(np.hypot(kf.x - origin[0], kf.y - origin[1]) < spec.max_range + 15)
            kf.num_lidar_pts = points_in_boxes(px, py, p[:, 2] + origin[2], kf.x, kf.y, kf.yaw, world.agents.size, near)
        records.append(rec)
        ego_pose(rec["token"], f)
        if progress:
            progress(1)
    sample_data.extend(link(records))
    lidar_s, clock = time.perf_counter() - clock, time.perf_counter()

    h, w = cfg.image_size
    for ci, cam in enumerate(rig.CAMERAS):
        cgrid = camera_grid(cam, h, w)
        records = []
        for f in cams[cam.channel]:
            t = f.t(start)
            origin, heading = sensor_pose(world, t, cam.translation, cam.yaw)
            img = render_camera(world.prims(t), world.town, origin, heading, cgrid, world.sun,
                                np.random.default_rng([seed, scene, 1 + ci, f.index + 1000]), n if f.key else None)
            rec = _sample_data(seed, scene, f, sample_tokens, cs[f.channel],
                               files.data_filename(f.key, f.channel, logfile, f.timestamp), (h, w))
            files.write_jpeg(root, rec["filename"], img.rgb)
            if cfg.pixel_sidecars:
                files.write_png(root, files.sidecar_filename("pixel_classes", f.channel, rec["filename"]), img.classes)
                files.write_png(root, files.sidecar_filename("depth", f.channel, rec["filename"]),
                                files.depth_to_png(img.depth))
            if f.key:
                keyframes[f.sample].visible += img.visible
                keyframes[f.sample].extent += img.extent
            records.append(rec)
            ego_pose(rec["token"], f)
            if progress:
                progress(1)
        sample_data.extend(link(records))

    camera_s = time.perf_counter() - clock
    instances, annotations = annotation_tables(seed, scene, world.agents, keyframes)
    kept = {a["instance_token"] for a in annotations}
    agents_meta = {}
    for i, a in enumerate(world.agents.agents):
        tok = token(seed, "instance", scene, i)
        if tok in kept:
            agents_meta[tok] = {"category": a.category, "attribute": a.attribute, "speed": round(float(a.speed), 6),
                                "straight_path": bool(a.path is not None and not a.path.turns),
                                "moving": bool(a.path is not None and a.speed > 0.2)}
    log.debug("scene %s: %d sample_data, %d annotations", job.name, len(sample_data), len(annotations))
    return {
        "index": scene,
        "tables": {
            "log": [{"token": log_token, "logfile": logfile, "vehicle": f"n{location:03d}", "date_captured": date_of(start),
                     "location": LOCATIONS[location]}],
            "scene": [{"token": scene_token, "log_token": log_token, "nbr_samples": n_samples,
                       "first_sample_token": sample_tokens[0], "last_sample_token": sample_tokens[-1], "name": job.name,
                       "description": f"Synthetic drive in {LOCATIONS[location]}, ego {world.ego.speed:.1f} m/s."}],
            "sample": samples, "sample_data": sample_data, "ego_pose": ego_poses,
            "calibrated_sensor": calibrated_sensors(seed, scene, cfg),
            "instance": instances, "sample_annotation": annotations, "lidarseg": lidarseg,
        },
        "map": {"token": map_token, "location": location, "log_token": log_token},
        "agents": agents_meta,
        "timing": {"lidar_frames": len(lidar), "lidar_s": lidar_s, "images": len(rig.CAMERAS) * len(cams["CAM_FRONT"]),
                   "camera_s": camera_s},
    }
