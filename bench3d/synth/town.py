"""Procedural town: a grid of two-lane-per-direction roads with sidewalks, medians and lane markings.

The ground is the plane z = 0; what it *is* comes from a material raster (0.1 m cells, row i covers
y in [i * res, (i + 1) * res)), whose materials map to nuScenes flat classes (appearance.GROUND_LABEL).
Blocks between the roads are furnished by `props`. World coordinates are positive, like nuScenes map frames.
The painters also record what they paint as map-expansion geometry (`MapGeometry`: rectangles per layer,
snapped to the raster, and 2-node divider lines), which `synth.map_expansion` writes for the devkit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench3d.synth import appearance as ap
from bench3d.synth.primitives import Prims

LOCATIONS: tuple[str, ...] = (
    "singapore-onenorth", "boston-seaport", "singapore-queenstown", "singapore-hollandvillage",
)
RESOLUTION = 0.1  # metres per raster cell, the devkit's native map resolution


@dataclass(frozen=True)
class Road:
    """A straight road across the whole town. axis 0 runs along x (centre line y = coord); axis 1 along y."""

    axis: int
    coord: float
    lanes: int
    lane_width: float
    median: float
    sidewalk: float

    @property
    def half_width(self) -> float:
        return self.median / 2 + self.lanes * self.lane_width

    @property
    def outer(self) -> float:
        """Half width including the sidewalks."""
        return self.half_width + self.sidewalk

    def lane_offset(self, lane: int) -> float:
        return self.median / 2 + (lane + 0.5) * self.lane_width

    def point(self, along: float, across: float) -> tuple[float, float]:
        """World (x, y) of a point given along-road and signed across-road (left of +axis travel) coordinates."""
        return (along, self.coord + across) if self.axis == 0 else (self.coord - across, along)

    def lane_across(self, direction: int, lane: int) -> float:
        """Across coordinate of a lane centre for travel in `direction` (+1 / -1 along the axis); right-hand traffic."""
        return -direction * self.lane_offset(lane)


@dataclass
class MapGeometry:
    """Map-expansion geometry as painted: axis-aligned rectangles (x0, x1, y0, y1) per polygon layer, snapped
    to raster cells, and (x0, y0, x1, y1) lines per divider layer."""

    rects: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    lines: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)

    def raster(self, layer: str, n: int, res: float = RESOLUTION) -> np.ndarray:
        """(n, n) bool: the cells of a polygon layer's rectangles (row i = y in [i res, (i + 1) res))."""
        out = np.zeros((n, n), dtype=bool)
        for x0, x1, y0, y1 in self.rects.get(layer, []):
            out[int(round(y0 / res)):int(round(y1 / res)), int(round(x0 / res)):int(round(x1 / res))] = True
        return out


@dataclass
class Town:
    location: str
    size: float
    roads: tuple[Road, ...]
    material: np.ndarray  # (n, n) uint8 ground material ids
    static: Prims = field(repr=False)
    parking_spots: np.ndarray  # (k, 3) x, y, yaw of parking bays
    map_geometry: MapGeometry = field(default_factory=MapGeometry, repr=False)
    res: float = RESOLUTION

    def along_axis(self, axis: int) -> list[Road]:
        return sorted((r for r in self.roads if r.axis == axis), key=lambda r: r.coord)

    def ground_material(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Material ids under world points (grass outside the town)."""
        n = self.material.shape[0]
        ix = np.floor(x / self.res).astype(np.int64)
        iy = np.floor(y / self.res).astype(np.int64)
        inside = (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)
        out = np.full(ix.shape, ap.GRASS, dtype=np.uint8)
        out[inside] = self.material[iy[inside], ix[inside]]
        return out

    def junction_mask(self, x: np.ndarray, y: np.ndarray, pad: float = 0.0) -> np.ndarray:
        """True for points inside a junction or its crosswalks (where markings and parked objects do not go)."""
        in_v = np.zeros(np.shape(x), dtype=bool)
        in_h = np.zeros(np.shape(x), dtype=bool)
        for r in self.roads:
            if r.axis == 1:
                in_v |= np.abs(x - r.coord) < r.outer + pad
            else:
                in_h |= np.abs(y - r.coord) < r.outer + pad
        return in_v & in_h


class Canvas:
    """Paints axis-aligned world rectangles into the material raster."""

    def __init__(self, size: float, res: float = RESOLUTION) -> None:
        n = int(round(size / res))
        self.res = res
        self.m = np.full((n, n), ap.GRASS, dtype=np.uint8)
        self.geometry = MapGeometry()

    def _slices(self, x0: float, x1: float, y0: float, y1: float) -> tuple[slice, slice]:
        n = self.m.shape[0]
        c0, c1 = sorted((int(round(x0 / self.res)), int(round(x1 / self.res))))
        r0, r1 = sorted((int(round(y0 / self.res)), int(round(y1 / self.res))))
        return slice(max(r0, 0), min(r1, n)), slice(max(c0, 0), min(c1, n))

    def rect(self, x0, x1, y0, y1, mat: int, only: tuple[int, ...] | None = None, layer: str | None = None) -> None:
        rs, cs = self._slices(x0, x1, y0, y1)
        if layer is not None and rs.stop > rs.start and cs.stop > cs.start:
            self.geometry.rects.setdefault(layer, []).append(
                (cs.start * self.res, cs.stop * self.res, rs.start * self.res, rs.stop * self.res))
        view = self.m[rs, cs]
        if only is None:
            view[...] = mat
        else:
            view[np.isin(view, only)] = mat

    def road_rect(self, road: Road, a0, a1, c0, c1, mat: int, only=None, layer: str | None = None) -> None:
        """Rectangle in a road's (along, across) coordinates."""
        (x0, y0), (x1, y1) = road.point(a0, c0), road.point(a1, c1)
        self.rect(x0, x1, y0, y1, mat, only, layer)

    def road_area(self, road: Road, a0, a1, c0, c1, layer: str) -> None:
        """Record a map polygon (no paint) in a road's (along, across) coordinates."""
        (x0, y0), (x1, y1) = road.point(a0, c0), road.point(a1, c1)
        rs, cs = self._slices(x0, x1, y0, y1)
        if rs.stop > rs.start and cs.stop > cs.start:
            self.geometry.rects.setdefault(layer, []).append(
                (cs.start * self.res, cs.stop * self.res, rs.start * self.res, rs.stop * self.res))

    def road_line(self, road: Road, a0, a1, c, layer: str) -> None:
        """Record a 2-node map line along a road at across coordinate c (devkit 1.2.0 needs simple lines)."""
        (x0, y0), (x1, y1) = road.point(a0, c), road.point(a1, c)
        self.geometry.lines.setdefault(layer, []).append((x0, y0, x1, y1))

    def road_stripes(self, road: Road, a0, a1, c0, c1, period: float, on: float, across: bool, mat: int) -> None:
        """Periodic stripes (along the road if across=False, i.e. dashes; across it for zebra crossings)."""
        (x0, y0), (x1, y1) = road.point(a0, c0), road.point(a1, c1)
        rs, cs = self._slices(x0, x1, y0, y1)
        rows = (np.arange(rs.start, rs.stop) + 0.5) * self.res
        cols = (np.arange(cs.start, cs.stop) + 0.5) * self.res
        if road.axis == 0:
            coord = (rows - road.coord)[:, None] if across else cols[None, :] - min(a0, a1)
        else:
            coord = (road.coord - cols)[None, :] if across else rows[:, None] - min(a0, a1)
        mask = np.broadcast_to(np.mod(coord, period) < on, (len(rows), len(cols)))
        view = self.m[rs, cs]
        view[mask & (view == ap.ASPHALT)] = mat


def _road_positions(rng: np.random.Generator, size: float) -> list[float]:
    pos, x = [], 45.0 + rng.uniform(0, 12)
    while x < size - 45.0:
        pos.append(float(x))
        x += rng.uniform(58, 82)
    return pos


def lay_out_roads(rng: np.random.Generator, size: float) -> tuple[Road, ...]:
    roads = []
    for axis in (0, 1):
        coords = _road_positions(rng, size)
        with_median = rng.random(len(coords)) < 0.5
        with_median[rng.integers(len(coords))] = True  # every town has flat.other medians on both axes
        for coord, med in zip(coords, with_median):
            roads.append(Road(axis, coord, 2, float(rng.uniform(3.2, 3.7)),
                              float(rng.uniform(1.6, 3.0)) if med else 0.0, float(rng.uniform(2.8, 4.2))))
    return tuple(roads)


def stretches(road: Road, roads: tuple[Road, ...], size: float) -> list[tuple[float, float]]:
    """Along-road intervals between the junction zones (junction box plus crosswalks) of a road."""
    zones = sorted((r.coord - r.outer, r.coord + r.outer) for r in roads if r.axis != road.axis)
    out, start = [], 0.0
    for z0, z1 in zones:
        out.append((start, z0))
        start = z1
    out.append((start, size))
    return [(a, b) for a, b in out if b - a > 1.0]


def paint_roads(canvas: Canvas, roads: tuple[Road, ...], size: float) -> None:
    for r in roads:
        for side in (-1, 1):
            canvas.road_rect(r, 0, size, side * r.half_width, side * r.outer, ap.SIDEWALK, layer="sidewalk")
    for r in roads:
        canvas.road_rect(r, 0, size, -r.half_width, r.half_width, ap.ASPHALT, layer="road")
    for r in roads:
        for a, b in stretches(r, roads, size):
            canvas.road_area(r, a, b, -r.half_width, r.half_width, "road_segment")
            if r.median > 0:
                canvas.road_rect(r, a, b, -r.median / 2, r.median / 2, ap.MEDIAN, layer="median")
            for side in (-1, 1):  # one lane polygon per lane and stretch
                for lane in range(r.lanes):
                    inner = r.median / 2 + lane * r.lane_width
                    c0, c1 = sorted((side * inner, side * (inner + r.lane_width)))
                    canvas.road_area(r, a, b, c0, c1, "lane")
            canvas.road_line(r, a, b, 0.0, "road_divider")  # between the two directions of travel
            paint_markings(canvas, r, a, b)
        paint_crossings(canvas, r, roads)
    for r in roads:  # junction boxes: intersection road segments
        if r.axis == 0:
            for x in roads:
                if x.axis == 1:
                    canvas.road_area(x, r.coord - r.half_width, r.coord + r.half_width, -x.half_width,
                                     x.half_width, "intersection")


def paint_markings(canvas: Canvas, r: Road, a: float, b: float) -> None:
    """Centre, lane and edge lines of one stretch, and stop lines where it meets a junction."""
    if r.median == 0:
        for c in (0.06, -0.06):
            canvas.road_rect(r, a, b, c - 0.05, c + 0.05, ap.PAINT_YELLOW, only=(ap.ASPHALT,))
    for side in (-1, 1):
        lane_line = side * (r.median / 2 + r.lane_width)
        canvas.road_stripes(r, a + 1, b - 1, lane_line - 0.06, lane_line + 0.06, 8.0, 3.0, False, ap.PAINT_WHITE)
        canvas.road_line(r, a + 1, b - 1, lane_line, "lane_divider")
        edge = side * (r.half_width - 0.3)
        canvas.road_rect(r, a, b, edge - 0.06, edge + 0.06, ap.PAINT_WHITE, only=(ap.ASPHALT,))
        inner = side * (r.median / 2 + 0.1)
        if r.median > 0:
            canvas.road_rect(r, a, b, inner - 0.05, inner + 0.05, ap.PAINT_YELLOW, only=(ap.ASPHALT,))
    # Stop lines: traffic in +axis direction keeps right (negative across) and stops at the stretch end.
    if b < canvas.m.shape[0] * canvas.res - 1:
        canvas.road_rect(r, b - 0.6, b - 0.2, -r.half_width + 0.3, -r.median / 2, ap.PAINT_WHITE, only=(ap.ASPHALT,),
                         layer="stop_line")
    if a > 1:
        canvas.road_rect(r, a + 0.2, a + 0.6, r.median / 2, r.half_width - 0.3, ap.PAINT_WHITE, only=(ap.ASPHALT,),
                         layer="stop_line")


def paint_crossings(canvas: Canvas, r: Road, roads: tuple[Road, ...]) -> None:
    """Zebra crossings on both arms of every junction along the road."""
    for x in roads:
        if x.axis == r.axis:
            continue
        for side in (-1, 1):
            a0 = x.coord + side * (x.half_width + 0.4)
            a1 = x.coord + side * (x.outer - 0.4)
            canvas.road_stripes(r, a0, a1, -r.half_width + 0.3, r.half_width - 0.3, 1.1, 0.55, True, ap.PAINT_WHITE)
            canvas.road_area(r, a0, a1, -r.half_width + 0.3, r.half_width - 0.3, "ped_crossing")
