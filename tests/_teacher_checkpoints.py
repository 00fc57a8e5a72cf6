"""Randomly initialised 2D teacher checkpoints in the official key layouts (DINOv2 hub, MoCo-v2 release)."""

from __future__ import annotations

from pathlib import Path

import torch

from bench3d.models.teachers.resnet import ResNet50Trunk


def dinov2_state(dim: int = 32, depth: int = 2, patch: int = 8, grid: int = 4, registers: int = 0
                  ) -> dict[str, torch.Tensor]:
    """A randomly initialised ViT in the DINOv2 hub layout (ViT-S/14 has dim 384, depth 12, patch 14)."""
    g = torch.Generator().manual_seed(0)
    state = {
        "cls_token": torch.randn(1, 1, dim, generator=g),
        "pos_embed": torch.randn(1, 1 + grid * grid, dim, generator=g),
        "mask_token": torch.zeros(1, dim),
        "patch_embed.proj.weight": torch.randn(dim, 3, patch, patch, generator=g) * 0.02,
        "patch_embed.proj.bias": torch.zeros(dim),
        "norm.weight": torch.rand(dim, generator=g) + 0.5,
        "norm.bias": torch.randn(dim, generator=g),
    }
    if registers:
        state["register_tokens"] = torch.randn(1, registers, dim, generator=g)
    for i in range(depth):
        p = f"blocks.{i}."
        for name, shape in {"norm1.weight": (dim,), "norm1.bias": (dim,), "norm2.weight": (dim,), "norm2.bias": (dim,),
                            "attn.qkv.weight": (3 * dim, dim), "attn.qkv.bias": (3 * dim,),
                            "attn.proj.weight": (dim, dim), "attn.proj.bias": (dim,),
                            "mlp.fc1.weight": (4 * dim, dim), "mlp.fc1.bias": (4 * dim,),
                            "mlp.fc2.weight": (dim, 4 * dim), "mlp.fc2.bias": (dim,),
                            "ls1.gamma": (dim,), "ls2.gamma": (dim,)}.items():
            state[p + name] = torch.randn(*shape, generator=g) * 0.02
    return state


def moco_checkpoint(path: Path) -> ResNet50Trunk:
    """A randomly initialised ResNet-50 saved as MoCo-v2 releases it: state_dict with module.encoder_q.* (and
    its MLP head fc.0 / fc.2), the key encoder module.encoder_k.* and the queue."""
    torch.manual_seed(0)
    trunk = ResNet50Trunk()
    for m in trunk.modules():  # non-trivial BatchNorm statistics, so a wrong mapping shows
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    q = {f"module.encoder_q.{k}": v for k, v in trunk.state_dict().items()}
    q.update({"module.encoder_q.fc.0.weight": torch.randn(2048, 2048), "module.encoder_q.fc.0.bias": torch.zeros(2048),
              "module.encoder_q.fc.2.weight": torch.randn(128, 2048), "module.encoder_q.fc.2.bias": torch.zeros(128),
              "module.encoder_k.conv1.weight": torch.randn(64, 3, 7, 7), "module.queue": torch.randn(128, 16),
              "module.queue_ptr": torch.zeros(1, dtype=torch.long)})
    torch.save({"epoch": 800, "arch": "resnet50", "state_dict": q}, path)
    return trunk
