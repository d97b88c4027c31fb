"""Clipping: an overdriven microphone preamp or ADC, hard (saturating) or soft (tanh-like)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio, db_to_gain
from ..dist import Const, dist_field
from ..errors import ConfigError
from .base import Effect, register


@dataclass(frozen=True)
class ClippingParams:
    mode: str            # "hard" or "soft"
    drive_db: float      # gain applied before the clipper (dB)
    threshold: float     # clip level as a fraction of full scale


@register("clipping")
@dataclass(frozen=True)
class Clipping(Effect):
    """Drive the signal by ``drive_db`` into a clipper at ``threshold`` x full scale.

    ``hard`` saturates at +-threshold (a digital ADC overload). ``soft`` uses
    threshold * tanh(x / threshold) (an analog preamp). The realized fraction of samples driven to
    or past the threshold is recorded in ``conditions.clipped_fraction``.
    """

    mode: Any = "hard"
    drive_db: Any = 0.0
    threshold: Any = 1.0
    p: float = 1.0
    params_type = ClippingParams

    def __post_init__(self):
        mode = dist_field("clipping.mode", self.mode)
        modes = [mode.value] if isinstance(mode, Const) else getattr(mode, "values", [None])
        if any(m not in ("hard", "soft") for m in modes):
            raise ConfigError(f"clipping.mode={mode.to_config()!r}: allowed values are 'hard' and 'soft'")
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "drive_db", dist_field("clipping.drive_db", self.drive_db, -20, 40))
        object.__setattr__(self, "threshold", dist_field("clipping.threshold", self.threshold, 0.01, 1.0))

    def sample_params(self, rng, ctx):
        mode = self.mode.sample(rng)
        return ClippingParams(mode=mode, drive_db=float(self.drive_db.sample(rng)),
                              threshold=float(self.threshold.sample(rng)))

    def apply_params(self, audio: Audio, params: ClippingParams, ctx=None) -> Audio:
        x = audio.samples * db_to_gain(params.drive_db)
        t = params.threshold
        y = np.clip(x, -t, t) if params.mode == "hard" else t * np.tanh(x / t)
        return audio.with_samples(y)

    def realized(self, before: Audio, after: Audio, params) -> dict:
        """``clipped_fraction``: fraction of samples driven to or past the threshold."""
        if not isinstance(params, ClippingParams):
            return {}
        x = np.abs(before.samples) * db_to_gain(params.drive_db)
        return {"clipped_fraction": float(np.mean(x >= params.threshold * (1 - 1e-6))) if len(x) else 0.0}
