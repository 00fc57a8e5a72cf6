"""The train tokens of a (dataset, fraction, draw) and the hash that goes into the run record."""

from __future__ import annotations

from bench3d.data.reader import Reader
from bench3d.data.nuscenes.tables import split_scene_names
from bench3d.datasets import DatasetSpec
from bench3d.splits.release import release_label_split


def label_split(reader: Reader, ds: DatasetSpec, fraction: float, draw: int) -> tuple[list[str], str]:
    seqs = reader.sequences()  # scene-table order: SLidR's rule depends on it
    names = set(split_scene_names(ds.dataroot, ds.version, ds.train_split))
    manifest, tokens = release_label_split(
        [s.name for s in seqs], [s.name for s in seqs if s.name in names],
        {s.name: list(s.sample_tokens) for s in seqs}, fraction, draw,
        source=f"{ds.name} {ds.version} {ds.train_split}",
    )
    return tokens, manifest.sha256
