"""Codec effect: G.711 against an independent table implementation, delay on real speech, rates,
transcoding chains, capability probe and errors."""

from __future__ import annotations

import numpy as np
import pytest

from synth.audio import Audio, resample
from synth.channel import codecs as C
from synth.channel.base import build_effect
from synth.errors import ConfigError

# ------------------------------------------------------------------ independent G.711 reference
# Built from the ITU-T G.711 segment tables (Table 1 A-law, Table 2 mu-law), not from any library.
# G.711 quantises 13-bit (A-law) / 14-bit (mu-law) uniform PCM given as sign and magnitude; a 16-bit
# sample's magnitude is truncated to that resolution (|x| >> 3 or >> 2).


def _decision_levels(law: str) -> np.ndarray:
    """The 127 decision values separating the 128 magnitude codes (segment e = 0..7, step m = 0..15)."""
    if law == "ulaw":  # mu-law: x_(e,m) upper decision value = ((2m + 34) << e) - 33 (14-bit units)
        d = [((2 * m + 34) << e) - 33 for e in range(8) for m in range(16)]
    else:              # A-law: 2m + 2 in segment 0, (2m + 34) << (e - 1) above (13-bit units)
        d = [(2 * m + 2) if e == 0 else ((2 * m + 34) << (e - 1)) for e in range(8) for m in range(16)]
    return np.array(d[:-1])


def _reconstruction(law: str) -> np.ndarray:
    """Decoder output (16-bit) for magnitude codes 0..127: the middle of each decision interval."""
    if law == "ulaw":
        y = [(((2 * m + 33) << e) - 33) * 4 for e in range(8) for m in range(16)]
    else:
        y = [((2 * m + 1) if e == 0 else ((2 * m + 33) << (e - 1))) * 8 for e in range(8) for m in range(16)]
    return np.array(y)


def ref_g711_encode(x: np.ndarray, law: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    mag = np.abs(x) >> (2 if law == "ulaw" else 3)
    idx = np.searchsorted(_decision_levels(law), mag, side="right")   # segment << 4 | step
    if law == "ulaw":  # sign bit 1 = negative, then every bit inverted
        return ((np.where(x < 0, 0x80, 0) | idx) ^ 0xFF).astype(np.uint8)
    return ((np.where(x >= 0, 0x80, 0) | idx) ^ 0x55).astype(np.uint8)  # sign 1 = positive, even bits inverted


def ref_g711_decode(codes: np.ndarray, law: str) -> np.ndarray:
    c = codes.astype(np.int64) ^ (0xFF if law == "ulaw" else 0x55)
    neg = (c & 0x80) != 0 if law == "ulaw" else (c & 0x80) == 0
    y = _reconstruction(law)[c & 0x7F]
    return np.where(neg, -y, y)


def test_reference_matches_g711_table_anchors():
    # spot values from the G.711 tables: segment ends and the largest decision values
    assert list(_decision_levels("ulaw")[[0, 14, 15, 16, 126]]) == [1, 29, 31, 35, 7903]
    assert list(_decision_levels("alaw")[[0, 15, 16, 31, 126]]) == [2, 32, 34, 64, 3968]
    assert ref_g711_encode(np.array([0]), "ulaw")[0] == 0xFF and ref_g711_encode(np.array([0]), "alaw")[0] == 0xD5


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_g711_bit_exact_for_every_16bit_input(law):
    x = np.arange(-32768, 32768, dtype=np.int16)
    got = np.frombuffer(C.g711_encode(x, law), dtype=np.uint8)
    assert len(got) == len(x)
    mismatch = np.flatnonzero(got != ref_g711_encode(x, law))
    assert mismatch.size == 0, f"{mismatch.size} inputs differ, first: {x[mismatch[:5]]}"


@pytest.mark.parametrize("law", ["ulaw", "alaw"])
def test_g711_effect_equals_reference_codec_on_speech(law, speech16k):
    """Encode + decode through the effect equals encode + decode by the table reference, sample for sample."""
    e = build_effect({"name": "codec", "codec": f"g711_{law}"})
    params = e.sample(np.random.default_rng(0), None)
    out = e.apply(speech16k, params)
    pcm = C.to_pcm16(resample(speech16k.samples, 16000, 8000))
    expect = ref_g711_decode(ref_g711_encode(pcm, law), law)
    assert out.sr == 8000
    assert np.array_equal(np.round(out.samples.astype(np.float64) * 32768).astype(np.int64), expect)


# ------------------------------------------------------------------------------- delay on speech
DELAY_CASES = [
    ("g711_ulaw", None, None), ("g711_alaw", None, None), ("g722", None, None),
    ("g726", 16000, None), ("g726", 24000, None), ("g726", 32000, None), ("g726", 40000, None),
    ("gsm_fr", None, None), ("opus", 8000, "narrowband"), ("opus", 6000, "narrowband"),
    ("opus", 24000, "wideband"), ("mp3", 16000, None), ("aac", 32000, None),
] + [("amr_nb", m, None) for m in (4750, 5150, 5900, 6700, 7400, 7950, 10200, 12200)]


@pytest.mark.parametrize("codec,bitrate,bandwidth", DELAY_CASES, ids=[f"{c}-{b}" for c, b, _ in DELAY_CASES])
def test_codec_delay_within_1ms_on_real_speech(codec, bitrate, bandwidth, speech16k):
    spec = {"name": "codec", "codec": codec}
    if bitrate:
        spec["bitrate_bps"] = bitrate
    if bandwidth:
        spec["bandwidth"] = bandwidth
    e = build_effect(spec)
    params = e.sample(np.random.default_rng(0), None)
    out = e.apply(speech16k, params)
    ref = resample(speech16k.samples, 16000, out.sr)
    assert len(out.samples) == len(ref) and out.sr == params.sr_hz
    lag = C.xcorr_lag(ref, out.samples, max_lag=int(0.3 * out.sr))
    assert abs(lag) <= out.sr // 1000, f"{codec}: residual delay {lag} samples ({1000 * lag / out.sr:.2f} ms)"
    # the peak is a real match, not noise: normalised correlation at that lag
    r = np.corrcoef(ref, out.samples)[0, 1]
    assert r > 0.5, f"{codec}: correlation {r:.2f} after alignment"


def test_uncompensated_delays_are_recorded(speech16k):
    """The measured delays that are removed: MP3 (LAME + decoder) and AAC priming are far above 1 ms."""
    for codec, min_ms in (("mp3", 50), ("aac", 50), ("amr_nb", 2)):
        p = build_effect({"name": "codec", "codec": codec}).sample(np.random.default_rng(0), None)
        assert p.delay_s * 1000 > min_ms and p.delay_samples == round(p.delay_s * p.sr_hz)


def test_transcoding_chain_keeps_alignment_and_rate(speech16k):
    chain = [build_effect(s) for s in ({"name": "codec", "codec": "amr_nb", "bitrate_bps": 12200},
                                       {"name": "codec", "codec": "g711_ulaw"},
                                       {"name": "codec", "codec": "mp3", "bitrate_bps": 16000})]
    a = speech16k
    for e in chain:
        a = e.apply(a, e.sample(np.random.default_rng(0), None))
    ref = resample(speech16k.samples, 16000, 8000)
    assert a.sr == 8000 and len(a.samples) == len(ref)
    assert abs(C.xcorr_lag(ref, a.samples, max_lag=2400)) <= 8


def test_amr_decoder_dc_is_removed_only_when_asked(speech16k):
    """opencore-amr's AMR-NB decoder adds about -3.5 LSB of DC (-1e-4 of full scale) to real speech; real
    cell-phone calls through a vocoder read |DC| ~ 2e-6. ``remove_added_dc`` (set by a fitted vocoder hop)
    takes the added offset out and changes nothing else; by default the decoder's output is kept as it is."""
    x = speech16k.samples[:48000] * np.float32(0.3)
    ref_dc = float(np.mean(resample(x, 16000, 8000), dtype=np.float64))
    out = {}
    for flag in (False, True):
        e = build_effect({"name": "codec", "codec": "amr_nb", "bitrate_bps": 12200, "remove_added_dc": flag})
        out[flag] = e.apply(Audio(x, 16000), e.sample(np.random.default_rng(0), None)).samples
    added = float(np.mean(out[False], dtype=np.float64)) - ref_dc
    assert -1.5e-4 < added < -0.5e-4                                      # the decoder's offset, as measured
    assert abs(float(np.mean(out[True], dtype=np.float64)) - ref_dc) < 2e-6
    np.testing.assert_allclose(out[True] - out[False], -added, atol=1e-6)   # a constant shift, nothing else


def test_rates_narrowband_and_wideband():
    rate = lambda spec: build_effect({"name": "codec", **spec}).sample(np.random.default_rng(0), None).sr_hz
    assert rate({"codec": "amr_nb"}) == 8000 and rate({"codec": "gsm_fr"}) == 8000
    assert rate({"codec": "g722"}) == 16000
    assert rate({"codec": "opus", "bandwidth": "wideband"}) == 16000
    assert rate({"codec": "opus", "bandwidth": "narrowband"}) == 8000
    assert rate({"codec": "mp3", "sample_rate_hz": 16000}) == 16000


def test_params_record_provenance():
    p = build_effect({"name": "codec", "codec": "amr_nb", "bitrate_bps": 4750}).sample(np.random.default_rng(0), None)
    assert p.mode == "MR475" and p.backend == "pyav:libopencore_amrnb"
    assert "PyAV" in p.library_version and "FFmpeg" in p.library_version
    g = build_effect({"name": "codec", "codec": "gsm_fr"}).sample(np.random.default_rng(0), None)
    assert "libsndfile" in g.library_version


# ------------------------------------------------------------------------------ errors and probe
@pytest.mark.parametrize("spec,match", [
    ({"codec": "ilbc_typo"}, "unknown codec"),
    ({"codec": "amr_nb", "bitrate_bps": 5000}, "not a amr_nb bitrate"),
    ({"codec": "amr_nb", "bitrate_bps": [4750, 12200]}, "discrete modes"),
    ({"codec": "g726", "bitrate_bps": 48000}, "allowed: 16000, 24000, 32000, 40000"),
    ({"codec": "opus", "bitrate_bps": [4000, 20000]}, "outside opus's range"),
    ({"codec": "opus", "bandwidth": "superwideband"}, "narrowband, wideband"),
    ({"codec": "mp3", "sample_rate_hz": 9000}, "not a mp3 rate"),
])
def test_bad_config_raises_config_error(spec, match):
    with pytest.raises(ConfigError, match=match):
        build_effect({"name": "codec", **spec})


def test_unavailable_codec_fails_at_construction_with_how_to_get_it(monkeypatch):
    monkeypatch.setattr(C, "availability", lambda spec: (False, "no encoder") if spec.name == "amr_nb" else (True, ""))
    with pytest.raises(ConfigError, match=r"'amr_nb' is not available.*pip install"):
        build_effect({"name": "codec", "codec": {"choice": ["g711_ulaw", "amr_nb"]}})


def test_codecs_missing_from_the_wheels_are_reported():
    rows = {r["codec"]: r for r in C.probe()}
    for name in ("g711_ulaw", "g711_alaw", "g722", "g726", "gsm_fr", "amr_nb", "opus", "mp3", "aac"):
        assert rows[name]["available"], rows[name]
    if not rows["amr_wb"]["available"]:
        with pytest.raises(ConfigError, match="amr_wb.*libvo-amrwbenc"):
            build_effect({"name": "codec", "codec": "amr_wb"})


def test_synth_codecs_prints_a_table(capsys):
    from synth.channel.codec import main
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "amr_nb" in out and "MR" not in out.splitlines()[0] and "backend" in out.splitlines()[0]
    assert main(["--json"]) == 0
