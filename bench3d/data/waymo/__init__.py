"""Waymo Open Dataset v2 on disk (modular Parquet): column conventions, range images, a reader and a writer."""

from bench3d.data.waymo.reader import WaymoReader

__all__ = ["WaymoReader"]
