"""Talker level: each talker's speech scaled to a target active speech level (ITU-T P.56, dBov).

Models how loud a talker arrives at the microphone/network; -26 dBov is the ITU-T reference level
(G.191 ``sv56demo -lev -26``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio, db_to_gain
from ..dist import dist_field
from .base import Effect, register


@dataclass(frozen=True)
class SpeechLevelParams:
    target_dbov: float


@register("speech_level")
@dataclass(frozen=True)
class SpeechLevel(Effect):
    """Scale speech so its P.56 active speech level is ``target_dbov`` (dBov, drawn per talker)."""

    target_dbov: Any = -26.0
    p: float = 1.0
    params_type = SpeechLevelParams
    LIMITS = {"target_dbov": (-70, 0)}  # allowed range (a fitted profile is clamped to it: synth.profiles.limits)

    def __post_init__(self):
        object.__setattr__(self, "target_dbov", dist_field(f"{self.name}.target_dbov", self.target_dbov,
                                                           *self.LIMITS["target_dbov"]))

    def sample_params(self, rng, ctx):
        return SpeechLevelParams(target_dbov=float(self.target_dbov.sample(rng)))

    def gain_db(self, speech: Audio, params: SpeechLevelParams) -> float:
        """The gain (dB) that brings ``speech`` to the target; 0 for silence."""
        level = speech.level().level_dbov
        return float(params.target_dbov - level) if np.isfinite(level) else 0.0

    def apply_params(self, audio: Audio, params: SpeechLevelParams, ctx=None) -> Audio:
        """The scaled speech, carrying its P.56 meter: whoever needs its level next (the SNR of added
        noise) reads it from the meter instead of measuring again."""
        audio = Audio(audio.samples, audio.sr, audio.measured())
        return audio.scaled(db_to_gain(self.gain_db(audio, params)))

    def summary(self, params):
        return {"speech_level_dbov": params.target_dbov} if isinstance(params, SpeechLevelParams) else {}


@register("calibrate_level")
@dataclass(frozen=True)
class CalibrateLevel(SpeechLevel):
    """Final calibration gain: scale the signal so the *speech in it* has P.56 level ``target_dbov`` (dBov)
    where it is recorded, after band limits, codecs and noise have changed it.

    Models the recording's level as a fitted profile measures it (on the output, not at the talker). The
    gain depends on the audio, so it is not drawn: render measures the speech component (the same chain
    run on the speech alone, see synth.render) and applies ``target - level`` to speech and noise alike
    (the SNR is kept); the realized gain is recorded in the conditions as ``calibration_gain_db``.
    Without a speech reference (render of a lone effect) the whole signal's P.56 level is used.
    """

    calibrates = True
