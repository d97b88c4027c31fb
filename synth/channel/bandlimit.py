"""Band limit and rate: the telephone channel's pass band and sample rate (narrowband 300-3400 Hz at 8 kHz,
ITU-T G.712; wideband 50-7000 Hz at 16 kHz, G.722 / P.341), or a fitted profile's measured band edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio, resample
from ..dist import Const, dist_field
from ..errors import ConfigError
from .base import Effect, register
from .codecs import fit_length
from .filters import butter_edge_sos, zero_phase

# band -> (low edge Hz, high edge Hz, output rate Hz); profiles.md section 2.1 (ITU-T G.712 / P.833.2)
BANDS = {"narrowband": (300.0, 3400.0, 8000), "wideband": (50.0, 7000.0, 16000)}
LOW_ORDER = {"narrowband": 8, "wideband": 4}
HIGH_ORDER = 16
FITTED_HIGH_ORDER = 48


@dataclass(frozen=True)
class BandlimitParams:
    band: str           # narrowband | wideband
    low_hz: float       # -3 dB low edge of the zero-phase band-pass
    high_hz: float      # -3 dB high edge
    low_order: int      # effective Butterworth order of the high-pass (forward-backward)
    high_order: int     # effective Butterworth order of the low-pass
    sr_hz: int          # output rate


@register("bandlimit")
@dataclass(frozen=True)
class Bandlimit(Effect):
    """Band-pass to the telephone band and resample to its rate (``band``: narrowband | wideband).

    soxr resampling (linear phase, delay compensated) to the band's rate, then zero-phase Butterworth filters
    at -3 dB at the band edges (effective order 8 low, 16 high; :mod:`synth.channel.filters`): nothing moves in
    time, the duration is kept. A narrowband output upsampled to 16 kHz keeps its energy above 4 kHz below
    -50 dB re the band (tested). ``high_hz`` / ``low_hz`` replace the edges with drawn ones, so a fitted
    profile reproduces the edge it measured (3.83 kHz comes back at ~3.83 kHz) and keeps energy below 300 Hz
    when the real channel has it; a drawn high edge uses a steeper low-pass (``FITTED_HIGH_ORDER``) so the
    edge ``synth fit`` measures (the speech spectrum's -45 dB point) lands within ~30 Hz of ``high_hz``."""

    band: Any = "narrowband"
    high_hz: Any = None     # drawn high edge, Hz (None: the band's own); clipped below the band's Nyquist
    low_hz: Any = None      # drawn low edge, Hz (None: the band's own)
    p: float = 1.0
    params_type = BandlimitParams
    LIMITS = {"high_hz": (20, 24000), "low_hz": (20, 24000)}  # allowed ranges (see synth.profiles.limits)

    def __post_init__(self):
        d = dist_field("bandlimit.band", self.band)
        vals = [d.value] if isinstance(d, Const) else list(getattr(d, "values", []))
        if not vals or any(v not in BANDS for v in vals):
            raise ConfigError(f"bandlimit.band={d.to_config()!r}: allowed values are {', '.join(BANDS)}")
        object.__setattr__(self, "band", d)
        for name in ("high_hz", "low_hz"):
            v = getattr(self, name)
            if v is not None:
                object.__setattr__(self, name, dist_field(f"bandlimit.{name}", v, *self.LIMITS[name]))

    def sample_params(self, rng, ctx) -> BandlimitParams:
        band = self.band.sample(rng)
        lo, hi, sr = BANDS[band]
        order = HIGH_ORDER
        if self.high_hz is not None:
            hi, order = min(float(self.high_hz.sample(rng)), 0.49 * sr), FITTED_HIGH_ORDER
        if self.low_hz is not None:
            lo = float(self.low_hz.sample(rng))
        return BandlimitParams(band=band, low_hz=round(lo, 1), high_hz=round(hi, 1), low_order=LOW_ORDER[band],
                               high_order=order, sr_hz=sr)

    def summary(self, params) -> dict:
        if not isinstance(params, BandlimitParams):
            return {}
        return {"band": params.band, "band_hz": [params.low_hz, params.high_hz]}

    def apply_params(self, audio: Audio, params: BandlimitParams, ctx=None) -> Audio:
        sr = params.sr_hz
        n = int(round(len(audio.samples) * sr / audio.sr))
        x = fit_length(resample(audio.samples, audio.sr, sr), n)
        sos = np.vstack([butter_edge_sos("highpass", params.low_hz, params.low_order, sr),
                         butter_edge_sos("lowpass", params.high_hz, params.high_order, sr)])
        return Audio(zero_phase(x, sos).astype(np.float32), sr)
