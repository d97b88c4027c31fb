"""AGC: automatic gain control of a terminal or softphone, which levels speech and audibly pumps doing it
(a feed-forward level detector driving a gain, as in phones and VoIP clients).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio
from ..dist import dist_field
from .base import Effect, register

BLOCK_S = 0.005


@dataclass(frozen=True)
class AgcParams:
    target_dbov: float     # envelope level the AGC drives toward
    max_gain_db: float     # most gain it applies
    min_gain_db: float     # most attenuation it applies (negative)
    attack_s: float        # envelope time constant when the level rises
    release_s: float       # envelope time constant when the level falls
    gate_dbov: float       # blocks below this level hold the gain
    block_s: float = BLOCK_S


@register("agc")
@dataclass(frozen=True)
class Agc(Effect):
    """Attack/release gain control toward ``target_dbov``.

    The power is measured in 5 ms blocks (dBov); a level envelope follows it with a fast ``attack_s`` when it
    rises and a slow ``release_s`` when it falls (one-pole smoothing in dB); the gain is ``target_dbov`` minus
    the envelope, within [``min_gain_db``, ``max_gain_db``]; blocks quieter than ``gate_dbov`` (pauses,
    noise) freeze the envelope, so the gain holds instead of climbing on noise (a low gate gives an AGC that
    breathes noise up in pauses); block gains are interpolated to every sample (at most 5 ms look-ahead, no
    delay). A loud syllable pulls the gain down within ms and it recovers over hundreds of ms: the pumping.
    ``realized``: the gain track's min / median / max (dB). Defaults are assumptions (no population data,
    profiles.md 2.4): -20 dBov on the fast envelope puts P.56 active level near the -26 dBov reference."""

    target_dbov: Any = -20.0
    max_gain_db: Any = 20.0
    min_gain_db: Any = -20.0
    attack_s: Any = 0.01
    release_s: Any = 0.6
    gate_dbov: Any = -55.0
    p: float = 1.0
    params_type = AgcParams

    def __post_init__(self):
        for key, lo, hi in (("target_dbov", -60, 0), ("max_gain_db", 0, 60), ("min_gain_db", -60, 0),
                            ("attack_s", 0.0005, 2.0), ("release_s", 0.005, 20.0), ("gate_dbov", -120, 0)):
            object.__setattr__(self, key, dist_field(f"agc.{key}", getattr(self, key), lo, hi))

    def sample_params(self, rng, ctx) -> AgcParams:
        return AgcParams(target_dbov=float(self.target_dbov.sample(rng)),
                         max_gain_db=float(self.max_gain_db.sample(rng)),
                         min_gain_db=float(self.min_gain_db.sample(rng)),
                         attack_s=float(self.attack_s.sample(rng)), release_s=float(self.release_s.sample(rng)),
                         gate_dbov=float(self.gate_dbov.sample(rng)))

    def apply_params(self, audio: Audio, params: AgcParams, ctx=None) -> Audio:
        g_db = gain_track_db(audio.samples, audio.sr, params)
        return audio.with_samples(audio.samples * (10.0 ** (g_db / 20.0)))

    def summary(self, params) -> dict:
        if not isinstance(params, AgcParams):
            return {}
        return {"agc_target_dbov": params.target_dbov, "agc_max_gain_db": params.max_gain_db,
                "agc_attack_s": params.attack_s, "agc_release_s": params.release_s, "agc_gate_dbov": params.gate_dbov}

    def realized(self, before: Audio, after: Audio, params) -> dict:
        if not isinstance(params, AgcParams) or len(before.samples) == 0:
            return {}
        g = block_gains_db(before.samples, before.sr, params)
        return {"agc_gain_min_db": float(np.min(g)), "agc_gain_median_db": float(np.median(g)),
                "agc_gain_max_db": float(np.max(g))}


def block_gains_db(x: np.ndarray, sr: int, params: AgcParams) -> np.ndarray:
    """Gain (dB) of every ``block_s`` block: the AGC's gain track."""
    blk = max(1, int(round(params.block_s * sr)))
    n_blocks = -(-len(x) // blk)
    xx = np.zeros(n_blocks * blk)
    xx[:len(x)] = x
    lvl = 10 * np.log10(np.mean(xx.reshape(n_blocks, blk) ** 2, axis=1) + 1e-12)
    a_att = 1.0 - np.exp(-params.block_s / params.attack_s)
    a_rel = 1.0 - np.exp(-params.block_s / params.release_s)
    env = params.target_dbov  # start at unity gain
    env_track = np.empty(n_blocks)
    for i, v in enumerate(lvl.tolist()):
        if v >= params.gate_dbov:
            env += (a_att if v > env else a_rel) * (v - env)
        env_track[i] = env
    return np.clip(params.target_dbov - env_track, params.min_gain_db, params.max_gain_db)


def gain_track_db(x: np.ndarray, sr: int, params: AgcParams) -> np.ndarray:
    """Per-sample gain (dB): block gains interpolated linearly between block centres."""
    if len(x) == 0:
        return np.zeros(0)
    g = block_gains_db(x, sr, params)
    blk = max(1, int(round(params.block_s * sr)))
    centres = (np.arange(len(g)) + 0.5) * blk
    return np.interp(np.arange(len(x)), centres, g)
