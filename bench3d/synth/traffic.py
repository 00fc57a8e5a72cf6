"""Who is where: the ego route, the rarer classes placed on purpose near it, and random background traffic.

Every scene gets, close to the ego's path, a construction zone (construction vehicle, barriers, cones), a bus,
a truck with a trailer, motorcycles, bicycles, pedestrians (adults and a child) and cars, so that all 16
nuScenes-lidarseg classes occur in every scene. Everything else is random traffic on lanes and sidewalks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.synth.agents import Agent
from bench3d.synth.catalog import make_agent
from bench3d.synth.placer import Placer
from bench3d.synth.rig import EGO_LENGTH, EGO_REAR, EGO_WIDTH
from bench3d.synth.routes import Path, lane_route, sidewalk_path
from bench3d.synth.town import Road, Town


@dataclass
class Ego:
    path: Path
    s0: float
    speed: float

    def pose(self, t: np.ndarray | float):
        return self.path.pose(self.s0 + self.speed * np.asarray(t, dtype=np.float64))


def heading(road: Road, direction: int) -> float:
    return float(np.arctan2(0.0, direction) if road.axis == 0 else np.arctan2(direction, 0.0))


def road_frame(town: Town, x: float, y: float, yaw: float) -> tuple[Road, int, float] | None:
    """(road, direction, along) for a point driving with heading yaw on a road; None inside a junction."""
    if town.junction_mask(np.array([x]), np.array([y]), pad=2.0)[0]:
        return None
    axis = 0 if abs(np.cos(yaw)) > abs(np.sin(yaw)) else 1
    for r in town.along_axis(axis):
        across = (y - r.coord) if axis == 0 else (r.coord - x)
        if abs(across) <= r.half_width:
            direction = int(np.sign(np.cos(yaw) if axis == 0 else np.sin(yaw)))
            return r, direction, (x if axis == 0 else y)
    return None


def clear(town: Town, road: Road, a0: float, a1: float) -> bool:
    """No junction (or crosswalk) between along-coordinates a0 and a1 of a road, and inside the town."""
    lo, hi = sorted((a0, a1))
    if lo < 5 or hi > town.size - 5:
        return False
    a = np.linspace(lo, hi, 12)
    pts = np.array([road.point(v, 0.0) for v in a])
    return not town.junction_mask(pts[:, 0], pts[:, 1], pad=1.0).any()


def route_agent(key, town, rng, road, direction, lane, along, speed, t_end, lead=8.0, turn_prob=0.4, **kw):
    """A moving agent on a lane whose box centre is at `along` at t = 0."""
    path = lane_route(town, road, direction, lane, along - direction * lead, lead + speed * t_end + 25.0, rng,
                      turn_prob=turn_prob, straight_for=lead + 3.0)
    if path.turns:  # slow down for corners
        speed = min(speed, 6.0)
    return make_agent(key, rng, path=path, s0=lead, speed=speed, **kw)


def kerb_pose(road: Road, direction: int, along: float, width: float, gap: float = 0.25):
    """Pose of a vehicle parked at the right kerb of travel `direction`."""
    across = -direction * (road.half_width - gap - width / 2)
    x, y = road.point(along, across)
    return x, y, heading(road, direction)


def park(key, rng, road, direction, along, **kw) -> Agent:
    agent = make_agent(key, rng, **kw)
    agent.pose = kerb_pose(road, direction, along, agent.size[0])
    return agent


def ego_route(town: Town, rng: np.random.Generator, t_end: float) -> tuple[Ego, Road, int]:
    centre = town.size / 2
    roads = [r for r in town.roads if abs(r.coord - centre) < 80]
    with_median = [r for r in roads if r.median > 0]
    pool = with_median if with_median and rng.random() < 0.8 else roads
    road = pool[rng.integers(len(pool))]
    direction = int(rng.choice([-1, 1]))
    along = centre
    for _ in range(50):
        along = centre + rng.uniform(-40, 40)
        if clear(town, road, along - 6, along + 6):
            break
    speed = float(rng.uniform(3.5, 8.5))
    lead = 15.0
    path = lane_route(town, road, direction, 0, along - direction * lead, lead + speed * t_end + 25.0, rng,
                      turn_prob=0.5, straight_for=lead + 5.0)
    if path.turns:
        speed = min(speed, 6.0)
    return Ego(path, lead, speed), road, direction


def ego_footprint(placer: Placer, ego: Ego) -> None:
    s = ego.s0 + ego.speed * placer.times + (EGO_REAR + EGO_LENGTH / 2)
    x, y, yaw = ego.path.pose(s)
    placer.add_footprint(x, y, yaw, EGO_LENGTH / 2 + 0.6, EGO_WIDTH / 2 + 0.3)


def construction_zone(p: Placer, town: Town, rng, road: Road, d: int, a: float) -> bool:
    """Closed outer lane of travel direction d around along = a: vehicle, barrier line, cone taper."""
    if not clear(town, road, a - d * 12.5, a + d * 10):
        return False
    divider = -d * (road.median / 2 + road.lane_width)
    yaw = heading(road, d)
    veh = make_agent("construction", rng)
    veh.pose = kerb_pose(road, d, a + d * 2.0, veh.size[0], gap=0.15)
    if rng.random() < 0.5:
        veh.pose = (veh.pose[0], veh.pose[1], yaw + np.pi)
    items = [veh]
    for k in range(-2, 3):
        b = make_agent("barrier", rng)
        b.pose = (*road.point(a + d * k * 2.6, divider - d * 0.3), yaw + np.pi / 2)
        items.append(b)
    span = road.lane_width - 0.9
    for k in range(4):
        c = make_agent("cone", rng)
        c.pose = (*road.point(a - d * (6.6 + 1.6 * k), divider - d * (0.3 + span * k / 3)), 0.0)
        items.append(c)
    for k in range(2):
        c = make_agent("cone", rng)
        c.pose = (*road.point(a + d * (7.2 + 1.8 * k), divider - d * 0.3), 0.0)
        items.append(c)
    return p.try_add(*items, margin=0.05)


def crossing_spots(town: Town, frame, rng) -> list[tuple[Road, int, float]]:
    """Kerb-side spots on the roads crossing the ego's road near its start (for when the ego's own block is
    too short for a long vehicle)."""
    if frame is None:
        return []
    road0, _, along0 = frame
    out = []
    for x in town.along_axis(1 - road0.axis):
        if abs(x.coord - along0) < 45:
            for off in (18.0, 26.0, 34.0, -18.0, -26.0, -34.0):
                out.append((x, int(rng.choice([-1, 1])), road0.coord + off))
    return [out[i] for i in rng.permutation(len(out))]


def near_ego(p: Placer, town: Town, rng, ego: Ego, t_end: float) -> None:
    """Rarer classes on purpose within a few tens of metres of the ego's start."""
    frames = {}
    for ds in np.arange(-40.0, 61.0, 1.0):
        x, y, yaw = ego.path.pose(ego.s0 + ds)
        f = road_frame(town, float(x), float(y), float(yaw))
        if f is not None:
            frames[float(ds)] = f

    def spots(lo, hi):
        keys = [k for k in frames if lo <= k <= hi]
        return [frames[k] for k in rng.permutation(keys)] if keys else []

    def closest_to(ds, min_gap=0.0):  # spots at least min_gap from the ego, nearest to ds first
        keys = [k for k in frames if abs(k) >= min_gap]
        return [frames[k] for k in sorted(keys, key=lambda k: (abs(k - ds), k))]

    for road, d, a in closest_to(20.0):
        if construction_zone(p, town, rng, road, d, a) or construction_zone(p, town, rng, road, -d, a):
            break
    bus_spots = closest_to(-20.0, min_gap=14.0) + crossing_spots(town, frames.get(0.0), rng) + closest_to(-8.0)
    for road, d, a in bus_spots:  # a bus waiting at a stop, behind the ego or on either side
        side = d if rng.random() < 0.5 else -d
        if clear(town, road, a - 7, a + 7) and (p.try_add(park("bus", rng, road, side, a, stopped=True))
                                                or p.try_add(park("bus", rng, road, -side, a, stopped=True))):
            break
    placed = False
    for road, d, a in closest_to(10.0):  # oncoming truck with trailer
        speed = rng.uniform(4, 7.5)
        truck = route_agent("truck", town, rng, road, -d, 0, a + d * rng.uniform(10, 30), speed, t_end, lead=25.0,
                            turn_prob=0.3)
        trailer = make_agent("trailer", rng, path=truck.path, speed=truck.speed)
        trailer.s0 = truck.s0 - (truck.size[1] / 2 + 0.7 + trailer.size[1] / 2)
        if placed := p.try_add(truck, trailer):
            break
    for road, d, a in [] if placed else closest_to(25.0, min_gap=15.0):  # else both parked
        side = -d if rng.random() < 0.5 else d
        truck = park("truck", rng, road, side, a)
        trailer = make_agent("trailer", rng)
        back = a - side * (truck.size[1] / 2 + 0.7 + trailer.size[1] / 2)
        trailer.pose = kerb_pose(road, side, back, trailer.size[0])
        if clear(town, road, a - 16, a + 16) and p.try_add(truck, trailer):
            break
    _cycles_and_people(p, town, rng, spots, closest_to, t_end)
    for road, d, a in spots(-35, 60)[:10]:
        side_dir = d if rng.random() < 0.5 else -d
        if clear(town, road, a - 4, a + 4):
            p.try_add(park("car", rng, road, side_dir, a))
    for road, d, a in spots(10, 45)[:3]:
        p.try_add(route_agent("car", town, rng, road, d, 0, a, ego.speed * rng.uniform(0.95, 1.2), t_end))
    for road, d, a in spots(0, 60)[:4]:
        p.try_add(route_agent("car", town, rng, road, -d, int(rng.integers(2)), a, rng.uniform(5, 10), t_end))


def _cycles_and_people(p: Placer, town: Town, rng, spots, closest_to, t_end: float) -> None:
    for road, d, a in closest_to(10.0):  # parked motorcycle on the sidewalk by the kerb
        side = -d if rng.random() < 0.6 else d
        m = make_agent("motorcycle", rng, rider=False)
        m.pose = (*road.point(a, side * (road.half_width + 0.9)), heading(road, d) + np.pi / 2)
        if p.try_add(m, margin=0.1):
            break
    for road, d, a in closest_to(25.0):
        if p.try_add(route_agent("motorcycle", town, rng, road, -d, 1, a, rng.uniform(5, 9), t_end)):
            break
    for road, d, a in spots(-10, 20):  # a row of parked bicycles
        side = -d if rng.random() < 0.5 else d
        row = []
        for k in range(int(rng.integers(2, 4))):
            b = make_agent("bicycle", rng, rider=False)
            b.pose = (*road.point(a + k * 0.9, side * (road.half_width + 1.0)), heading(road, d) + np.pi / 2)
            row.append(b)
        if p.try_add(*row, margin=0.05):
            break
    for road, d, a in spots(5, 40):  # cyclist riding by the kerb, with or against the ego's direction
        direction = d if rng.random() < 0.5 else -d
        rider = route_agent("bicycle", town, rng, road, direction, 1, a, rng.uniform(3, 5.5), t_end, turn_prob=0.2)
        if p.try_add(rider):
            break
    _pedestrians(p, rng, spots, t_end, n_walk=6, n_stand=3)


def _pedestrians(p: Placer, rng, spots, t_end: float, n_walk: int, n_stand: int, key: str | None = None) -> None:
    cand = spots(-25, 40)
    for i, (road, d, a) in enumerate(cand[: n_walk + n_stand]):
        side = int(rng.choice([-1, 1]))
        kind = key or ("child" if i % 4 == 1 else "adult")
        if i < n_walk:
            speed = rng.uniform(0.9, 1.6)
            direction = int(rng.choice([-1, 1]))
            path = sidewalk_path(road, side, a - direction * 2.0, direction, 2.0 + speed * t_end + 4)
            agent = make_agent(kind, rng, path=path, s0=2.0, speed=speed)
        else:
            agent = make_agent(kind, rng)
            across = side * (road.half_width + rng.uniform(0.9, road.sidewalk - 0.4))
            agent.pose = (*road.point(a, across), rng.uniform(-np.pi, np.pi))
        p.try_add(agent, margin=0.15)


def background(p: Placer, town: Town, rng, centre: np.ndarray, t_end: float, radius: float = 95.0) -> None:
    """Random traffic, parked vehicles and pedestrians within `radius` of the ego's start."""

    def random_spot(margin: float):
        for _ in range(20):
            road = town.roads[rng.integers(len(town.roads))]
            base = centre[road.axis]
            if abs(road.coord - centre[1 - road.axis]) > radius:
                continue
            a = base + rng.uniform(-radius, radius)
            if clear(town, road, a - margin, a + margin):
                return road, int(rng.choice([-1, 1])), a
        return None

    plan = [("car", 14, "drive"), ("truck", 2, "drive"), ("bus", 1, "drive"), ("motorcycle", 2, "drive"),
            ("bicycle", 2, "drive"), ("car", 18, "park"), ("truck", 1, "park"), ("bendy_bus", 1, "park"),
            ("adult", 16, "walk"), ("child", 3, "walk"), ("adult", 6, "stand")]
    for key, count, mode in plan:
        for _ in range(count):
            spot = random_spot(10.0)
            if spot is None:
                continue
            road, d, a = spot
            if mode == "drive":
                lane = 1 if key == "bicycle" else int(rng.integers(2))
                speed = rng.uniform(3, 5.5) if key == "bicycle" else rng.uniform(4, 11)
                p.try_add(route_agent(key, town, rng, road, d, lane, a, speed, t_end))
            elif mode == "park":
                p.try_add(park(key, rng, road, d, a))
            else:
                _pedestrians(p, rng, lambda lo, hi, s=(road, d, a): [s], t_end,
                             n_walk=int(mode == "walk"), n_stand=int(mode == "stand"), key=key)
    spots = town.parking_spots
    near = spots[np.hypot(spots[:, 0] - centre[0], spots[:, 1] - centre[1]) < radius] if len(spots) else spots
    for x, y, yaw in near:
        if rng.random() < 0.55:
            car = make_agent("car", rng)
            car.pose = (float(x), float(y), float(yaw))
            p.try_add(car, margin=0.1)


def populate(town: Town, rng: np.random.Generator, times: np.ndarray, t_end: float) -> tuple[Ego, list[Agent]]:
    """The ego and every other agent of a scene, collision-free over `times`."""
    ego, _, _ = ego_route(town, rng, t_end)
    p = Placer(times)
    ego_footprint(p, ego)
    near_ego(p, town, rng, ego, t_end)
    x, y, _ = ego.pose(0.0)
    background(p, town, rng, np.array([float(x), float(y)]), t_end)
    return ego, p.agents
