"""The train tokens of a (dataset, fraction, draw) and the hash that goes into the run record."""

from __future__ import annotations

from bench3d.data.reader import Reader
from bench3d.data.nuscenes.tables import split_scene_names
from bench3d.datasets import DatasetSpec
from bench3d.errors import SplitError
from bench3d.splits.manifest import SplitManifest
from bench3d.splits.release import release_label_split
from bench3d.splits.semantickitti import semantickitti_manifest
from bench3d.splits.waymo import waymo_manifest


def label_split(reader: Reader, ds: DatasetSpec, fraction: float, draw: int) -> tuple[list[str], str]:
    if ds.format == "semantickitti":
        return _kitti_label_split(reader, ds, fraction, draw)
    if ds.format == "waymo":
        return _waymo_label_split(reader, ds, fraction, draw)
    seqs = reader.sequences()  # scene-table order: SLidR's rule depends on it
    names = set(split_scene_names(ds.dataroot, ds.version, ds.train_split))
    manifest, tokens = release_label_split(
        [s.name for s in seqs], [s.name for s in seqs if s.name in names],
        {s.name: list(s.sample_tokens) for s in seqs}, fraction, draw,
        source=f"{ds.name} {ds.version} {ds.train_split}",
    )
    return tokens, manifest.sha256


def _kitti_label_split(reader: Reader, ds: DatasetSpec, fraction: float, draw: int) -> tuple[list[str], str]:
    """SemanticKITTI's scan-level rule (splits/semantickitti.py) over the train sequences present."""
    names = set(ds.split_scenes(ds.train_split))
    tokens = [t for s in reader.sequences() if s.name in names for t in s.sample_tokens]
    source = f"{ds.name} {ds.train_split}"
    if not tokens:
        raise SplitError(f"{source}: no train sequence ({sorted(names)}) in {ds.dataroot}")
    by_path = {f"sequences/{t[:2]}/velodyne/{t[3:]}.bin": t for t in tokens}
    if fraction >= 1.0:
        manifest = SplitManifest("semantickitti", "all train scans", 1.0, draw, tuple(sorted(by_path)), unit="scan",
                                 source=source)
    else:
        manifest = semantickitti_manifest(list(by_path), fraction, draw, source)
    return [by_path[p] for p in manifest.ids], manifest.sha256


def _waymo_label_split(reader: Reader, ds: DatasetSpec, fraction: float, draw: int) -> tuple[list[str], str]:
    """Our written-down Waymo rule (splits/waymo.py) over the labelled frames of the training segments present;
    a Waymo token is already the manifest id `<segment>/<timestamp>`."""
    names = set(ds.split_scenes(ds.train_split))
    tokens = [t for s in reader.sequences() if s.name in names for t in s.sample_tokens]
    source = f"{ds.name} {ds.train_split}"
    if not tokens:
        raise SplitError(f"{source}: no training segment in {ds.dataroot}")
    frames = [(t.rpartition("/")[0], int(t.rpartition("/")[2])) for t in tokens]
    manifest = waymo_manifest(frames, fraction, source, draw)
    return list(manifest.ids), manifest.sha256
