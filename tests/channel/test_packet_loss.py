"""Packet loss: realized loss statistics, lost spans, and what each concealment does to the signal."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from synth.audio import Audio
from synth.channel import codecs as C
from synth.channel.base import build_effect
from synth.channel.packet_loss import conceal_plc, realized_stats
from synth.errors import ConfigError

N_FRAMES = 10_000
LONG = 0.02 * N_FRAMES  # seconds: exactly 10,000 frames


@pytest.mark.parametrize("rate", [0.1, 0.2, 0.3])
def test_bernoulli_realized_loss_within_10_percent(rate, make_ctx):
    e = build_effect({"name": "packet_loss", "model": "bernoulli", "loss_rate": rate})
    p = e.sample(np.random.default_rng(5), make_ctx(sr=8000, duration_s=LONG))
    assert p.n_frames == N_FRAMES
    got = e.realized(None, None, p)["loss_rate_realized"]
    assert abs(got - rate) / rate < 0.10, got


@pytest.mark.parametrize("rate", [0.005, 0.02, 0.05])
def test_bernoulli_low_rates_within_3_binomial_sd(rate, make_ctx):
    """Below ~8 % loss, 10,000 frames cannot promise 10 % relative accuracy (the binomial SD alone is
    sqrt((1-r)/(r n)): 7 % relative at r = 2 %), so low rates are held to 3 binomial SDs instead."""
    e = build_effect({"name": "packet_loss", "model": "bernoulli", "loss_rate": rate})
    p = e.sample(np.random.default_rng(5), make_ctx(sr=8000, duration_s=LONG))
    got = e.realized(None, None, p)["loss_rate_realized"]
    assert abs(got - rate) < 3 * np.sqrt(rate * (1 - rate) / N_FRAMES), got


@pytest.mark.parametrize("rate,burst", [(0.05, 2.0), (0.1, 3.0), (0.2, 1.5), (0.1, 6.0)])
def test_gilbert_elliott_mean_burst_and_rate(rate, burst, make_ctx):
    e = build_effect({"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": rate,
                      "mean_burst_frames": burst})
    p = e.sample(np.random.default_rng(5), make_ctx(sr=8000, duration_s=LONG))
    r = e.realized(None, None, p)
    assert abs(r["mean_burst_frames_realized"] - burst) / burst < 0.10, r
    assert abs(r["loss_rate_realized"] - rate) / rate < 0.25, r  # bursty: fewer independent events


def test_bursty_loss_is_burstier_than_bernoulli(make_ctx):
    ctx = make_ctx(sr=8000, duration_s=LONG)
    ge = build_effect({"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": 0.1, "mean_burst_frames": 4})
    be = build_effect({"name": "packet_loss", "model": "bernoulli", "loss_rate": 0.1})
    b_ge = ge.realized(None, None, ge.sample(np.random.default_rng(1), ctx))["mean_burst_frames_realized"]
    b_be = be.realized(None, None, be.sample(np.random.default_rng(1), ctx))["mean_burst_frames_realized"]
    assert b_be < 1.2 < 3.5 < b_ge


def test_lost_spans_are_the_lost_frames(make_ctx):
    e = build_effect({"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": 0.1, "mean_burst_frames": 3})
    p = e.sample(np.random.default_rng(2), make_ctx(sr=8000, duration_s=10.01))
    spans = e.lost_spans(p)
    assert len(spans) == len(p.lost_runs) > 0
    for (s, k), (a, b) in zip(p.lost_runs, spans):
        assert a == pytest.approx(s * 0.02) and b == pytest.approx(min((s + k) * 0.02, 10.01))
    assert all(b <= 10.01 for _, b in spans)
    assert sum(b - a for a, b in spans) == pytest.approx(realized_stats(p.lost_runs, p.n_frames)["lost_frames"] * 0.02,
                                                         abs=0.02)


def test_loss_pattern_is_compact_in_params(make_ctx):
    e = build_effect({"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": 0.05, "mean_burst_frames": 3})
    p = e.sample(np.random.default_rng(0), make_ctx(sr=8000, duration_s=60.0))
    assert all(isinstance(r, tuple) and len(r) == 2 for r in p.lost_runs)
    assert len(p.lost_runs) < 0.05 * p.n_frames  # runs, not one entry per frame


def test_silence_zeroes_exactly_the_lost_frames(speech16k, make_ctx):
    a = Audio(speech16k.samples[:8000 * 2], 8000)
    e = build_effect({"name": "packet_loss", "model": "bernoulli", "loss_rate": 0.2, "concealment": "silence"})
    p = e.sample(np.random.default_rng(4), make_ctx(a))
    y = e.apply(a, p).samples
    lost = np.zeros(len(y), bool)
    for s, k in p.lost_runs:
        lost[s * 160:(s + k) * 160] = True
    assert np.all(y[lost] == 0) and np.array_equal(y[~lost], a.samples[~lost])


def _voiced(sr=8000, seconds=1.0):
    t = np.arange(int(sr * seconds)) / sr
    return 0.4 * np.sin(2 * np.pi * 125 * t) + 0.2 * np.sin(2 * np.pi * 250 * t + 1.0)  # period 8 ms


def test_plc_repeats_the_pitch_period_then_fades_out():
    sr, a = 8000, 4000
    x = _voiced(sr)
    y = conceal_plc(x, sr, [(a, a + 800)])  # a 100 ms gap
    err = lambda s, e: 10 * np.log10(np.sum((y[s:e] - x[s:e]) ** 2) / np.sum(x[s:e] ** 2))
    assert err(a, a + 80) < -40                      # first 10 ms: the waveform continues
    rms = [np.sqrt(np.mean(y[a + i:a + i + 80] ** 2)) for i in range(80, 480, 80)]
    assert all(r1 > r2 for r1, r2 in zip(rms, rms[1:]))  # 20 %/10 ms attenuation after 10 ms
    assert np.all(y[a + 480:a + 800] == 0)             # silent from 60 ms on
    assert np.array_equal(y[:a - 40], x[:a - 40])      # only a quarter period before the gap is touched
    assert np.array_equal(y[a + 800 + 80:], x[a + 800 + 80:])  # at most 10 ms overlap-add after


def test_plc_on_speech_fills_gaps_with_signal(speech16k, make_ctx):
    a = Audio(speech16k.samples, 16000)
    e = build_effect({"name": "packet_loss", "model": "bernoulli", "loss_rate": 0.1, "concealment": "plc"})
    p = e.sample(np.random.default_rng(9), make_ctx(a))
    y = e.apply(a, p).samples
    lost = np.zeros(len(y), bool)
    for s, k in p.lost_runs:
        lost[s * 320:(s + k) * 320] = True
    # concealed frames carry energy comparable to the speech they replace (single-frame losses)
    ratio = np.sum(y[lost] ** 2) / np.sum(a.samples[lost] ** 2)
    assert 0.3 < ratio < 2.0


def test_opus_native_plc_conceals_and_stays_aligned(speech16k, make_ctx):
    a = Audio(speech16k.samples, 16000)
    spec = {"name": "packet_loss", "concealment": "codec", "codec": "opus", "bitrate_bps": 16000}
    e = build_effect({**spec, "loss_rate": 0.0})
    p0 = e.sample(np.random.default_rng(0), make_ctx(a))
    clean = e.apply(a, p0)
    assert clean.sr == 8000
    ref = C.fit_length(__import__("synth.audio", fromlist=["resample"]).resample(a.samples, 16000, 8000), len(clean.samples))
    assert abs(C.xcorr_lag(ref, clean.samples, 400)) <= 8
    frame = 250  # a voiced stretch of the utterance
    p1 = dataclasses.replace(p0, lost_runs=((frame, 2),))
    lossy = e.apply(a, p1).samples
    diff = np.abs(lossy - clean.samples)
    seg = slice(frame * 160, (frame + 2) * 160)
    assert np.max(diff[:frame * 160 - 16]) == 0          # nothing changes before the lost packets
    assert np.sum(diff[seg] ** 2) > 0                     # the lost packets are concealed, not copied
    assert np.sqrt(np.mean(lossy[seg] ** 2)) > 0.1 * np.sqrt(np.mean(clean.samples[seg] ** 2))  # not silence


@pytest.mark.parametrize("spec,match", [
    ({"model": "markov"}, "allowed values"),
    ({"concealment": "codec"}, "conceals lost packets"),
    ({"concealment": "codec", "codec": "amr_nb"}, "conceals lost packets"),
    ({"loss_rate": 0.9}, "outside the allowed range"),
])
def test_bad_config(spec, match):
    with pytest.raises(ConfigError, match=match):
        build_effect({"name": "packet_loss", **spec})
