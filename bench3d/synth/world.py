"""One scene's world: the town of its location, the ego, the agents and the light, all from the seed."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bench3d.labels.nuscenes import FINE_INDEX
from bench3d.synth.agents import AgentSet
from bench3d.synth.primitives import BOX, Prims, make_prims
from bench3d.synth.props import furnish
from bench3d.synth.rig import EGO_HEIGHT, EGO_LENGTH, EGO_REAR, EGO_WIDTH
from bench3d.synth.appearance import EGO
from bench3d.synth.town import LOCATIONS, Canvas, Town, lay_out_roads, paint_roads
from bench3d.synth.traffic import Ego, populate

TOWN_SIZE = 320.0
SCENERY_RADIUS = 170.0  # scenery farther than this from every ego position is never rendered


@lru_cache(maxsize=4)
def build_town(seed: int, location: int) -> Town:
    """The town of a location (the same for every scene recorded there)."""
    rng = np.random.default_rng([seed, 7919, location])
    roads = lay_out_roads(rng, TOWN_SIZE)
    canvas = Canvas(TOWN_SIZE)
    paint_roads(canvas, roads, TOWN_SIZE)
    builder, spots = furnish(canvas, roads, TOWN_SIZE, rng)
    return Town(LOCATIONS[location], TOWN_SIZE, roads, canvas.m, builder.build(), spots, canvas.geometry)


@dataclass
class World:
    town: Town
    ego: Ego
    agents: AgentSet
    scenery: Prims  # static solids near the ego's path
    sun: np.ndarray  # unit vector towards the sun, world frame

    def prims(self, t: float) -> Prims:
        return Prims.concat([self.scenery, self.agents.prims(t)])

    def ego_pose(self, t: float) -> tuple[float, float, float]:
        x, y, yaw = self.ego.pose(t)
        return float(x), float(y), float(yaw)

    def ego_box(self, t: float) -> Prims:
        """The ego vehicle as a solid (used by the LiDAR only, whose returns from it are discarded)."""
        x, y, yaw = self.ego_pose(t)
        off = EGO_REAR + EGO_LENGTH / 2
        return make_prims([BOX], [x + off * np.cos(yaw)], [y + off * np.sin(yaw)], [EGO_HEIGHT / 2],
                          [EGO_LENGTH / 2], [EGO_WIDTH / 2], [EGO_HEIGHT / 2], [yaw], [FINE_INDEX["vehicle.ego"]],
                          [EGO], [-2], np.zeros((1, 3)))


def build_world(seed: int, scene_index: int, location: int, t_first: float, t_last: float) -> World:
    town = build_town(seed, location)
    rng = np.random.default_rng([seed, 104729, scene_index])
    times = np.arange(t_first, t_last + 0.25, 0.25)
    ego, agents = populate(town, rng, times, t_last)
    ex, ey, _ = ego.pose(times)
    s = town.static
    radius = np.hypot(s.hx, s.hy)
    d = np.min(np.hypot(s.cx[:, None] - ex[None, ::4], s.cy[:, None] - ey[None, ::4]), axis=1) - radius
    elev, azim = rng.uniform(np.deg2rad(30), np.deg2rad(65)), rng.uniform(0, 2 * np.pi)
    sun = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    return World(town, ego, AgentSet(agents, rng), s.take(np.flatnonzero(d < SCENERY_RADIUS)), sun)
