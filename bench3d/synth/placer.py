"""Collision-free placement: an agent is accepted only if its footprint never overlaps an accepted one's
(separating-axis test on oriented rectangles at every check time of the scene)."""

from __future__ import annotations

import numpy as np

from bench3d.synth.agents import Agent


class Placer:
    def __init__(self, times: np.ndarray) -> None:
        self.times = times
        self.agents: list[Agent] = []
        t = len(times)
        self._x = np.zeros((0, t))
        self._y = np.zeros((0, t))
        self._yaw = np.zeros((0, t))
        self._hl = np.zeros((0, 1))
        self._hw = np.zeros((0, 1))

    def add_footprint(self, x, y, yaw, half_length: float, half_width: float) -> None:
        self._x = np.vstack([self._x, np.broadcast_to(x, self.times.shape)])
        self._y = np.vstack([self._y, np.broadcast_to(y, self.times.shape)])
        self._yaw = np.vstack([self._yaw, np.broadcast_to(yaw, self.times.shape)])
        self._hl = np.vstack([self._hl, [[half_length]]])
        self._hw = np.vstack([self._hw, [[half_width]]])

    def collides(self, x, y, yaw, half_length: float, half_width: float) -> bool:
        if self._x.shape[0] == 0:
            return False
        dx, dy = self._x - x, self._y - y
        ca, sa = np.cos(yaw), np.sin(yaw)
        cb, sb = np.cos(self._yaw), np.sin(self._yaw)
        separated = np.zeros(dx.shape, dtype=bool)
        for ux, uy in ((ca, sa), (-sa, ca), (cb, sb), (-sb, cb)):
            ux, uy = np.broadcast_to(ux, dx.shape), np.broadcast_to(uy, dx.shape)
            ra = half_length * np.abs(ca * ux + sa * uy) + half_width * np.abs(-sa * ux + ca * uy)
            rb = self._hl * np.abs(cb * ux + sb * uy) + self._hw * np.abs(-sb * ux + cb * uy)
            separated |= np.abs(dx * ux + dy * uy) > ra + rb
        return bool((~separated).any())

    def try_add(self, *agents: Agent, margin: float = 0.4) -> bool:
        """Accept all the agents (e.g. a truck and its trailer) or none of them."""
        prints = []
        for a in agents:
            x, y, yaw = a.footprint(self.times)
            hl, hw = a.size[1] / 2 + margin, a.size[0] / 2 + margin
            if self.collides(x, y, yaw, hl, hw):
                return False
            prints.append((x, y, yaw, hl, hw))
        for p in prints:
            self.add_footprint(*p)
        self.agents.extend(agents)
        return True
