"""Rays for MIM4D's rendering loss: LiDAR rays first, pixel rays only fill the rest (official
render_head_hop.py). A LiDAR ray runs from a camera centre through a LiDAR point that the camera sees (3 m <
horizontal range < 50 m); its targets are the point's ray length and the image colour where it projects. A
pixel ray runs through a random pixel; it has a colour target and no depth target.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_RANGE, MAX_RANGE = 3.0, 50.0  # horizontal range of the LiDAR points that make rays (m)


@dataclass
class ViewRays:
    """One view's candidate rays, in one frame's coordinates: the LiDAR points it sees and its camera."""

    points: torch.Tensor  # (P, 3) LiDAR points seen by the view, frame coordinates
    pixels: torch.Tensor  # (P, 2) their (u, v) image coordinates
    intrinsic: torch.Tensor  # (3, 3)
    cam_to_frame: torch.Tensor  # (4, 4)


def lidar_candidates(points: torch.Tensor, intrinsic: torch.Tensor, cam_to_frame: torch.Tensor,
                     image_hw: tuple[int, int]) -> ViewRays:
    """The LiDAR points (N, 3) in frame coordinates within the ray range that project into the image."""
    rng_xy = points[:, :2].double().norm(dim=1)
    pts = points[(rng_xy > MIN_RANGE) & (rng_xy < MAX_RANGE)].double()
    frame_to_cam = torch.linalg.inv(cam_to_frame.double())
    cam = pts @ frame_to_cam[:3, :3].T + frame_to_cam[:3, 3]
    front = cam[:, 2] > 0.1
    uvw = cam[front] @ intrinsic.double().T
    uv = uvw[:, :2] / uvw[:, 2:3]
    h, w = image_hw
    inside = (uv[:, 0] >= 0) & (uv[:, 0] <= w - 1) & (uv[:, 1] >= 0) & (uv[:, 1] <= h - 1)
    return ViewRays(pts[front][inside].float(), uv[inside].float(), intrinsic.float(), cam_to_frame.float())


def choose_rays(view: ViewRays, image: torch.Tensor, count: int,
                rng: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """`count` rays of one view: LiDAR rays first (a random subset when there are more), pixel rays for the rest.

    `image` (H, W, 3) uint8 gives the colour targets (nearest pixel). Returns origins (R, 3), unit directions
    (R, 3), colour (R, 3) in [0, 1], depth (R,) as ray length (NaN for pixel rays) and the LiDAR mask (R,)."""
    h, w = image.shape[:2]
    n_lidar = min(count, len(view.points))
    pick = torch.randperm(len(view.points), generator=rng)[:n_lidar]
    pixels = view.pixels[pick]
    n_fill = count - n_lidar
    fill = torch.rand(n_fill, 2, generator=rng) * torch.tensor([w - 1, h - 1], dtype=torch.float32)
    pixels = torch.cat([pixels, fill])
    origin = view.cam_to_frame[:3, 3]
    # Pixel rays: back-project through the intrinsics; LiDAR rays aim at their points exactly.
    homog = torch.cat([fill, torch.ones(n_fill, 1)], dim=1)
    fill_dirs = (torch.linalg.inv(view.intrinsic) @ homog.T).T @ view.cam_to_frame[:3, :3].T
    lidar_vec = view.points[pick] - origin
    dirs = torch.cat([lidar_vec, fill_dirs])
    dirs = dirs / dirs.norm(dim=1, keepdim=True)
    depth = torch.cat([lidar_vec.norm(dim=1), torch.full((n_fill,), float("nan"))])
    col = pixels[:, 0].round().long().clamp(0, w - 1)
    row = pixels[:, 1].round().long().clamp(0, h - 1)
    colour = image[row, col].float() / 255.0
    mask = torch.cat([torch.ones(n_lidar, dtype=torch.bool), torch.zeros(n_fill, dtype=torch.bool)])
    return origin.expand(count, 3), dirs, colour, depth, mask
