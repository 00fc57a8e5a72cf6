"""Interoperability with other frameworks: exports bench3d backbones in their formats and, for mmdetection3d, a
plugin that registers bench3d's camera encoders. Nothing here imports the other framework at module level except
the plugin, which is only imported by an mmdet3d config (`custom_imports`)."""
