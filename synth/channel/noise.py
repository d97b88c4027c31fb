"""Recorded background noise at a target SNR against the speech's P.56 active level, optionally with a level
that drifts and bursts, reshaped to a fitted noise spectrum, or drawn from one call leg's own noise folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..audio import Audio
from ..dist import dist_field
from ..errors import BadInput, ConfigError
from ..sources.checks import MIN_NOISE_DBOV
from .base import Effect, register

CONTROL_S = 0.1  # resolution of the level envelope


@dataclass(frozen=True)
class AddNoiseParams:
    noise_path: str         # relative to the sources root
    offset_s: float
    snr_db: float
    walk_sd_db: float = 0.0
    bursts_per_min: float = 0.0
    burst_db: float = 0.0
    burst_dur_s: float = 0.0
    envelope_seed: int = 0
    shape_db: tuple = ()    # ((octave centre Hz, band level re total dB), ...); () = the noise as recorded


def loop_with_crossfade(noise: np.ndarray, offset: int, length: int, fade: int) -> np.ndarray:
    """``length`` samples of ``noise`` starting at ``offset``, wrapping around with equal-power crossfades.

    The fade is kept below half the file's length, so every wrap adds at least half a file (a fade as
    long as the file would add nothing and never finish).
    """
    if len(noise) - offset >= length:
        return noise[offset: offset + length]
    fade = min(fade, len(noise) // 2)
    out = np.empty(length + len(noise), dtype=noise.dtype)
    m = len(noise) - offset                      # samples written so far
    out[:m] = noise[offset:]
    while m < length:
        c = min(fade, m)
        t = np.linspace(0.0, np.pi / 2, c, dtype=np.float32)
        out[m - c: m] = out[m - c: m] * np.cos(t) + noise[:c] * np.sin(t)
        out[m: m + len(noise) - c] = noise[c:]
        m += len(noise) - c
    return out[:length]


def level_envelope_db(params: AddNoiseParams, duration_s: float) -> np.ndarray:
    """Noise level over time (dB, one value per 0.1 s) from the recorded seed: random walk plus bursts."""
    n = int(np.ceil(duration_s / CONTROL_S)) + 2
    rng = np.random.default_rng(params.envelope_seed)
    env = np.zeros(n)
    if params.walk_sd_db > 0:
        env += np.cumsum(rng.normal(0.0, params.walk_sd_db * np.sqrt(CONTROL_S / 5.0), size=n))
    if params.bursts_per_min > 0 and params.burst_dur_s > 0:
        for _ in range(rng.poisson(params.bursts_per_min * duration_s / 60.0)):
            start = rng.uniform(0, duration_s)
            k = np.arange(n) * CONTROL_S
            inside = (k >= start) & (k <= start + params.burst_dur_s)
            shape = np.sin(np.pi * np.clip((k - start) / params.burst_dur_s, 0, 1)) ** 2
            env += np.where(inside, params.burst_db * shape, 0.0)
    return env


def match_octave_shape(x: np.ndarray, sr: int, shape_db) -> np.ndarray:
    """``x`` with its octave-band levels (re total) moved to ``shape_db``: per-band gains interpolated over
    log-frequency, applied in the frequency domain (zero phase); bands above Nyquist are ignored."""
    from ..profiles.estimate import long_term_spectrum, noise_shape

    f, ltas = long_term_spectrum(x, sr, None, 0.032)
    have = noise_shape(f, ltas)
    pts = [(fc, db - have[f"noise_band_{int(fc)}hz_db"]) for fc, db in shape_db
           if f"noise_band_{int(fc)}hz_db" in have]
    if len(pts) < 2:
        return x
    spec = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    gain_db = np.interp(np.log2(np.maximum(freqs, 1.0)), [np.log2(fc) for fc, _ in pts], [g for _, g in pts])
    return np.fft.irfft(spec * 10 ** (gain_db / 20), n=len(x))


@register("add_noise")
@dataclass(frozen=True)
class AddNoise(Effect):
    """Recorded background noise at ``snr_db`` (dB re the speech's P.56 active level):
    ``snr_db = level_dbov(speech) - 10 log10(mean(noise^2))`` over the item. The file is read from a random
    offset and looped with an equal-power crossfade (``crossfade_s``) when shorter than the item.

    ``walk_sd_db`` (SD of the change over 5 s: a slow random walk, as peak-hour noise rises and falls),
    ``bursts_per_min``, ``burst_db`` and ``burst_dur_s`` (a door, a passing bus) make the level vary; the SNR
    still refers to the mean noise power. ``shape_db`` (octave centre Hz -> band level re the total, dB, as
    ``synth fit`` measures real noise) reshapes the noise's long-term spectrum first: a profile whose own
    harvested noise is too thin to loop uses other recorded noise with the real noise's shape. ``folder`` draws
    only noise files in a folder of that name: each call leg's own background, as a stereo fit harvests it
    per channel into ``noise_bank/<leg>/`` (the customer's street is not the agent's office).
    """

    snr_db: Any = (0.0, 20.0)
    walk_sd_db: Any = 0.0
    bursts_per_min: Any = 0.0
    burst_db: Any = (6.0, 12.0)
    burst_dur_s: Any = (0.3, 1.5)
    crossfade_s: float = 0.05
    shape_db: Any = None
    folder: str | None = None
    p: float = 1.0
    params_type = AddNoiseParams
    additive = True
    # allowed range of each drawn field (a fitted profile is clamped to these: synth.profiles.limits)
    LIMITS = {"snr_db": (-20, 80), "walk_sd_db": (0, 20), "bursts_per_min": (0, 60), "burst_db": (0, 40),
              "burst_dur_s": (0, 10)}

    def __post_init__(self):
        for name, (lo, hi) in self.LIMITS.items():
            v = getattr(self, name)
            object.__setattr__(self, name, dist_field(f"add_noise.{name}", list(v) if isinstance(v, tuple) else v, lo, hi))
        if self.shape_db is not None:
            try:
                shape = tuple(sorted((float(k), float(v)) for k, v in dict(self.shape_db).items()))
            except (TypeError, ValueError):
                raise ConfigError(f"add_noise.shape_db={self.shape_db!r}: must map octave centre Hz to dB, "
                                  "e.g. {125: -8.0, 250: -6.5, 500: -5.0}") from None
            if len(shape) < 2 or any(f <= 0 for f, _ in shape):
                raise ConfigError(f"add_noise.shape_db={self.shape_db!r}: give at least two positive octave centres")
            object.__setattr__(self, "shape_db", shape)
        if not 0 <= self.crossfade_s <= 1:
            raise ConfigError(f"add_noise.crossfade_s={self.crossfade_s}: must be within [0, 1] s")
        if self.folder is not None and (not isinstance(self.folder, str) or not self.folder or "/" in self.folder):
            raise ConfigError(f"add_noise.folder={self.folder!r}: must be the name of one folder of noise files "
                              "(e.g. customer), or null for all noise files")

    def sample_params(self, rng, ctx):
        files = ctx.pools.noise
        if not files:
            raise ConfigError("add_noise: no noise files available; set sources.noise=<folder> or noise=none")
        if self.folder is not None:
            files = [f for f in files if Path(f.rel_path).parent.name == self.folder]
            if not files:
                raise ConfigError(f"add_noise.folder={self.folder}: no noise file sits in a folder of that name; "
                                  "check sources.noise (a stereo fit's noise_bank holds one folder per leg)")
        f = files[int(rng.integers(len(files)))]
        return AddNoiseParams(
            noise_path=f.rel_path, offset_s=float(rng.uniform(0, f.duration_s)), snr_db=float(self.snr_db.sample(rng)),
            walk_sd_db=float(self.walk_sd_db.sample(rng)), bursts_per_min=float(self.bursts_per_min.sample(rng)),
            burst_db=float(self.burst_db.sample(rng)), burst_dur_s=float(self.burst_dur_s.sample(rng)),
            envelope_seed=int(rng.integers(2**31)), shape_db=self.shape_db or ())

    def component(self, audio: Audio, params: AddNoiseParams, ctx=None) -> np.ndarray:
        src = ctx.load(params.noise_path, audio.sr)
        n = len(audio.samples)
        offset = min(int(params.offset_s * audio.sr), len(src) - 1)
        noise = loop_with_crossfade(src, offset, n, max(1, int(self.crossfade_s * audio.sr)))
        if params.walk_sd_db > 0 or params.bursts_per_min > 0:
            env = level_envelope_db(params, audio.duration_s)
            t = np.arange(n) / audio.sr
            noise = noise * 10 ** (np.interp(t, np.arange(len(env)) * CONTROL_S, env) / 20)
        if params.shape_db:
            noise = match_octave_shape(noise.astype(np.float64), audio.sr, params.shape_db)
        speech_db = audio.level().level_dbov
        if not np.isfinite(speech_db):  # silent speech (checked sources have none): no level to set an SNR against
            return np.zeros(n, dtype=np.float32)
        noise_power = float(np.mean(np.square(noise, dtype=np.float64)))
        if not noise_power > 0 or 10 * np.log10(noise_power) < MIN_NOISE_DBOV:
            raise BadInput(params.noise_path, f"is silent from {params.offset_s:.2f} s on, so the noise drawn "
                           f"at snr_db={params.snr_db:.1f} would be labeled but not heard",
                           "trim the silent part of the noise file or remove it from the noise sources")
        gain = 10 ** ((speech_db - params.snr_db - 10 * np.log10(noise_power)) / 20)
        return np.asarray(noise, dtype=np.float32) * np.float32(gain)

    def apply_params(self, audio: Audio, params: AddNoiseParams, ctx=None) -> Audio:
        return audio.with_samples(audio.samples + self.component(audio, params, ctx))

    def summary(self, params):
        if not isinstance(params, AddNoiseParams):
            return {}
        return {"snr_db": params.snr_db, "noise": params.noise_path,
                "noise_walk_sd_db": params.walk_sd_db, "noise_bursts_per_min": params.bursts_per_min}
