"""The synthetic world's map-expansion files: the devkit's NuScenesMap loads them, and its `get_map_mask`
over the whole town agrees with the world's own ground-material raster, layer by layer (IoUs below are
measured on the tiny release; rasterisation adds a cell at polygon edges, which thin stop lines feel most)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from nuscenes.map_expansion.map_api import NuScenesMap

from bench3d.synth import appearance as ap
from bench3d.synth.town import LOCATIONS
from bench3d.synth.world import build_town

LAYERS = ["drivable_area", "walkway", "carpark_area", "ped_crossing", "stop_line", "lane", "road_segment",
          "road_divider", "lane_divider"]


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _locations(release: Path) -> list[str]:
    return sorted({log["location"] for log in json.loads((release / "v1.0-mini" / "log.json").read_text())})


def test_the_devkit_reads_the_map_and_its_masks_match_the_world(tiny_release: Path) -> None:
    locations = _locations(tiny_release)
    assert locations and sorted(p.stem for p in (tiny_release / "maps" / "expansion").glob("*.json")) == locations
    for location in locations:
        nmap = NuScenesMap(str(tiny_release), location)
        assert nmap.version >= "1.3" and all(len(getattr(nmap, layer)) > 0 for layer in LAYERS)
        town = build_town(0, LOCATIONS.index(location))
        n, mat, geom = town.material.shape[0], town.material, town.map_geometry
        # Patch angle 0 over the whole town at 0.1 m: mask[row, col] = (y, x), as the raster.
        masks = dict(zip(LAYERS, nmap.get_map_mask((town.size / 2, town.size / 2, town.size, town.size), 0.0,
                                                   LAYERS, canvas_size=(n, n)).astype(bool)))
        ious = {
            "drivable_area": _iou(masks["drivable_area"],
                                  np.isin(mat, (ap.ASPHALT, ap.PARKING, ap.PAINT_WHITE, ap.PAINT_YELLOW))),
            "walkway": _iou(masks["walkway"], mat == ap.SIDEWALK),
            "carpark_area": _iou(masks["carpark_area"], mat == ap.PARKING),
            "ped_crossing": _iou(masks["ped_crossing"], geom.raster("ped_crossing", n)),
            "stop_line": _iou(masks["stop_line"], geom.raster("stop_line", n)),
            "lane": _iou(masks["lane"], geom.raster("lane", n)),
            "road_segment": _iou(masks["road_segment"], geom.raster("road_segment", n) | geom.raster("intersection", n)),
        }
        floors = {"drivable_area": 0.98, "walkway": 0.94, "carpark_area": 0.9, "ped_crossing": 0.93,
                  "stop_line": 0.75, "lane": 0.97, "road_segment": 0.97}
        assert all(ious[k] >= floors[k] for k in floors), (location, ious)
        # Zebra stripes and stop-line paint lie inside their polygons.
        white = mat == ap.PAINT_WHITE
        assert (white & geom.raster("ped_crossing", n) & ~masks["ped_crossing"]).sum() == 0
        # Dividers lie on the road: the road divider on its centre paint or median, lane dividers on the dashes.
        on_road = np.isin(mat, (ap.ASPHALT, ap.PAINT_WHITE, ap.PAINT_YELLOW, ap.MEDIAN))
        for name in ("road_divider", "lane_divider"):
            assert masks[name].sum() > 0 and on_road[masks[name]].mean() > 0.99, name
        # Dashes: 3 m of every 8 m, one 0.1 m cell wide under a 3-cell-wide drawn line: about 1/8 of its cells.
        assert white[masks["lane_divider"]].mean() > 0.1


@pytest.mark.parametrize("layer", ["drivable_area", "walkway"])
def test_map_polygons_are_valid(tiny_release: Path, layer: str) -> None:
    nmap = NuScenesMap(str(tiny_release), _locations(tiny_release)[0])
    records = getattr(nmap, layer)
    tokens = [t for r in records for t in r.get("polygon_tokens", [r.get("polygon_token")])]
    assert tokens and all(nmap.extract_polygon(t).is_valid for t in tokens)


def test_bev_map_masks_follow_bevfusions_convention(tiny_release: Path) -> None:
    """mask[c, i, j] is the cell at x = -50 + (i + 0.5) / 2 forward, y = -50 + (j + 0.5) / 2 left of the LiDAR:
    the world's raster sampled there agrees, and agrees much less with the axes swapped."""
    from bench3d.data.nuscenes import NuScenesReader
    from bench3d.data.nuscenes.bev_map import BEV_CLASSES

    reader = NuScenesReader(tiny_release, "v1.0-mini")
    centres = -50 + (np.arange(200) + 0.5) * 0.5
    xs, ys = np.meshgrid(centres, centres, indexing="ij")
    local = np.stack([xs.ravel(), ys.ravel(), np.zeros(xs.size), np.ones(xs.size)])
    for seq in reader.sequences():
        token = seq.sample_tokens[-1]
        masks = reader.bev_map(token)
        assert masks.shape == (len(BEV_CLASSES), 200, 200) and masks.dtype == bool
        lidar = reader.tables.sample_data_by_channel[token]["LIDAR_TOP"]
        world = reader.ego_to_global(lidar) @ reader.sensor_to_ego(lidar) @ local
        town = build_town(0, LOCATIONS.index(reader.location(token)))
        mat = town.ground_material(world[0], world[1]).reshape(200, 200)
        drivable = np.isin(mat, (ap.ASPHALT, ap.PARKING, ap.PAINT_WHITE, ap.PAINT_YELLOW))
        assert _iou(masks[0], drivable) > 0.9 and _iou(masks[0], drivable.T) < 0.7
        assert _iou(masks[BEV_CLASSES.index("walkway")], mat == ap.SIDEWALK) > 0.8
        assert masks[BEV_CLASSES.index("divider")].any()


def test_a_release_without_map_expansion_is_named(tmp_path: Path, tiny_release: Path) -> None:
    import shutil

    from bench3d.data.nuscenes import NuScenesReader
    from bench3d.errors import DataError

    root = tmp_path / "release"
    shutil.copytree(tiny_release / "v1.0-mini", root / "v1.0-mini")
    reader = NuScenesReader(root, "v1.0-mini")
    token = reader.sequences()[0].sample_tokens[0]
    with pytest.raises(DataError, match=r"maps/expansion/.*\.json.*map expansion file is missing.*v1\.3"):
        reader.bev_map(token)
