"""Agent categories: nuScenes fine name, shape builder, size ranges (w, l, h) and colour palettes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.synth.agents import Agent
from bench3d.synth.routes import Path

CAR_COLOURS = np.array([
    (0.80, 0.80, 0.82), (0.08, 0.08, 0.09), (0.55, 0.56, 0.58), (0.62, 0.06, 0.06), (0.08, 0.18, 0.45),
    (0.90, 0.90, 0.88), (0.20, 0.30, 0.22), (0.70, 0.55, 0.20),
])


@dataclass(frozen=True)
class Kind:
    category: str
    shape: str
    w: tuple[float, float]
    l: tuple[float, float]
    h: tuple[float, float]
    vehicle: bool = True


KINDS: dict[str, Kind] = {
    "car": Kind("vehicle.car", "car", (1.75, 2.05), (4.0, 4.9), (1.45, 1.8)),
    "truck": Kind("vehicle.truck", "truck", (2.3, 2.6), (6.5, 9.5), (2.8, 3.6)),
    "bus": Kind("vehicle.bus.rigid", "bus", (2.7, 2.95), (10.5, 12.5), (3.2, 3.6)),
    "bendy_bus": Kind("vehicle.bus.bendy", "bendy_bus", (2.7, 2.95), (17.0, 18.5), (3.2, 3.5)),
    "trailer": Kind("vehicle.trailer", "trailer", (2.45, 2.6), (8.0, 11.5), (3.4, 3.9)),
    "construction": Kind("vehicle.construction", "construction", (2.3, 2.5), (6.0, 7.0), (3.0, 3.4)),
    "motorcycle": Kind("vehicle.motorcycle", "motorcycle", (0.75, 0.9), (1.9, 2.3), (1.45, 1.6)),
    "bicycle": Kind("vehicle.bicycle", "bicycle", (0.55, 0.7), (1.6, 1.85), (1.6, 1.8)),
    "adult": Kind("human.pedestrian.adult", "pedestrian", (0.55, 0.7), (0.55, 0.75), (1.6, 1.9), vehicle=False),
    "child": Kind("human.pedestrian.child", "pedestrian", (0.4, 0.5), (0.4, 0.5), (1.05, 1.35), vehicle=False),
    "barrier": Kind("movable_object.barrier", "barrier", (2.2, 2.5), (0.45, 0.6), (0.9, 1.1), vehicle=False),
    "cone": Kind("movable_object.trafficcone", "cone", (0.38, 0.45), (0.38, 0.45), (0.7, 0.95), vehicle=False),
}


def colour_for(key: str, rng: np.random.Generator) -> tuple[float, float, float]:
    if key in ("car", "truck", "trailer", "motorcycle", "bicycle"):
        base = CAR_COLOURS[rng.integers(len(CAR_COLOURS))]
    elif key in ("bus", "bendy_bus"):
        base = np.array([(0.85, 0.65, 0.10), (0.75, 0.12, 0.10), (0.15, 0.35, 0.65)][rng.integers(3)])
    elif key == "construction":
        base = np.array((0.92, 0.70, 0.08))
    elif key == "barrier":
        base = np.array((0.78, 0.10, 0.08))
    elif key == "cone":
        base = np.array((0.98, 0.42, 0.05))
    else:  # clothes
        base = rng.uniform(0.08, 0.85, 3)
    return tuple(float(v) for v in np.clip(base * (1 + rng.uniform(-0.06, 0.06, 3)), 0, 1))


def make_agent(key: str, rng: np.random.Generator, *, path: Path | None = None, s0: float = 0.0,
               speed: float = 0.0, pose=(0.0, 0.0, 0.0), rider: bool | None = None, stopped: bool = False) -> Agent:
    """An agent of kind `key` with a random size and colour; the attribute follows from how it moves."""
    k = KINDS[key]
    size = (float(rng.uniform(*k.w)), float(rng.uniform(*k.l)), float(rng.uniform(*k.h)))
    moving = path is not None and speed > 0.2
    has_rider = moving if rider is None else rider
    if k.shape in ("motorcycle", "bicycle"):
        attribute = "cycle.with_rider" if has_rider else "cycle.without_rider"
        if not has_rider:  # a parked cycle is lower without its rider
            size = (size[0], size[1], 1.05 if k.shape == "bicycle" else 1.2)
    elif k.shape == "pedestrian":
        attribute = "pedestrian.moving" if moving else "pedestrian.standing"
    elif k.vehicle:
        attribute = "vehicle.moving" if moving else ("vehicle.stopped" if stopped else "vehicle.parked")
    else:
        attribute = ""
    return Agent(k.category, k.shape, size, colour_for(k.shape, rng), attribute, path, s0, speed, tuple(pose),
                 has_rider)

