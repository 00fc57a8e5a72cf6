"""The manifests shipped with the suite (package data) and how to rebuild them from a release.

Shipped nuScenes manifests are built from the devkit's official `splits.train` list, taken as the scene-
table order because the real v1.0-trainval `scene.json` is not available offline. SLidR's draw 0 depends
on that order: run `bench3d splits build --dataroot D --version v1.0-trainval` on the real release to
confirm or correct them (it reports every difference). Random draws and the SemanticKITTI manifests do not
depend on any table order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench3d.data.nuscenes.tables import predefined_splits, read_table
from bench3d.errors import DataError, UnknownNameError
from bench3d.splits import nuscenes as nus
from bench3d.splits import semantickitti as kitti
from bench3d.splits.manifest import SplitManifest

log = logging.getLogger(__name__)

MANIFEST_DIR = Path(__file__).parent / "manifests"
RANDOM_DRAWS: tuple[int, ...] = (1, 2)
NUSCENES_FRACTIONS: tuple[float, ...] = tuple(nus.SKIP_STEP_BY_FRACTION)
SEMANTICKITTI_FRACTIONS: tuple[float, ...] = (0.01,)
OFFICIAL_NUSCENES_SOURCE = "v1.0-trainval train split, devkit splits.train list order (table order unverified)"
OFFICIAL_SEMANTICKITTI_SOURCE = "released scan counts of sequences 00-07, 09, 10 (19130 scans)"


def manifest_name(dataset: str, fraction: float, draw: int) -> str:
    return f"{dataset}_{round(fraction * 100):d}pct_draw{draw}"


def build_nuscenes_set(
    scene_table_names: Sequence[str], train_names: Sequence[str], source: str, draws: Sequence[int] = RANDOM_DRAWS
) -> dict[str, SplitManifest]:
    """Draw 0 and random draws per fraction (100 % has only draw 0), plus SLidR's held-out pair if it applies."""
    out: dict[str, SplitManifest] = {}
    for fraction in NUSCENES_FRACTIONS:
        for draw in (0, *draws) if fraction < 1.0 else (0,):
            out[manifest_name("nuscenes", fraction, draw)] = nus.nuscenes_manifest(
                scene_table_names, train_names, fraction, draw, source
            )
    if set(nus.SLIDR_HELDOUT_SCENES) <= set(train_names):
        out.update(nus.slidr_heldout_manifests(train_names, source))
    return out


def build_semantickitti_set(paths: Sequence[str], source: str, draws: Sequence[int] = RANDOM_DRAWS) -> dict[str, SplitManifest]:
    return {
        manifest_name("semantickitti", fraction, draw): kitti.semantickitti_manifest(paths, fraction, draw, source)
        for fraction in SEMANTICKITTI_FRACTIONS
        for draw in (0, *draws)
    }


def build_official_set() -> dict[str, SplitManifest]:
    """Exactly what ships in `bench3d/splits/manifests/`."""
    train = predefined_splits()["train"]
    manifests = build_nuscenes_set(train, train, OFFICIAL_NUSCENES_SOURCE)
    manifests.update(build_semantickitti_set(kitti.official_train_scan_paths(), OFFICIAL_SEMANTICKITTI_SOURCE))
    return manifests


def write_set(manifests: Mapping[str, SplitManifest], out_dir: str | Path) -> list[Path]:
    return [m.write(Path(out_dir) / f"{name}.txt") for name, m in sorted(manifests.items())]


def shipped_names() -> list[str]:
    return sorted(p.stem for p in MANIFEST_DIR.glob("*.txt"))


def load_shipped(name: str) -> SplitManifest:
    path = MANIFEST_DIR / f"{name}.txt"
    if not path.is_file():
        raise UnknownNameError("split manifest", name, shipped_names())
    return SplitManifest.read(path)


def nuscenes_train_names(dataroot: str | Path, version: str) -> list[str]:
    """Train scenes of a release: the official list for trainval, mini_train for mini, else splits.json."""
    if version.endswith("trainval"):
        return list(predefined_splits()["train"])
    if version.endswith("mini"):
        return list(predefined_splits()["mini_train"])
    path = Path(dataroot) / version / "splits.json"
    if not path.is_file():
        raise DataError(path, "a custom release needs splits.json with a 'train' list to build splits")
    custom = json.loads(path.read_text())
    if not isinstance(custom.get("train"), list):
        raise DataError(path, "has no 'train' list of scene names")
    return list(custom["train"])


def build_release_set(dataroot: str | Path, version: str) -> dict[str, SplitManifest]:
    """Manifests for a nuScenes release, following its own scene-table order."""
    table_names = [r["name"] for r in read_table(dataroot, version, "scene")]
    train = nuscenes_train_names(dataroot, version)
    absent = sorted(set(train) - set(table_names))
    if absent:
        log.warning("%d train scenes are not in %s/%s (e.g. %s)", len(absent), dataroot, version, absent[0])
    built = build_nuscenes_set(table_names, [n for n in train if n in set(table_names)], f"{version} scene table")
    empty = [name for name, manifest in built.items() if not manifest.ids]
    if empty:
        log.warning("%d manifests are empty (%d train scenes are too few): %s", len(empty), len(train), ", ".join(empty))
    return built


@dataclass(frozen=True)
class ManifestDifference:
    name: str
    status: str  # "same", "differs", "not shipped"
    only_built: tuple[str, ...] = ()
    only_shipped: tuple[str, ...] = ()
    order_differs: bool = False


def compare_with_shipped(built: Mapping[str, SplitManifest]) -> list[ManifestDifference]:
    shipped = set(shipped_names())
    out = []
    for name, manifest in sorted(built.items()):
        if name not in shipped:
            out.append(ManifestDifference(name, "not shipped"))
            continue
        ref = load_shipped(name)
        if ref.ids == manifest.ids:
            out.append(ManifestDifference(name, "same"))
            continue
        only_built = tuple(sorted(set(manifest.ids) - set(ref.ids)))
        only_shipped = tuple(sorted(set(ref.ids) - set(manifest.ids)))
        out.append(ManifestDifference(name, "differs", only_built, only_shipped, not (only_built or only_shipped)))
    return out
