"""SemanticKITTI on disk (PRBonn/semantic-kitti-api layout): the file formats, a reader and a writer."""

from bench3d.data.semantickitti.reader import SemanticKittiReader

__all__ = ["SemanticKittiReader"]
