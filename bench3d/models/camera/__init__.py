"""Camera backbones in plain torch (torchvision and timm are not assumed): multi-view uint8 images in,
multi-scale feature maps out (`base.CameraBackbone`). Importing this package registers every encoder:
EfficientNet-Lite0 (the ImageNet baseline), ViT, Swin without shifted windows (GeoMIM), ConvNeXt (MIM4D)."""

from bench3d.models.camera import convnext, efficientnet_lite, swin, vit  # noqa: F401  (registration)
