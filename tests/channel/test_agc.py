"""AGC: levels toward the target, pumps after loud onsets (fast attack, slow release), holds in gates."""

from __future__ import annotations

import numpy as np

from synth.audio import Audio, active_speech_level
from synth.channel.agc import block_gains_db
from synth.channel.base import build_effect


def _tone(level_dbov, seconds, sr=8000, f=440.0):
    t = np.arange(int(sr * seconds)) / sr
    return np.sqrt(2) * 10 ** (level_dbov / 20) * np.sin(2 * np.pi * f * t)  # sine power = level_dbov


def _params(make_ctx, **kw):
    e = build_effect({"name": "agc", **kw})
    return e, e.sample(np.random.default_rng(0), make_ctx(sr=8000, duration_s=1))


def test_levels_quiet_and_loud_speech_toward_target(speech16k, make_ctx):
    e, p = _params(make_ctx, target_dbov=-20, max_gain_db=30, min_gain_db=-30)
    asl = active_speech_level(speech16k.samples, 16000).level_dbov
    for target_asl, direction in ((-45, +1), (-10, -1)):
        a = Audio((speech16k.samples * 10 ** ((target_asl - asl) / 20)).astype(np.float32), 16000)
        before = active_speech_level(a.samples, 16000).level_dbov
        after = active_speech_level(e.apply(a, p).samples, 16000).level_dbov
        assert direction * (after - before) > 5, (before, after)
        assert abs(after - (-26)) < abs(before - (-26))  # closer to the -26 dBov reference


def test_pumping_fast_attack_slow_release(make_ctx):
    e, p = _params(make_ctx, target_dbov=-20, attack_s=0.01, release_s=0.8, gate_dbov=-70)
    sr = 8000
    x = np.concatenate([_tone(-30, 1.0), _tone(-6, 0.3), _tone(-30, 2.5)])
    g = block_gains_db(x, sr, p)  # 5 ms blocks
    blocks = lambda s: int(round(s / 0.005))
    before = g[blocks(0.95)]
    assert before > 5                                      # quiet tone boosted
    assert g[blocks(1.05)] < before - 15                    # attack: down within 50 ms of the onset
    after = g[blocks(1.3) + 1:]
    assert after[blocks(0.1)] < before - 10                 # 100 ms after the burst: still pumped down
    recovered = blocks(0.8 * 3)
    assert after[recovered] > before - 2                    # back after ~3 release time constants
    assert np.all(np.diff(after[:recovered]) >= -1e-9)      # monotone recovery (release)


def test_gate_holds_gain_in_pauses(make_ctx):
    e, p = _params(make_ctx, target_dbov=-20, gate_dbov=-50)
    x = np.concatenate([_tone(-35, 1.0), np.zeros(8000), 1e-4 * np.ones(8000)])
    g = block_gains_db(x, 8000, p)
    held = g[int(1.0 / 0.005) + 1:]
    assert np.ptp(held) < 1e-9 and held[0] > 10


def test_realized_gain_range(speech16k, make_ctx):
    e, p = _params(make_ctx)
    y = e.apply(speech16k, p)
    r = e.realized(speech16k, y, p)
    assert p.min_gain_db <= r["agc_gain_min_db"] <= r["agc_gain_median_db"] <= r["agc_gain_max_db"] <= p.max_gain_db
    assert r["agc_gain_max_db"] - r["agc_gain_min_db"] > 3  # it moves on real speech
