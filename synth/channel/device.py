"""Device: the frequency response of the talker's terminal (handset, headset, speakerphone, car hands-free,
laptop): a band-pass plus a few EQ bands per device, from ``assets/channel/devices.yaml`` (assumed typical
shapes, not measurements of specific devices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio
from ..dist import Const, dist_field
from ..errors import ConfigError
from ..shipped import asset_yaml
from .base import Effect, register
from .filters import butter_edge_sos, eq_sos, zero_phase


def _device_table() -> dict[str, tuple]:
    """name -> (low edge Hz, low order, high edge Hz, high order, ((kind, f_hz, gain_db, q), ...)),
    read from the shipped table ``assets/channel/devices.yaml`` (assumptions, see its comments)."""
    return {name: (float(d["low_hz"]), int(d["low_order"]), float(d["high_hz"]), int(d["high_order"]),
                   tuple((str(k), float(f), float(g), float(q)) for k, f, g, q in d["eq"]))
            for name, d in asset_yaml("channel/devices.yaml").items()}


DEVICES: dict[str, tuple] = _device_table()


@dataclass(frozen=True)
class DeviceParams:
    device: str
    low_hz: float                     # -3 dB edge of the zero-phase high-pass
    low_order: int                    # effective order (forward-backward)
    high_hz: float                    # -3 dB edge of the zero-phase low-pass
    high_order: int
    eq: tuple[tuple, ...] = ()        # (kind, f_hz, gain_db, q) per EQ band; gain is the effective dB


@register("device")
@dataclass(frozen=True)
class Device(Effect):
    """Filter through a terminal's frequency response (``device``: a name or {choice: [...]}): Butterworth
    band edges and RBJ peaking/shelving biquads. Per item the EQ gains are perturbed by N(0,
    ``gain_jitter_db``) and all frequencies by a factor exp(N(0, ``freq_jitter``)), so no two items have the
    same device; the drawn curve is in the params. Zero phase (forward-backward): timing is kept. Edges
    above 0.49 x the rate are skipped (a narrowband signal is already band limited)."""

    device: Any = "handset"
    gain_jitter_db: Any = 1.0
    freq_jitter: Any = 0.05
    p: float = 1.0
    params_type = DeviceParams

    def __post_init__(self):
        d = dist_field("device.device", self.device)
        vals = [d.value] if isinstance(d, Const) else list(getattr(d, "values", []))
        if not vals or any(v not in DEVICES for v in vals):
            raise ConfigError(f"device.device={d.to_config()!r}: allowed values are {', '.join(DEVICES)}")
        object.__setattr__(self, "device", d)
        object.__setattr__(self, "gain_jitter_db", dist_field("device.gain_jitter_db", self.gain_jitter_db, 0, 6))
        object.__setattr__(self, "freq_jitter", dist_field("device.freq_jitter", self.freq_jitter, 0, 0.3))

    def sample_params(self, rng, ctx) -> DeviceParams:
        name = self.device.sample(rng)
        g_sd = float(self.gain_jitter_db.sample(rng))
        f_sd = float(self.freq_jitter.sample(rng))
        lo, lo_n, hi, hi_n, eq = DEVICES[name]
        f = np.exp(rng.normal(0.0, f_sd, size=2 + len(eq))) if f_sd > 0 else np.ones(2 + len(eq))
        g = rng.normal(0.0, g_sd, size=len(eq)) if g_sd > 0 else np.zeros(len(eq))
        bands = tuple((k, round(float(fk * f[2 + i]), 1), round(float(gk + g[i]), 2), float(qk))
                      for i, (k, fk, gk, qk) in enumerate(eq))
        return DeviceParams(device=name, low_hz=round(float(lo * f[0]), 1), low_order=lo_n,
                            high_hz=round(float(hi * f[1]), 1), high_order=hi_n, eq=bands)

    def apply_params(self, audio: Audio, params: DeviceParams, ctx=None) -> Audio:
        return audio.with_samples(zero_phase(audio.samples, device_sos(params, audio.sr)))

    def summary(self, params) -> dict:
        if not isinstance(params, DeviceParams):
            return {}
        return {"device": params.device}


def device_sos(params: DeviceParams, sr: int) -> np.ndarray:
    """The device's SOS cascade at ``sr`` (edges and bands at or above 0.49 x sr are left out)."""
    return np.vstack([butter_edge_sos("highpass", params.low_hz, params.low_order, sr),
                      butter_edge_sos("lowpass", params.high_hz, params.high_order, sr),
                      eq_sos(params.eq, sr)])
