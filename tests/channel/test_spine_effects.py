"""Contract and physics tests for the spine's effects: speech_level, room, add_noise, gain, clipping."""

import dataclasses
import json

import numpy as np
import pytest

from synth.audio import Audio, active_speech_level, load, power_db
from synth.channel.base import Skipped, build_effect
from synth.context import ItemContext, RenderContext
from synth.room.bank import RoomBank
from synth.room.measure import rt60
from synth.sources.pools import build_pools

SPECS = [
    {"name": "speech_level", "target_dbov": [-35, -20]},
    {"name": "gain", "gain_db": [-6, 6]},
    {"name": "clipping", "mode": {"choice": ["hard", "soft"]}, "drive_db": [3, 12], "threshold": [0.3, 0.9]},
    {"name": "add_noise", "snr_db": [0, 20], "walk_sd_db": 3, "bursts_per_min": 10},
    {"name": "room", "kind": "simulated", "rt60_s": [0.3, 0.7], "pool_size": 4},
    {"name": "room", "kind": "measured"},
]


@pytest.fixture(scope="module")
def env(corpus_root):
    pools = build_pools(corpus_root, need_rir=True)
    room = build_effect(SPECS[4])
    banks = {"simulated": RoomBank.simulated(0, 16000, 4, room.rt60_s, room.room_x_m, room.room_y_m, room.room_z_m,
                                             room.distance_m),
             "measured": RoomBank.measured(pools.rirs, 16000)}
    speech = load(corpus_root / "speech/librispeech_2412/2412-153948-0000.flac", 16000)
    return pools, banks, Audio(speech * 0.3, 16000), RenderContext(corpus_root)


def contexts(env, spec):
    pools, banks, audio, rctx = env
    bank = banks.get(spec.get("kind"), None) if spec["name"] == "room" else None
    return ItemContext("t-000000", 16000, audio.duration_s, pools, bank), rctx


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s["name"] + "-" + str(s.get("kind", "")))
def test_effect_contract(env, spec):
    pools, banks, audio, rctx = env
    effect = build_effect(spec)
    ictx, rctx = contexts(env, spec)
    p1 = effect.sample(np.random.default_rng(7), ictx)
    assert p1 == effect.sample(np.random.default_rng(7), ictx)                      # same seed, same params
    y1 = effect.apply(audio, p1, rctx)
    y2 = effect.apply(audio, p1, RenderContext(rctx.root))
    assert np.array_equal(y1.samples, y2.samples)                                    # pure apply
    assert y1.samples.dtype == np.float32 and y1.sr == 16000 and len(y1.samples) == len(audio.samples)
    back = effect.params_from_dict(json.loads(json.dumps(dataclasses.asdict(p1))))   # JSON round trip
    assert back == p1 and np.array_equal(effect.apply(audio, back, rctx).samples, y1.samples)
    off = build_effect({**spec, "p": 0.0})
    p0 = off.sample(np.random.default_rng(7), ictx)
    assert isinstance(p0, Skipped) and off.apply(audio, p0, rctx) is audio           # p=0 is the identity


def test_speech_level_hits_target(env):
    _, _, audio, rctx = env
    e = build_effect({"name": "speech_level", "target_dbov": -31.5})
    y = e.apply(audio, e.sample(np.random.default_rng(0), None))
    assert abs(active_speech_level(y.samples, 16000).level_dbov + 31.5) < 0.05


def test_noise_snr_is_measured_against_active_speech_level(env):
    pools, _, audio, rctx = env
    ictx = ItemContext("t", 16000, audio.duration_s, pools)
    for snr in (0.0, 7.5, 20.0):
        e = build_effect({"name": "add_noise", "snr_db": snr})
        p = e.sample(np.random.default_rng(3), ictx)
        noise = e.component(audio, p, rctx)
        measured = active_speech_level(audio.samples, 16000).level_dbov - power_db(noise)
        assert abs(measured - snr) < 0.01


def test_snr_after_talker_level_and_gain_refers_to_the_speech_as_heard(env):
    """The talker level step hands its P.56 meter on and a gain scales it: noise added after both must sit
    at its SNR below a fresh P.56 measurement of the speech it is added to."""
    pools, _, audio, rctx = env
    ictx = ItemContext("t", 16000, audio.duration_s, pools)
    level = build_effect({"name": "speech_level", "target_dbov": -31.0})
    leveled = level.apply(audio, level.sample(np.random.default_rng(0), ictx), rctx)
    assert leveled.meter is not None and abs(active_speech_level(leveled.samples, 16000).level_dbov + 31.0) < 0.02
    gain = build_effect({"name": "gain", "gain_db": 7.0})
    louder = gain.apply(leveled, gain.sample(np.random.default_rng(0), ictx), rctx)
    assert louder.meter is not None
    noise = build_effect({"name": "add_noise", "snr_db": 12.5})
    component = noise.component(louder, noise.sample(np.random.default_rng(3), ictx), rctx)
    snr = active_speech_level(louder.samples, 16000).level_dbov - power_db(component)
    assert abs(snr - 12.5) < 1e-3                                                  # dB
    assert louder.with_samples(louder.samples + component).meter is None          # noise: the meter is gone


def test_short_noise_is_looped_and_varying_noise_varies(env):
    pools, _, audio, rctx = env
    short = next(f for f in pools.noise if f.duration_s < 5)  # the 2.9 s MUSAN clip, item is 11.7 s
    e = build_effect({"name": "add_noise", "snr_db": 10, "walk_sd_db": 6, "bursts_per_min": 0})
    p = dataclasses.replace(e.sample(np.random.default_rng(1), ItemContext("t", 16000, 11.7, pools)),
                            noise_path=short.rel_path, offset_s=0.0)
    n = e.component(audio, p, rctx)
    frames = n[: len(n) // 1600 * 1600].reshape(-1, 1600)
    levels = 10 * np.log10(np.mean(frames.astype(float) ** 2, axis=1) + 1e-12)
    assert np.all(np.isfinite(levels)) and levels.min() > levels.max() - 40   # no dropouts at loop joins
    assert np.std(levels) > 2.0                                              # the level drifts


def test_clipping_records_realized_fraction(env):
    _, _, audio, _ = env
    e = build_effect({"name": "clipping", "mode": "hard", "drive_db": 20, "threshold": 0.5})
    p = e.sample(np.random.default_rng(0), None)
    y = e.apply(audio, p)
    frac = e.realized(audio, y, p)["clipped_fraction"]
    assert np.max(np.abs(y.samples)) <= 0.5 + 1e-6
    assert abs(frac - np.mean(np.abs(y.samples) >= 0.5 - 1e-6)) < 1e-3 and frac > 0.001


def test_simulated_room_rt60_within_20_percent_and_labels_stay(env):
    pools, banks, audio, rctx = env
    e = build_effect({"name": "room", "kind": "simulated", "rt60_s": [0.3, 0.7], "pool_size": 4})
    for seed in range(6):
        p = e.sample(np.random.default_rng(seed), ItemContext("t", 16000, 1, pools, banks["simulated"]))
        from synth.room.bank import rir_for
        h = rir_for(p.kind, p.rel_path, p.spec, 16000, rctx)
        assert abs(rt60(h, 16000) - p.rt60_s) < 1e-6                    # recorded = measured on the RIR used
        assert abs(p.rt60_s - p.rt60_target_s) / p.rt60_target_s < 0.2  # and close to what was asked
        y = e.apply(audio, p, rctx)
        c = np.correlate(y.samples[16000:48000], audio.samples[16000:48000], "full")
        assert abs(np.argmax(c) - 31999) <= 2                           # direct path at t=0: no label shift
