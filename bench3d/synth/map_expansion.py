"""The town as a nuScenes map-expansion file (`maps/expansion/<location>.json`, version 1.3), readable by
the devkit's `NuScenesMap`: drivable_area, road_segment, lane, ped_crossing, walkway, stop_line,
carpark_area, road_divider and lane_divider from the geometry the painters recorded (town.MapGeometry).

Drivable area is the roads and car parks less the raised medians; walkways are the sidewalks less the
roads (junctions cut them). Dividers are 2-node lines: nuscenes-devkit 1.2.0's `mask_for_lines` fails on
the MultiLineStrings Shapely 2 makes of longer lines cut by a patch.
"""

from __future__ import annotations

from typing import Any

from shapely.geometry import MultiPolygon, Polygon, box
from shapely.ops import unary_union

from bench3d.synth.ids import token
from bench3d.synth.town import Town

MAP_VERSION = "1.3"


class _Builder:
    def __init__(self, location: str) -> None:
        self.location = location
        self.nodes: list[dict[str, Any]] = []
        self.polygons: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []

    def _token(self, *parts: object) -> str:
        return token("map", self.location, *parts)

    def _node(self, x: float, y: float) -> str:
        tok = self._token("node", len(self.nodes))
        self.nodes.append({"token": tok, "x": round(float(x), 3), "y": round(float(y), 3)})
        return tok

    def polygon(self, poly: Polygon) -> str:
        tok = self._token("polygon", len(self.polygons))
        exterior = [self._node(x, y) for x, y in list(poly.exterior.coords)[:-1]]
        holes = [{"node_tokens": [self._node(x, y) for x, y in list(ring.coords)[:-1]]} for ring in poly.interiors]
        self.polygons.append({"token": tok, "exterior_node_tokens": exterior, "holes": holes})
        return tok

    def line(self, x0: float, y0: float, x1: float, y1: float) -> str:
        tok = self._token("line", len(self.lines))
        self.lines.append({"token": tok, "node_tokens": [self._node(x0, y0), self._node(x1, y1)]})
        return tok


def _parts(geom: Any) -> list[Polygon]:
    if geom.is_empty:
        return []
    return list(geom.geoms) if isinstance(geom, MultiPolygon) else [geom]


def _boxes(rects: list[tuple[float, float, float, float]]) -> list[Polygon]:
    return [box(x0, y0, x1, y1) for x0, x1, y0, y1 in rects]


def expansion_json(town: Town) -> dict[str, Any]:
    """The map-expansion record set of a town (plain JSON types, deterministic tokens)."""
    g = town.map_geometry
    b = _Builder(town.location)
    layer = lambda name: _boxes(g.rects.get(name, []))  # noqa: E731
    drivable = unary_union(layer("road") + layer("carpark_area")).difference(unary_union(layer("median")))
    walkway = unary_union(layer("sidewalk")).difference(unary_union(layer("road") + layer("carpark_area")))
    area_token = b._token("drivable_area", 0)
    out: dict[str, Any] = {
        "version": MAP_VERSION,
        "canvas_edge": [town.size, town.size],
        "drivable_area": [{"token": area_token, "polygon_tokens": [b.polygon(p) for p in _parts(drivable)]}],
    }
    segments = [(p, False) for p in layer("road_segment")] + [(p, True) for p in layer("intersection")]
    out["road_segment"] = [{"token": b._token("road_segment", i), "polygon_token": b.polygon(p),
                            "is_intersection": inter, "drivable_area_token": area_token}
                           for i, (p, inter) in enumerate(segments)]
    out["road_block"] = []
    out["lane"] = [{"token": b._token("lane", i), "polygon_token": b.polygon(p), "lane_type": "CAR",
                    "from_edge_line_token": "", "to_edge_line_token": "",
                    "left_lane_divider_segments": [], "right_lane_divider_segments": []}
                   for i, p in enumerate(layer("lane"))]
    out["ped_crossing"] = [{"token": b._token("ped_crossing", i), "polygon_token": b.polygon(p),
                            "road_segment_token": ""} for i, p in enumerate(layer("ped_crossing"))]
    out["walkway"] = [{"token": b._token("walkway", i), "polygon_token": b.polygon(p)}
                      for i, p in enumerate(_parts(walkway))]
    out["stop_line"] = [{"token": b._token("stop_line", i), "polygon_token": b.polygon(p), "stop_line_type": "STOP_SIGN",
                         "ped_crossing_tokens": [], "traffic_light_tokens": [], "road_block_token": ""}
                        for i, p in enumerate(layer("stop_line"))]
    out["carpark_area"] = [{"token": b._token("carpark_area", i), "polygon_token": b.polygon(p), "orientation": 0.0,
                            "road_block_token": ""} for i, p in enumerate(layer("carpark_area"))]
    out["road_divider"] = [{"token": b._token("road_divider", i), "line_token": b.line(*ln), "road_segment_token": ""}
                           for i, ln in enumerate(g.lines.get("road_divider", []))]
    out["lane_divider"] = [{"token": b._token("lane_divider", i), "line_token": b.line(*ln), "lane_divider_segments": []}
                           for i, ln in enumerate(g.lines.get("lane_divider", []))]
    out.update({"traffic_light": [], "lane_connector": [], "arcline_path_3": {}, "connectivity": {},
                "polygon": b.polygons, "line": b.lines, "node": b.nodes})
    return out
