"""3D object detection on the nuScenes detection benchmark (10 classes, NDS), CenterPoint-style."""
