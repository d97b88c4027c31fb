"""Gain: a fixed level change, as from a mis-set input gain or a quiet/loud talker position."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..audio import Audio, db_to_gain
from ..dist import dist_field
from .base import Effect, register


@dataclass(frozen=True)
class GainParams:
    gain_db: float


@register("gain")
@dataclass(frozen=True)
class Gain(Effect):
    """Multiply the signal by ``gain_db`` (dB, drawn per item). Output may exceed full scale; a
    following ``clipping`` effect models what the ADC does with that."""

    gain_db: Any = 0.0
    p: float = 1.0
    params_type = GainParams

    def __post_init__(self):
        object.__setattr__(self, "gain_db", dist_field("gain.gain_db", self.gain_db, -60, 40))

    def sample_params(self, rng, ctx):
        return GainParams(gain_db=float(self.gain_db.sample(rng)))

    def apply_params(self, audio: Audio, params: GainParams, ctx=None) -> Audio:
        g = db_to_gain(params.gain_db)
        return audio if g == 1.0 else audio.scaled(g)
