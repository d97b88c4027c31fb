"""The effect contract, checked for every channel effect in this package (see synth/channel/base.py)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from synth.channel.base import Skipped, build_effect

CONFIGS = [
    {"name": "codec", "codec": "g711_ulaw"},
    {"name": "codec", "codec": "g711_alaw"},
    {"name": "codec", "codec": "g722"},
    {"name": "codec", "codec": "g726", "bitrate_bps": {"choice": [16000, 24000, 32000, 40000]}},
    {"name": "codec", "codec": "gsm_fr"},
    {"name": "codec", "codec": "amr_nb", "bitrate_bps": {"choice": [4750, 12200]}},
    {"name": "codec", "codec": "opus", "bitrate_bps": [6000, 32000], "bandwidth": {"choice": ["narrowband", "wideband"]}},
    {"name": "codec", "codec": "mp3", "bitrate_bps": 16000},
    {"name": "codec", "codec": "aac"},
    {"name": "packet_loss", "model": "gilbert_elliott", "loss_rate": [0.05, 0.2], "mean_burst_frames": [1.5, 3],
     "concealment": "plc"},
    {"name": "packet_loss", "model": "bernoulli", "loss_rate": 0.1, "concealment": "silence"},
    {"name": "packet_loss", "loss_rate": 0.1, "concealment": "codec", "codec": "opus", "bitrate_bps": 12000},
    {"name": "agc", "target_dbov": [-24, -16], "release_s": {"loguniform": [0.2, 2.0]}},
    {"name": "device", "device": {"choice": ["handset", "headset", "speakerphone", "car_handsfree", "laptop"]}},
    {"name": "bandlimit", "band": "narrowband"},
    {"name": "bandlimit", "band": "wideband"},
    {"name": "limiter", "ceiling_dbfs": -30.0},
]
IDS = [f"{c['name']}-{c.get('codec', c.get('concealment', c.get('band', '')))}" for c in CONFIGS]


@pytest.mark.parametrize("spec", CONFIGS, ids=IDS)
def test_same_seed_same_params(spec, speech_short, make_ctx):
    e = build_effect(spec)
    ctx = make_ctx(speech_short)
    a = e.sample(np.random.default_rng(7), ctx)
    b = e.sample(np.random.default_rng(7), ctx)
    assert a == b and not isinstance(a, Skipped)


@pytest.mark.parametrize("spec", CONFIGS, ids=IDS)
def test_apply_is_pure_and_keeps_duration(spec, speech_short, make_ctx):
    e = build_effect(spec)
    params = e.sample(np.random.default_rng(3), make_ctx(speech_short))
    y1 = e.apply(speech_short, params)
    y2 = e.apply(speech_short, params)
    assert y1.samples.dtype == np.float32 and y1.samples.ndim == 1
    assert np.array_equal(y1.samples, y2.samples) and y1.sr == y2.sr
    assert abs(y1.duration_s - speech_short.duration_s) <= 1.0 / y1.sr
    assert np.isfinite(y1.samples).all()
    assert y1.sr != speech_short.sr or not np.array_equal(y1.samples, speech_short.samples)  # it did something


@pytest.mark.parametrize("spec", CONFIGS, ids=IDS)
def test_params_json_round_trip(spec, speech_short, make_ctx):
    e = build_effect(spec)
    params = e.sample(np.random.default_rng(11), make_ctx(speech_short))
    back = e.params_from_dict(json.loads(json.dumps(dataclasses.asdict(params))))
    assert back == params
    assert np.array_equal(e.apply(speech_short, back).samples, e.apply(speech_short, params).samples)
    json.dumps(e.summary(params))
    json.dumps(e.realized(speech_short, e.apply(speech_short, params), params))


@pytest.mark.parametrize("spec", CONFIGS, ids=IDS)
def test_p_zero_is_identity(spec, speech_short, make_ctx):
    e = build_effect({**spec, "p": 0.0})
    params = e.sample(np.random.default_rng(0), make_ctx(speech_short))
    assert isinstance(params, Skipped)
    out = e.apply(speech_short, params)
    assert out.sr == speech_short.sr and np.array_equal(out.samples, speech_short.samples)
    assert e.params_from_dict(json.loads(json.dumps(dataclasses.asdict(params)))) == params


@pytest.mark.parametrize("spec", CONFIGS, ids=IDS)
def test_unknown_key_is_a_config_error(spec):
    from synth.errors import ConfigError
    with pytest.raises(ConfigError, match="unknown key"):
        build_effect({**spec, "bogus_key": 1})
