"""MP3 encoder quality (LAME -q): a cheap encoder codes differently but keeps alignment, band and level;
the default renders exactly what synth rendered before the option existed."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from synth.audio import resample
from synth.channel import codecs as C
from synth.channel.base import build_effect, params_to_dict
from synth.errors import ConfigError

# sha256 of the codec effect's float32 output on the conftest speech (LibriSpeech 2412-153948-0000), computed
# on main before lame_quality existed. Keyed by the codec library: another FFmpeg/LAME codes other bytes.
BEFORE = {
    "PyAV 18.1.0 / FFmpeg 8.1.2": {
        8000: "a0d4fd779e1af9d5beb278301d4e17876dbf1e2d4c63ff4d4e356471bda9b630",
        16000: "8ca49ebb8542b4c3010b1dc0493d3161dc99f4fe64e3b4450f36ef2cafaafe2d",
    },
}


def _run(audio, **spec):
    e = build_effect({"name": "codec", "codec": "mp3", "bitrate_bps": 16000, "sample_rate_hz": 16000, **spec})
    p = e.sample(np.random.default_rng(0), None)
    return e, p, e.apply(audio, p)


def _band_edge_hz(x: np.ndarray, sr: int, fraction: float = 0.99) -> float:
    """Frequency below which ``fraction`` of the signal's energy lies."""
    power = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    return float(np.fft.rfftfreq(len(x), 1 / sr)[np.searchsorted(np.cumsum(power) / power.sum(), fraction)])


def _rms_db(x: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.asarray(x, np.float64) ** 2))


@pytest.mark.parametrize("rate", [8000, 16000])
def test_default_output_unchanged(rate, speech16k):
    version = C.backend_version(C.CODECS["mp3"])
    if version not in BEFORE:
        pytest.skip(f"hashes recorded for {sorted(BEFORE)}, this install runs {version}")
    _, p, out = _run(speech16k, sample_rate_hz=rate)
    assert p.lame_quality is None and "lame_quality" not in build_effect({"name": "codec"}).summary(p)
    assert hashlib.sha256(out.samples.tobytes()).hexdigest() == BEFORE[version][rate]


def test_default_is_lames_own_quality_3(speech16k):
    assert np.array_equal(_run(speech16k)[2].samples, _run(speech16k, lame_quality=3)[2].samples)


@pytest.mark.parametrize("quality", [0, 7])
def test_quality_changes_the_coding_not_alignment_band_or_level(quality, speech16k):
    _, _, default = _run(speech16k)
    _, p, out = _run(speech16k, lame_quality=quality)
    assert p.lame_quality == quality and out.sr == 16000 and len(out.samples) == len(speech16k.samples)
    pcm = C.to_pcm16(out.samples)
    assert not np.array_equal(pcm, C.to_pcm16(default.samples)), "encoder quality had no effect"
    ref = resample(speech16k.samples, 16000, out.sr)
    lag = C.xcorr_lag(ref, out.samples, max_lag=int(0.3 * out.sr))
    assert abs(lag) <= out.sr // 1000, f"q{quality}: residual delay {lag} samples"
    assert np.corrcoef(ref, out.samples)[0, 1] > 0.8
    # same LAME low-pass at 16 kbit/s (~5.5 kHz, nothing above 6 kHz) and level as the default encoder; the
    # bit allocation below it differs (q0 spends fewer bits above ~3.5 kHz), so the 99.9 % edge, not the 99 %
    assert abs(_band_edge_hz(out.samples, 16000, 0.999) - _band_edge_hz(default.samples, 16000, 0.999)) < 300
    assert _band_edge_hz(out.samples, 16000, 0.99999) < 6000
    assert abs(_rms_db(out.samples) - _rms_db(default.samples)) < 0.5


def test_quality_is_recorded_and_rerenders_from_the_recipe(speech16k):
    e, p, out = _run(speech16k, lame_quality={"choice": [2, 7]})
    d = params_to_dict(p)
    assert d["lame_quality"] in (2, 7) and e.summary(p)["lame_quality"] == d["lame_quality"]
    again = e.apply(speech16k, e.params_from_dict(d))
    assert np.array_equal(again.samples, out.samples)
    drawn = {e.sample(np.random.default_rng(s), None).lame_quality for s in range(20)}
    assert drawn == {2, 7}


def test_recipe_without_lame_quality_renders_the_default(speech16k):
    """Recipes written before the option existed have no lame_quality key: they re-render bit-exact."""
    e, p, out = _run(speech16k)
    d = params_to_dict(p)
    del d["lame_quality"]
    assert np.array_equal(e.apply(speech16k, e.params_from_dict(d)).samples, out.samples)


def test_non_mp3_codecs_in_a_choice_ignore_it():
    e = build_effect({"name": "codec", "codec": {"choice": ["mp3", "g711_ulaw"]}, "lame_quality": 7})
    ps = [e.sample(np.random.default_rng(s), None) for s in range(12)]
    assert {p.lame_quality for p in ps if p.codec == "mp3"} == {7}
    assert {p.lame_quality for p in ps if p.codec != "mp3"} == {None}


@pytest.mark.parametrize("spec,match", [
    ({"codec": "mp3", "lame_quality": 10}, r"outside the allowed range \[0, 9\]"),
    ({"codec": "mp3", "lame_quality": 2.5}, "integer 0..9"),
    ({"codec": "mp3", "lame_quality": {"uniform": [0, 9]}}, "integer 0..9"),
    ({"codec": "amr_nb", "lame_quality": 7}, "applies to mp3 only"),
])
def test_bad_lame_quality_is_a_config_error(spec, match):
    with pytest.raises(ConfigError, match=match):
        build_effect({"name": "codec", **spec})
