"""Band limit: G.712 narrowband at 8 kHz with nothing above 4 kHz, wideband at 16 kHz, no time shift."""

from __future__ import annotations

import numpy as np
import pytest

from synth.audio import Audio, resample
from synth.channel.base import build_effect
from synth.channel.codecs import xcorr_lag


def _band(name, a, make_ctx):
    e = build_effect({"name": "bandlimit", "band": name})
    return e.apply(a, e.sample(np.random.default_rng(0), make_ctx(a)))


def _above_below_db(x, sr, split=4000.0):
    s = np.abs(np.fft.rfft(np.asarray(x, dtype=np.float64))) ** 2
    f = np.fft.rfftfreq(len(x), 1 / sr)
    return 10 * np.log10((s[f >= split].sum() + 1e-300) / s[f < split].sum())


@pytest.fixture(scope="module")
def white16k():
    return Audio((0.1 * np.random.default_rng(0).standard_normal(16000 * 5)).astype(np.float32), 16000)


@pytest.mark.parametrize("source", ["speech", "white"])
def test_narrowband_has_nothing_above_4khz(source, speech16k, white16k, make_ctx):
    a = speech16k if source == "speech" else white16k
    y = _band("narrowband", a, make_ctx)
    assert y.sr == 8000 and len(y.samples) == len(a.samples) // 2
    assert _above_below_db(y.samples, 8000) < -50
    up = resample(y.samples, 8000, 16000)  # back to 16 kHz: images of the 8 kHz signal stay out
    assert _above_below_db(up, 16000) < -50


def _tone_gain_db(band, f, make_ctx, sr=16000):
    t = np.arange(sr * 2) / sr
    x = Audio((0.3 * np.sin(2 * np.pi * f * t)).astype(np.float32), sr)
    y = _band(band, x, make_ctx)
    mid = slice(len(y.samples) // 4, 3 * len(y.samples) // 4)
    return 20 * np.log10(np.std(y.samples[mid]) / np.std(x.samples[len(x.samples) // 4:3 * len(x.samples) // 4]))


@pytest.mark.parametrize("band,lo,hi", [("narrowband", 300, 3400), ("wideband", 50, 7000)])
def test_band_edges_are_3db_points(band, lo, hi, make_ctx):
    assert _tone_gain_db(band, 1000, make_ctx) == pytest.approx(0, abs=0.2)
    assert _tone_gain_db(band, lo, make_ctx) == pytest.approx(-3, abs=0.5)
    assert _tone_gain_db(band, hi, make_ctx) == pytest.approx(-3, abs=0.5)


def test_narrowband_stopbands(make_ctx):
    assert _tone_gain_db("narrowband", 100, make_ctx) < -30
    assert _tone_gain_db("narrowband", 3800, make_ctx) < -12


def test_wideband_output_rate_and_timing(speech16k, make_ctx):
    y = _band("wideband", speech16k, make_ctx)
    assert y.sr == 16000 and len(y.samples) == len(speech16k.samples)
    assert xcorr_lag(speech16k.samples, y.samples, 160) == 0
    nb = _band("narrowband", speech16k, make_ctx)
    assert xcorr_lag(resample(speech16k.samples, 16000, 8000), nb.samples, 80) == 0
