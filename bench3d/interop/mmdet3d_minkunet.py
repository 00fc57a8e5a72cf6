"""bench3d's MinkUNet as mmdetection3d's `MinkUNetBackbone` (spconv backend): key table, weight layout, config.

The two networks are the same function: a submanifold stem, four stride-2 encoder stages (the strided conv keeps
the width, then basic residual blocks, a 1x1 projection where the width changes), four decoder stages (transposed
conv, concatenation [upsampled, skip], basic blocks whose first block projects). Differences the export handles:

* mmdet3d's input stem is two 3x3x3 conv-BN-ReLU modules (`conv_input.0`, `conv_input.1`); ours is one. The
  export fills `conv_input.1` with an exact identity: centre tap = I, BN whose eval transform is x -> x (the
  stem's output is post-ReLU, so its ReLU is the identity too). Eval-mode features are unchanged; when finetuned,
  that layer starts as identity like a fresh layer would start from its init.
* Conv weights are stored in spconv-1 layout (k, k, k, C_in, C_out). mmdet3d's loader (`register_spconv2`)
  permutes every spconv weight to spconv-2's (C_out, k, k, k, C_in) unless the state dict's `_metadata` says
  version 2 — and `_metadata` is lost on the common `init_cfg=dict(type='Pretrained', prefix=...)` path. Weights
  in the layout that loader converts from load right on every path (strict `load_checkpoint`, `load_from`,
  `Pretrained` with or without a prefix); spconv-2 weights without metadata would be permuted into the wrong
  shape and, under the non-strict `Pretrained` init, silently left random.
* 1x1x1 convs (the blocks' `downsample.0`): spconv 2.3.8 computes them as `features @ weight.view(C_in, C_out)`,
  reading the (C_out, 1, 1, 1, C_in) tensor's memory as if it were (C_in, C_out) — not its transpose. The
  export stores the matrix so that this read gives our C_out x C_in map (`spconv_pointwise_weight`); copied as
  is, every projection shortcut would compute a scrambled map (found by the feature-equality test).
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from typing import Any

import torch

from bench3d.errors import ConfigError
from bench3d.models.minkunet import MinkUNetConfig

BLOCK_RENAMES = {"shortcut.0": "downsample.0", "shortcut.1": "downsample.1"}
_BLOCK_PART = re.compile(r"^(conv1|bn1|conv2|bn2|shortcut\.[01])\.(.+)$")
_STEM = re.compile(r"^stem\.(conv|bn)\.(.+)$")
_SAMPLING = re.compile(r"^(encoder|decoder)\.(\d+)\.(down|up)\.(conv|bn)\.(.+)$")
_BLOCK = re.compile(r"^(encoder|decoder)\.(\d+)\.blocks\.(\d+)\.(.+)$")
#: The mmdet3d config whose backbone this export matches (MinkUNet-34, spconv backend).
MMDET3D_CONFIG = "minkunet/minkunet34_w32_spconv_8xb2-laser-polar-mix-3x_semantickitti.py"


def mmdet3d_key(key: str) -> str:
    """mmdet3d's name for one key of our MinkUNet state dict (without the encoder's `unet.` prefix)."""
    if match := _STEM.match(key):
        return f"conv_input.0.{'0' if match[1] == 'conv' else '1'}.{match[2]}"
    if match := _SAMPLING.match(key):
        return f"{match[1]}.{match[2]}.0.{'0' if match[4] == 'conv' else '1'}.{match[5]}"
    if match := _BLOCK.match(key):
        part = _BLOCK_PART.match(match[4])
        if part is None:
            raise ConfigError(f"MinkUNet key {key!r}: unknown block member; the export table needs updating")
        member = BLOCK_RENAMES.get(part[1], part[1])
        # Encoder stage i is [strided conv, block 0, block 1, ...]; decoder stage i is [up conv, Sequential(blocks)].
        place = f"{int(match[3]) + 1}" if match[1] == "encoder" else f"1.{match[3]}"
        return f"{match[1]}.{match[2]}.{place}.{member}.{part[2]}"
    raise ConfigError(f"MinkUNet key {key!r} has no mmdet3d counterpart; the export table needs updating")


def check_exportable(config: MinkUNetConfig) -> None:
    """Refuse what mmdet3d's MinkUNetBackbone cannot express."""
    if config.stem_kernel_size != 3:
        raise ConfigError(f"MinkUNet stem_kernel_size {config.stem_kernel_size}: mmdet3d's MinkUNetBackbone has a "
                          "3x3x3 input stem only; export a backbone pretrained with stem_kernel_size 3")


def backbone_config(config: MinkUNetConfig) -> dict[str, Any]:
    """The `model.backbone` of an mmdet3d config that builds exactly this network (fresh lists: mmdet3d's
    constructor inserts into the lists it is given)."""
    check_exportable(config)
    return {
        "type": "MinkUNetBackbone",
        "in_channels": config.in_channels,
        "base_channels": config.stem_channels,
        "num_stages": 4,
        "encoder_channels": list(config.encoder_channels),
        "encoder_blocks": list(config.encoder_blocks),
        "decoder_channels": list(config.decoder_channels),
        "decoder_blocks": list(config.decoder_blocks),
        "block_type": "basic",
        "sparseconv_backend": "spconv",
    }


def to_spconv1_layout(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, k, k, k, C_in) -> (k, k, k, C_in, C_out), the layout mmdet3d's spconv loader converts from."""
    return weight.permute(1, 2, 3, 4, 0).contiguous()


def spconv_pointwise_weight(weight: torch.Tensor) -> torch.Tensor:
    """A (C_out, 1, 1, 1, C_in) weight whose memory, read as (C_in, C_out) by spconv's 1x1 path, is our map."""
    c_out, c_in = weight.shape[0], weight.shape[-1]
    return weight.reshape(c_out, c_in).t().contiguous().reshape(c_out, 1, 1, 1, c_in)


def identity_stem_layer(channels: int, eps: float = 1e-5) -> dict[str, torch.Tensor]:
    """`conv_input.1`: a 3x3x3 submanifold conv + BN1d (eps 1e-5, mmdet3d's BN1d default) that maps x to x in
    eval mode; the conv weight in our (C_out, k, k, k, C_in) layout."""
    weight = torch.zeros(channels, 3, 3, 3, channels)
    weight[:, 1, 1, 1, :] = torch.eye(channels)  # centre tap (offset 0 in every axis)
    return {
        "0.weight": weight,
        "1.weight": torch.full((channels,), math.sqrt(1.0 + eps)),  # gamma / sqrt(var + eps) = 1 with var = 1
        "1.bias": torch.zeros(channels),
        "1.running_mean": torch.zeros(channels),
        "1.running_var": torch.ones(channels),
        "1.num_batches_tracked": torch.tensor(0, dtype=torch.long),
    }


def export_state(unet_state: dict[str, torch.Tensor], config: MinkUNetConfig,
                 prefix: str = "") -> OrderedDict[str, torch.Tensor]:
    """mmdet3d `MinkUNetBackbone` state dict (keys under `prefix`, conv weights in spconv-1 layout) from our
    MinkUNet state dict (keys without `unet.`)."""
    check_exportable(config)
    state: dict[str, torch.Tensor] = {}
    for key, value in unet_state.items():
        state[mmdet3d_key(key)] = value.detach().cpu().clone()
    for name, value in identity_stem_layer(config.stem_channels).items():
        state[f"conv_input.1.{name}"] = value
    out: OrderedDict[str, torch.Tensor] = OrderedDict()
    for key, value in state.items():
        if value.dim() == 5 and value.shape[1:4] == (1, 1, 1):
            value = spconv_pointwise_weight(value)
        out[prefix + key] = to_spconv1_layout(value) if value.dim() == 5 else value
    return out


#: Stride of the deepest level: spconv's strided conv keeps site x only if x // 2 < shape // 2 at every level.
DEEPEST_STRIDE = 16


def backbone_inputs(coords: torch.Tensor, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(voxel_features, coors) for `MinkUNetBackbone.forward` that give the same per-voxel features as bench3d's
    MinkUNet on (coords (M, 4) = (batch, x, y, z), features); the first M output rows are the M voxels.

    Two things mmdet3d leaves to its caller: indices must be non-negative, and `forward` takes the spatial shape
    as coors.max + 1 — with an extent not divisible by 16, spconv's stride-2 convs drop the sites on the far
    boundary. So: shift by a multiple of 16 (keeps every level's 2x2x2 grouping) and append one all-zero sentinel
    voxel, in the last cloud, at least 3 deepest-level cells beyond the data, so the extent is a multiple of 16
    and the sentinel touches no real voxel at any level.
    """
    if coords.dim() != 2 or coords.shape[1] != 4 or coords.shape[0] == 0:
        raise ValueError(f"coords must be (M >= 1, 4) = (batch, x, y, z), got {tuple(coords.shape)}")
    batch, spatial = coords[:, :1].to(torch.int64), coords[:, 1:].to(torch.int64)
    if bool((batch[1:] < batch[:-1]).any()):
        raise ValueError("coords must be sorted by batch index (mmdet3d reads the batch size from the last row)")
    low = torch.div(spatial.min(dim=0).values, DEEPEST_STRIDE, rounding_mode="floor") * DEEPEST_STRIDE
    spatial = spatial - low
    cells = torch.div(spatial.max(dim=0).values + DEEPEST_STRIDE, DEEPEST_STRIDE, rounding_mode="floor")
    sentinel = torch.cat([batch[-1], (cells + 3) * DEEPEST_STRIDE - 1])[None]
    coors = torch.cat([torch.cat([batch, spatial], dim=1), sentinel]).to(torch.int32).contiguous()
    padded = torch.cat([features, features.new_zeros(1, features.shape[1])])
    return padded, coors, coords.shape[0]
