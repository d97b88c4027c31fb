"""Shoebox rooms simulated with pyroomacoustics (image source method), and a cached pool of them.

A build draws rooms from distributions of room size, RT60 and source-microphone distance once, into a
pool of ``pool_size`` RIRs; items then pick the pool entry whose *measured* RT60 is nearest to their
drawn target, so a build pays a handful of simulations, not one per item. The pool is cached on disk
(``$SYNTH_CACHE`` or ``~/.cache/synth``) keyed by a hash of everything that defines it.

pyroomacoustics' ISM with Sabine absorption overshoots the requested RT60 (measured: 0.38 s for 0.3 s,
shared/research/deps_perf.md); we correct the absorption target from the measured RT60 and simulate
again (up to 3 times), and we record the measured RT60 and DRR of the RIR actually used.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .measure import rt60

MAX_ORDER = 40  # caps the cost of long RT60s; the correction loop compensates the truncated tail


@dataclass(frozen=True)
class RoomSpec:
    """Everything that defines one simulated RIR (recorded in the recipe, so it can be re-simulated)."""

    room_dim_m: tuple[float, float, float]
    source_m: tuple[float, float, float]
    mic_m: tuple[float, float, float]
    rt60_target_s: float
    sr: int


def draw_spec(rng: np.random.Generator, sr: int, rt60_s: float, dims: tuple, distance_m: float) -> RoomSpec:
    """Place a source and a microphone ``distance_m`` apart inside a room of ``dims`` (m)."""
    dims = tuple(float(d) for d in dims)
    margin = min(0.5, 0.25 * min(dims[:2]))  # small rooms (a car cabin) get proportionally smaller margins
    low_z, high_z = min(0.7, 0.4 * dims[2]), min(1.5, dims[2] - 0.3)
    mic = np.array([rng.uniform(margin, dims[0] - margin), rng.uniform(margin, dims[1] - margin),
                    rng.uniform(low_z, high_z)])
    for _ in range(100):
        az = rng.uniform(0, 2 * np.pi)
        src = mic + distance_m * np.array([np.cos(az), np.sin(az), 0.0])
        src[2] = rng.uniform(min(1.1, 0.6 * dims[2]), min(1.9, dims[2] - 0.25))
        if all(margin * 0.5 <= src[i] <= dims[i] - margin * 0.5 for i in range(3)):
            break
    else:  # the room is too small for that distance: put the source at the far side
        src = np.clip(mic + np.array([distance_m, 0, 0.4]), 0.3, np.array(dims) - 0.3)
    return RoomSpec(dims, tuple(float(v) for v in src), tuple(float(v) for v in mic), float(rt60_s), int(sr))


def simulate(spec: RoomSpec) -> tuple[np.ndarray, float]:
    """Simulate ``spec``; returns (rir, measured RT60 s). Deterministic (ISM, no random components)."""
    import pyroomacoustics as pra

    target = spec.rt60_target_s
    best = None
    for _ in range(3):
        try:
            e_abs, order = pra.inverse_sabine(target, spec.room_dim_m)
        except ValueError:  # RT60 too long for this room under Sabine: use the most reverberant setting
            e_abs, order = 0.01, MAX_ORDER
        room = pra.ShoeBox(list(spec.room_dim_m), fs=spec.sr, materials=pra.Material(float(e_abs)),
                           max_order=int(min(order, MAX_ORDER)), air_absorption=False, use_rand_ism=False)
        room.add_source(list(spec.source_m))
        room.add_microphone(np.array(spec.mic_m).reshape(3, 1))
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)
        h = h / np.max(np.abs(h))
        measured = rt60(h, spec.sr)
        err = abs(measured - spec.rt60_target_s) / spec.rt60_target_s
        if best is None or err < best[2]:
            best = (h, measured, err)
        if err < 0.05 or not np.isfinite(measured):
            break
        target = float(np.clip(target * spec.rt60_target_s / measured, 0.05, 3.0))
    return best[0].astype(np.float32), float(best[1])


def cache_dir() -> Path:
    return Path(os.environ.get("SYNTH_CACHE", Path.home() / ".cache" / "synth")) / "rir"


def spec_key(spec: RoomSpec) -> str:
    import pyroomacoustics as pra

    text = json.dumps(asdict(spec), sort_keys=True) + pra.__version__
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def simulate_cached(spec: RoomSpec) -> tuple[np.ndarray, float]:
    """:func:`simulate` with an on-disk cache (atomic writes, safe for concurrent workers)."""
    path = cache_dir() / f"{spec_key(spec)}.npz"
    if path.exists():
        try:
            with np.load(path) as z:
                return z["rir"], float(z["rt60_s"])
        except Exception:
            path.unlink(missing_ok=True)  # a damaged cache entry is just recomputed
    h, measured = simulate(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    np.savez(tmp, rir=h, rt60_s=measured)
    os.replace(tmp, path)
    return h, measured
