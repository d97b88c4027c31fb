"""Device responses: the measured response matches the recorded curve; no time shift."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from synth.audio import Audio
from synth.channel.base import build_effect
from synth.channel.codecs import xcorr_lag
from synth.channel.device import DEVICES, device_sos
from synth.channel.filters import response_db


@pytest.mark.parametrize("device", list(DEVICES))
def test_measured_response_matches_recorded_curve(device, make_ctx):
    sr = 16000
    x = np.random.default_rng(0).standard_normal(sr * 8).astype(np.float32) * 0.1
    e = build_effect({"name": "device", "device": device})
    p = e.sample(np.random.default_rng(1), make_ctx(sr=sr, duration_s=8))
    y = e.apply(Audio(x, sr), p).samples
    f, pxx = welch(x, sr, nperseg=1024)
    _, pyy = welch(y, sr, nperseg=1024)
    measured = 10 * np.log10(pyy / pxx)
    expected = response_db(device_sos(p, sr), f, sr)
    band = (f > 150) & (f < 7500) & (expected > -20)
    assert np.max(np.abs(measured[band] - expected[band])) < 1.5
    # the EQ peak the params record is where the response is
    for kind, f_hz, gain_db, q in p.eq:
        if kind == "peaking" and f_hz < 0.45 * sr:
            i = np.argmin(np.abs(f - f_hz))
            assert measured[i] > -3 + min(gain_db, 0)


def test_zero_phase_keeps_timing(speech16k, make_ctx):
    for device in DEVICES:
        e = build_effect({"name": "device", "device": device})
        y = e.apply(speech16k, e.sample(np.random.default_rng(0), make_ctx(speech16k)))
        assert xcorr_lag(speech16k.samples, y.samples, 160) == 0


def test_jitter_makes_items_differ_and_zero_jitter_is_the_preset(make_ctx):
    ctx = make_ctx(sr=16000, duration_s=1)
    e = build_effect({"name": "device", "device": "handset"})
    assert e.sample(np.random.default_rng(1), ctx) != e.sample(np.random.default_rng(2), ctx)
    z = build_effect({"name": "device", "device": "handset", "gain_jitter_db": 0, "freq_jitter": 0})
    p = z.sample(np.random.default_rng(1), ctx)
    lo, lo_n, hi, hi_n, eq = DEVICES["handset"]
    assert (p.low_hz, p.high_hz, p.eq) == (lo, hi, eq)
