"""Room reverberation: the talker's speech as a microphone in a room picks it up.

Convolves with a measured RIR file or a pyroomacoustics shoebox RIR from the build's cached pool
(see synth/room/). The direct path is moved to time zero, so labels stay on the words. The RT60 and
DRR recorded are measured on the RIR actually used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import fft as sfft

from ..audio import Audio
from ..dist import dist_field
from ..errors import ConfigError
from ..room.bank import rir_for
from ..room.measure import direct_path_index
from .base import Effect, register


@dataclass(frozen=True)
class RoomParams:
    kind: str                 # "simulated" | "measured"
    rir_key: str
    rt60_target_s: float | None
    rt60_s: float             # measured on the RIR used
    drr_db: float
    rel_path: str | None = None
    spec: dict | None = None  # simulated room: dimensions (m), source/mic positions (m), target RT60, rate

    @property
    def distance_m(self) -> float | None:
        if not self.spec:
            return None
        return float(np.linalg.norm(np.subtract(self.spec["source_m"], self.spec["mic_m"])))


@register("room")
@dataclass(frozen=True)
class Room(Effect):
    """Reverberation from a measured or simulated room impulse response.

    ``kind=simulated``: pool of ``pool_size`` shoebox rooms; room sides ``room_x_m``/``room_y_m``/
    ``room_z_m`` (m), ``rt60_s`` (s) and source-mic ``distance_m`` (m) are distributions. Each item draws
    an RT60 target and uses the pool RIR with the nearest measured RT60.
    ``kind=measured``: RIR files from ``sources.rir`` (or the corpus); with ``rt60_s`` set, the file
    nearest the drawn RT60, else a uniform choice.
    """

    kind: str = "simulated"
    rt60_s: Any = None
    room_x_m: Any = (3.0, 10.0)
    room_y_m: Any = (3.0, 8.0)
    room_z_m: Any = (2.5, 3.5)
    distance_m: Any = (0.5, 3.0)
    pool_size: int = 24
    p: float = 1.0
    params_type = RoomParams
    # allowed range of each drawn field (a fitted profile is clamped to these: synth.profiles.limits)
    LIMITS = {"rt60_s": (0.05, 3.0), "room_x_m": (1.0, 50), "room_y_m": (1.0, 50), "room_z_m": (1.0, 20),
              "distance_m": (0.1, 20)}

    def __post_init__(self):
        if self.kind not in ("simulated", "measured"):
            raise ConfigError(f"room.kind={self.kind!r}: allowed values are 'simulated', 'measured' (or room=none)")
        rt60 = self.rt60_s if self.rt60_s is not None or self.kind == "measured" else (0.2, 0.8)
        rt60 = list(rt60) if isinstance(rt60, tuple) else rt60
        object.__setattr__(self, "rt60_s", None if rt60 is None else dist_field("room.rt60_s", rt60, *self.LIMITS["rt60_s"]))
        for name in ("room_x_m", "room_y_m", "room_z_m", "distance_m"):
            v, (lo, hi) = getattr(self, name), self.LIMITS[name]
            object.__setattr__(self, name, dist_field(f"room.{name}", list(v) if isinstance(v, tuple) else v, lo, hi))
        n = self.pool_size
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 1000:
            raise ConfigError(f"room.pool_size={self.pool_size}: must be a whole number within [1, 1000]")

    def sample_params(self, rng, ctx):
        bank = ctx.rooms
        if bank is None or not bank.entries:
            raise ConfigError("room effect used without a room bank; set room=none or give RIRs")
        target = float(self.rt60_s.sample(rng)) if self.rt60_s is not None else None
        if target is None:
            entry = bank.entries[int(rng.integers(len(bank.entries)))]
        else:
            entry = bank.nearest(target)
        return RoomParams(kind=entry.kind, rir_key=entry.key, rt60_target_s=target, rt60_s=entry.rt60_s,
                          drr_db=entry.drr_db, rel_path=entry.rel_path, spec=entry.spec)

    def apply_params(self, audio: Audio, params: RoomParams, ctx=None) -> Audio:
        key = ("rir-spectrum", params.kind, params.rel_path, str(params.spec), audio.sr)
        rir = ctx.cached(key, lambda: RirSpectrum.of(rir_for(params.kind, params.rel_path, params.spec, audio.sr, ctx)))
        return audio.with_samples(reverberate(audio.samples, rir))

    def summary(self, params):
        if not isinstance(params, RoomParams):
            return {}
        return {"rir": params.rir_key, "rir_kind": params.kind, "rt60_s": params.rt60_s,
                "rt60_target_s": params.rt60_target_s, "drr_db": params.drr_db, "distance_m": params.distance_m}


@dataclass(frozen=True)
class RirSpectrum:
    """An RIR made ready for block convolution once per worker: its length ``k`` (samples), the index
    ``direct`` of its direct path, the FFT ``size`` of the overlap-add blocks and its spectrum at that size."""

    k: int
    direct: int
    size: int
    spectrum: np.ndarray
    dtype: np.dtype

    @classmethod
    def of(cls, h: np.ndarray) -> "RirSpectrum":
        size = sfft.next_fast_len(2 * len(h), real=True)
        return cls(len(h), direct_path_index(h), size, sfft.rfft(h, size), h.dtype)


def reverberate(x: np.ndarray, rir: RirSpectrum) -> np.ndarray:
    """``x`` convolved with the RIR, advanced to its direct path (the direct sound lands where the dry
    sound was), as long as ``x``. Overlap-add in blocks about as long as the RIR, ``GROUP`` blocks per
    batched FFT; blocks of exact silence (a talker's track during the other's turns) are skipped."""
    n, k, size, d = len(x), rir.k, rir.size, rir.direct
    step = size - k + 1                         # each block's output spans it and the next block
    nb = -(-n // step)
    blocks = np.zeros(nb * step, dtype=np.result_type(x.dtype, rir.dtype))
    blocks[:n] = x
    blocks = blocks.reshape(nb, step)
    active = np.flatnonzero(blocks.any(axis=1))
    y = np.zeros((nb + 2, step), dtype=blocks.dtype)
    for first in range(0, len(active), GROUP):
        rows = active[first: first + GROUP]
        if rows[-1] - rows[0] == len(rows) - 1:  # consecutive blocks (all of them for a lone talker): slices
            rows = slice(rows[0], rows[-1] + 1)
            next_rows = slice(rows.start + 1, rows.stop + 1)
        else:
            next_rows = rows + 1
        spectra = sfft.rfft(blocks[rows], size, axis=1)
        spectra *= rir.spectrum
        out = sfft.irfft(spectra, size, axis=1, overwrite_x=True)
        y[rows] += out[:, :step]
        y[next_rows, : size - step] += out[:, step:]
    return y.reshape(-1)[d: d + n]


# Blocks per batched FFT: pocketfft transforms float32 rows four at a time (SIMD), and four rows of a
# typical RIR's blocks (~20k samples) stay in L2 cache through FFT, product, inverse FFT and overlap-add;
# all rows at once is ~6% slower (scripts/bench_build.py). Each row's result is the same either way.
GROUP = 4
