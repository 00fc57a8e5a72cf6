"""Keyframe annotations: one box per agent per sample, linked into instance tracks.

Boxes without LiDAR points are dropped (as nuScenes does), so a track may skip samples; its prev / next links
join the annotations that remain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.geometry import yaw_to_quaternion
from bench3d.synth.agents import AgentSet
from bench3d.synth.ids import token
from bench3d.synth.tables import attribute_token, category_token, rounded, visibility_token


@dataclass
class KeyframeObs:
    """What the sensors saw of every agent at one keyframe."""

    sample_token: str
    x: np.ndarray  # (n,) box centre, world
    y: np.ndarray
    yaw: np.ndarray
    num_lidar_pts: np.ndarray  # (n,) int
    visible: np.ndarray  # (n,) pixels where the agent is the nearest surface, summed over cameras
    extent: np.ndarray  # (n,) pixels the agent would cover without occluders


def points_in_boxes(px: np.ndarray, py: np.ndarray, pz: np.ndarray, x, y, yaw, size: np.ndarray,
                    candidates: np.ndarray) -> np.ndarray:
    """Number of world points inside each candidate agent's box (size rows are w, l, h; box bottom at z = 0)."""
    counts = np.zeros(len(x), dtype=np.int64)
    for i in candidates:
        w, l, h = size[i]
        r = 0.5 * np.hypot(w, l)
        near = np.flatnonzero((np.abs(px - x[i]) <= r) & (np.abs(py - y[i]) <= r))
        if near.size == 0:
            continue
        dx, dy = px[near] - x[i], py[near] - y[i]
        c, s = np.cos(yaw[i]), np.sin(yaw[i])
        lx, ly = c * dx + s * dy, -s * dx + c * dy
        inside = (np.abs(lx) <= l / 2) & (np.abs(ly) <= w / 2) & (pz[near] >= 0) & (pz[near] <= h)
        counts[i] = int(inside.sum())
    return counts


def annotation_tables(seed: int, scene: int, agents: AgentSet, frames: list[KeyframeObs]) -> tuple[list, list]:
    """(instance records, sample_annotation records) of one scene."""
    instances, annotations = [], []
    for i, agent in enumerate(agents.agents):
        track = []
        for m, f in enumerate(frames):
            if f.num_lidar_pts[i] <= 0:
                continue
            w, l, h = agents.size[i]
            frac = f.visible[i] / f.extent[i] if f.extent[i] > 0 else 0.0
            track.append({
                "token": token(seed, "sample_annotation", scene, i, m),
                "sample_token": f.sample_token,
                "instance_token": token(seed, "instance", scene, i),
                "visibility_token": visibility_token(frac),
                "attribute_tokens": [attribute_token(agent.attribute)] if agent.attribute else [],
                "translation": rounded([f.x[i], f.y[i], h / 2]),
                "size": rounded([w, l, h]),
                "rotation": rounded(yaw_to_quaternion(f.yaw[i]), 8),
                "num_lidar_pts": int(f.num_lidar_pts[i]),
                "num_radar_pts": 0,
            })
        if not track:
            continue
        for k, rec in enumerate(track):
            rec["prev"] = track[k - 1]["token"] if k > 0 else ""
            rec["next"] = track[k + 1]["token"] if k + 1 < len(track) else ""
        annotations.extend(track)
        instances.append({
            "token": token(seed, "instance", scene, i),
            "category_token": category_token(agent.category),
            "nbr_annotations": len(track),
            "first_annotation_token": track[0]["token"],
            "last_annotation_token": track[-1]["token"],
        })
    return instances, annotations
