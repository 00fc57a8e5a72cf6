"""When each sensor fires: LiDAR at 20 Hz, cameras at 12 Hz, keyframes (samples) at 2 Hz.

Times are seconds from the scene's first keyframe. Every 10th LiDAR sweep and every 6th camera frame is a
keyframe; cameras fire a few milliseconds after the LiDAR keyframe, as in nuScenes. Sweeps before the first
keyframe exist (so the first sample has a sweep history); a sweep belongs to the *following* sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench3d.synth.rig import CAMERA_CHANNELS, LIDAR_CHANNEL

LIDAR_PER_SAMPLE = 10
CAMERA_PER_SAMPLE = 6
SAMPLE_PERIOD_US = 500_000
LIDAR_PRE_SWEEPS = 9
CAMERA_PRE_SWEEPS = 5
CAMERA_DELAY_US = {ch: d for ch, d in zip(CAMERA_CHANNELS, (1_200, 2_700, 500, 4_100, 3_300, 1_900))}


@dataclass(frozen=True)
class FrameSpec:
    channel: str
    index: int  # frame number within its channel; 0 = first keyframe, negative = pre-roll sweeps
    timestamp: int  # µs
    sample: int  # keyframe index of the sample this frame belongs to (its own, or the following one)
    key: bool

    def t(self, start_us: int) -> float:
        return (self.timestamp - start_us) * 1e-6


def _frames(channel: str, per_sample: int, pre: int, samples: int, sweeps: bool, start_us: int, delay_us: int):
    period = SAMPLE_PERIOD_US / per_sample
    first = -pre if sweeps else 0
    step = 1 if sweeps else per_sample
    out = []
    for i in range(first, per_sample * (samples - 1) + 1, step):
        ts = start_us + round(i * period) + delay_us
        out.append(FrameSpec(channel, i, ts, max(0, -(-i // per_sample)), i % per_sample == 0))
    return out


def lidar_frames(samples: int, sweeps: bool, start_us: int) -> list[FrameSpec]:
    return _frames(LIDAR_CHANNEL, LIDAR_PER_SAMPLE, LIDAR_PRE_SWEEPS, samples, sweeps, start_us, 0)


def camera_frames(channel: str, samples: int, sweeps: bool, start_us: int) -> list[FrameSpec]:
    return _frames(channel, CAMERA_PER_SAMPLE, CAMERA_PRE_SWEEPS, samples, sweeps, start_us, CAMERA_DELAY_US[channel])
