"""Split manifests: versioned, hashed id lists per (dataset, label fraction, draw)."""

from bench3d.splits.catalog import load_shipped, shipped_names
from bench3d.splits.manifest import SplitManifest

__all__ = ["SplitManifest", "load_shipped", "shipped_names"]
