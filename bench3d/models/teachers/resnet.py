"""`ResNet50Teacher`: a ResNet-50 loaded strictly from a user-given checkpoint, SLidR's 2D teacher.

Accepted layouts: MoCo v1/v2 checkpoints as released (`state_dict` with `module.encoder_q.*`; the projection
head `fc.*` and the key encoder are dropped, as SLidR's `adapt_weights` does) and torchvision-layout ResNet-50
state dicts (conv1, bn1, layer1..4 with `downsample.0/1`; `fc.*` dropped). Everything else loads strictly.

Layers: `layer4_dilated` (default) — SLidR's "dilation" extractor: layers 2-4 keep stride 1 and dilate instead
(torchvision `replace_stride_with_dilation=[True, True, True]`), so layer4's 2,048 channels sit at stride 4;
`layer4` — the plain network, stride 32.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from bench3d.errors import ConfigError
from bench3d.models.teachers.base import ImageTeacher, check_input_size, imagenet_normalise, read_checkpoint

log = logging.getLogger(__name__)

LAYERS = (3, 4, 6, 3)  # ResNet-50 blocks per stage
PLANES = (64, 128, 256, 512)


class Bottleneck(nn.Module):
    """torchvision's ResNet v1.5 bottleneck: the stride sits on the 3x3 convolution."""

    def __init__(self, inplanes: int, planes: int, stride: int, dilation: int, downsample: nn.Module | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (self.downsample(x) if self.downsample is not None else x))


def _stage(inplanes: int, planes: int, blocks: int, stride: int, dilate: bool, dilation: int
           ) -> tuple[nn.Sequential, int]:
    """One stage as torchvision builds it; returns it and the dilation after it."""
    previous = dilation
    if dilate:  # the stride becomes dilation; the first block keeps the previous dilation (torchvision)
        dilation, stride = dilation * stride, 1
    downsample = None
    if stride != 1 or inplanes != planes * 4:
        downsample = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(planes * 4))
    layers = [Bottleneck(inplanes, planes, stride, previous, downsample)]
    layers += [Bottleneck(planes * 4, planes, 1, dilation, None) for _ in range(1, blocks)]
    return nn.Sequential(*layers), dilation


class ResNet50Trunk(nn.Module):
    """ResNet-50 without its classifier, with torchvision's parameter names."""

    def __init__(self, dilate: tuple[bool, bool, bool] = (False, False, False)) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        inplanes, dilation = 64, 1
        for i, (planes, blocks) in enumerate(zip(PLANES, LAYERS)):
            stage, dilation = _stage(inplanes, planes, blocks, 1 if i == 0 else 2, i > 0 and dilate[i - 1], dilation)
            self.add_module(f"layer{i + 1}", stage)
            inplanes = planes * 4
        self.stride = 4 * 2 ** sum(not d for d in dilate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, stride=2, padding=1)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def trunk_state(state: dict[str, torch.Tensor], source: str) -> dict[str, torch.Tensor]:
    """The trunk's entries of a MoCo or torchvision checkpoint, renamed to torchvision's layout."""
    for prefix in ("module.encoder_q.", "encoder_q.", "module."):
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            break
    state = {k: v for k, v in state.items() if not k.startswith("fc.")}  # classifier / MoCo projection head
    if "conv1.weight" not in state or "layer4.0.conv1.weight" not in state:
        raise ConfigError(f"{source}: not a ResNet-50 checkpoint (torchvision or MoCo layout); found keys like "
                          f"{sorted(state)[:4]}")
    return state


class ResNet50Teacher(ImageTeacher):
    kind = "resnet50"
    layers = ("layer4_dilated", "layer4")

    def __init__(self, checkpoint: str | Path, layer: str = "layer4_dilated",
                 input_size: list[int] | tuple[int, int] | None = None) -> None:
        super().__init__()
        state = trunk_state(read_checkpoint(Path(checkpoint), self.kind, "a ResNet-50 (MoCo or torchvision layout)"),
                            str(checkpoint))
        self.encoder = ResNet50Trunk((True, True, True) if layer == "layer4_dilated" else (False, False, False))
        self.encoder.load_state_dict(state, strict=True)  # missing/unexpected keys raise, naming them
        self.dim, self.stride, self.layer = 2048, self.encoder.stride, layer
        self.input_size = check_input_size(self.kind, input_size, self.stride)
        self.freeze()
        log.info("loaded ResNet-50 teacher from %s (%s, stride %d)", checkpoint, layer, self.stride)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(imagenet_normalise(x))
