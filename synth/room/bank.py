"""The RIRs a build can use, measured once: a pool of simulated rooms or the measured RIR files.

Items choose from the bank while sampling, so the recipe records the measured RT60 and DRR of the RIR
actually used.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np

from ..audio import load, resample
from ..rng import item_rng
from .measure import direct_path_index, drr_db, rt60
from .simulate import RoomSpec, draw_spec, simulate_cached


@dataclass(frozen=True)
class RirEntry:
    key: str
    kind: str                 # "simulated" | "measured"
    rt60_s: float             # measured on the RIR
    drr_db: float
    rel_path: str | None = None   # measured: file, relative to the sources root
    spec: dict | None = None      # simulated: RoomSpec as a dict


@dataclass
class RoomBank:
    entries: list[RirEntry]

    def nearest(self, rt60_s: float) -> RirEntry:
        """The entry whose measured RT60 is closest to ``rt60_s`` (NaN RT60s sort last)."""
        d = [abs(e.rt60_s - rt60_s) if np.isfinite(e.rt60_s) else np.inf for e in self.entries]
        return self.entries[int(np.argmin(d))]

    @classmethod
    def simulated(cls, seed: int, sr: int, size: int, rt60, room_x, room_y, room_z, distance) -> "RoomBank":
        """``size`` rooms whose target RT60s are evenly spaced quantiles of the ``rt60`` distribution."""
        qrng = item_rng(seed, "rir-pool", "rt60-quantiles")
        targets = np.quantile(rt60.sample_n(qrng, 4000).astype(float), (np.arange(size) + 0.5) / size)
        entries = []
        for k, target in enumerate(targets):
            rng = item_rng(seed, f"rir-pool-{k}", "room")
            dims = (room_x.sample(rng), room_y.sample(rng), room_z.sample(rng))
            spec = draw_spec(rng, sr, float(target), dims, float(distance.sample(rng)))
            h, measured = simulate_cached(spec)
            entries.append(RirEntry(key=f"sim{k:03d}", kind="simulated", rt60_s=measured,
                                    drr_db=drr_db(h, sr),
                                    spec=json.loads(json.dumps(asdict(spec)))))  # JSON form: lists
        return cls(entries)

    @classmethod
    def measured(cls, files, sr: int) -> "RoomBank":
        entries = []
        for f in files:
            h = load(f.path, sr, channel=0)  # B-format files: channel 0 is W (omnidirectional)
            entries.append(RirEntry(key=f.id, kind="measured", rt60_s=rt60(h, sr), drr_db=drr_db(h, sr),
                                    rel_path=f.rel_path))
        return cls(entries)


def rir_for(entry_kind: str, rel_path: str | None, spec: dict | None, sr: int, ctx) -> np.ndarray:
    """The RIR of a recorded room params, at ``sr``, normalized to a unit direct-path peak. Not cached here:
    the room effect keeps what it derives from it (see synth.channel.room.RirSpectrum) in ``ctx``."""
    if entry_kind == "measured":
        h = load(ctx.path(rel_path), sr, channel=0)
    else:
        s = dict(spec)
        s = RoomSpec(tuple(s["room_dim_m"]), tuple(s["source_m"]), tuple(s["mic_m"]), s["rt60_target_s"], s["sr"])
        h, _ = simulate_cached(s)
        if s.sr != sr:
            h = resample(h, s.sr, sr)
    h = np.asarray(h, dtype=np.float32)
    return h / np.abs(h[direct_path_index(h)])
