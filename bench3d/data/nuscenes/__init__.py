"""nuScenes reader: any release on disk, real or written by `bench3d synth`."""

from bench3d.data.nuscenes.reader import NuScenesReader, Sequence
from bench3d.data.nuscenes.tables import NuScenesTables

__all__ = ["NuScenesReader", "NuScenesTables", "Sequence"]
