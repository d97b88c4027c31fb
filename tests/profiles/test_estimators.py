"""Estimator accuracy on ground-truth items built from real corpus speech and real recorded noise.

Issue 5 "Done when": median |SNR error| <= 2 dB, level error <= 1 dB, bandwidth class right on >= 95 %
of items, clipping fraction within 10 % relative. Items: tests/profiles/groundtruth.py (36 items, SNR
0-30 dB, levels -40..-15 dBov, half narrowband, 8 hard-clipped).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from synth.audio import load
from synth.profiles import estimate as est
from synth.profiles.vad import detect_speech, silero_available

from .groundtruth import accuracy, build_items


@pytest.fixture(scope="module")
def acc(corpus_root):
    return accuracy(build_items(36, seed=0, n_clipped=8))


def test_snr_median_abs_error_within_2db(acc):
    assert acc["snr_median_abs_err_db"] <= 2.0, acc["snr_median_abs_err_db"]


def test_level_median_abs_error_within_1db(acc):
    assert acc["level_median_abs_err_db"] <= 1.0, acc["level_median_abs_err_db"]


def test_bandwidth_class_right_on_95_percent(acc):
    assert acc["bandwidth_accuracy"] >= 0.95
    assert {r["bw_true"] for r in acc["rows"]} == {"narrowband", "wideband"}


def test_clipping_fraction_within_10_percent_relative(acc):
    clipped = [r for r in acc["rows"] if r["clip_true"] > 0]
    assert len(clipped) == 8
    for r in clipped:
        assert abs(r["clip_est"] - r["clip_true"]) <= 0.1 * r["clip_true"], r
    assert acc["clip_false_positives"] == 0


def test_items_span_the_required_ranges(acc):
    snr = [r["snr_true"] for r in acc["rows"]]
    lvl = [r["level_true"] for r in acc["rows"]]
    assert min(snr) < 5 and max(snr) > 25
    assert min(lvl) < -35 and max(lvl) > -20


def test_silero_backend_is_used_and_finds_the_speech(corpus_root):
    assert silero_available()
    x = load(corpus_root / "speech/librispeech_2412/2412-153948-0000.flac", 16000)
    pad = np.zeros(16000, np.float32)
    v = detect_speech(np.concatenate([pad, x, pad]), 16000)
    assert v.backend == "silero"
    segs = v.segments()
    end = 1.0 + len(x) / 16000
    assert 0.9 <= segs[0][0] <= 1.6        # the file itself starts with ~0.4 s of silence
    assert end - 0.8 <= segs[-1][1] <= end + 0.2
    assert v.mask()[: int(0.9 / v.frame_s)].sum() == 0
    # the energy fallback agrees on most frames of clean padded speech
    e = detect_speech(np.concatenate([pad, x, pad]), 16000, backend="energy")
    assert e.backend == "energy"
    assert np.mean(e.mask() == v.mask()) > 0.8


def test_vad_resamples_other_rates(corpus_root):
    x = load(corpus_root / "speech/vctk_p286/p286_011.wav", 48000)
    v = detect_speech(x, 48000)
    assert len(v.probs) == pytest.approx(len(x) / 48000 / v.frame_s, abs=1)
    assert v.mask().mean() > 0.4


def test_wada_table_floor_is_gaussian_noise_and_clean_speech_reads_high(corpus_root, rng):
    # G(SNR=-20 dB) in the table equals the statistic of pure Gaussian noise (0.4097)
    assert est.wada_snr(rng.normal(size=100_000)) <= -10
    x = load(corpus_root / "speech/cmu_arctic_aew/arctic_a0001.wav", 16000)
    clean = est.wada_snr(x)
    noisy = est.wada_snr(x + rng.normal(0, np.sqrt(np.mean(x ** 2)), len(x)))  # 0 dB whole-signal SNR
    assert clean > 20
    assert -4 < noisy < 4


def test_dc_offset(rng):
    x = (0.1 * rng.normal(size=32000) + 0.01).astype(np.float32)
    assert est.estimate_recording(x, 16000)["dc_offset"] == pytest.approx(0.01, abs=1e-3)


def test_g711_mu_law_grid_is_recognised(corpus_root, tmp_path):
    from synth.profiles.fit import read_recording

    x = load(corpus_root / "speech/cmu_arctic_aew/arctic_a0001.wav", 8000)
    p = tmp_path / "ulaw_decoded.wav"
    buf = io.BytesIO()
    sf.write(buf, x, 8000, format="WAV", subtype="ULAW")
    buf.seek(0)
    sf.write(p, sf.read(buf, dtype="float32")[0], 8000, subtype="PCM_16")  # decoded G.711 kept as PCM16
    y, sr, raw = read_recording(p)
    r = est.estimate_recording(y, sr, raw_pcm16=raw)
    assert r["codec_guess"].startswith("G.711 mu-law")
    assert r["bandwidth_class"] == "narrowband"
    # plain 8 kHz PCM is not on the grid
    q = tmp_path / "pcm.wav"
    sf.write(q, x, 8000, subtype="PCM_16")
    y, sr, raw = read_recording(q)
    assert est.estimate_recording(y, sr, raw_pcm16=raw)["codec_guess"].startswith("narrowband telephony")


def _mp3_roundtrip(x: np.ndarray, sr: int, bitrate: int) -> np.ndarray:
    """Encode with LAME (PyAV, in-process) and decode: the real MP3 low-pass, not an imitation."""
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        st = out.add_stream("libmp3lame", rate=sr, layout="mono")
        st.bit_rate = bitrate
        fr = av.AudioFrame.from_ndarray(np.asarray(x, np.float32)[None, :], format="flt", layout="mono")
        fr.sample_rate = sr
        for p in list(st.encode(fr)) + list(st.encode(None)):
            out.mux(p)
    buf.seek(0)
    with av.open(buf) as inp:
        return np.concatenate([f.to_ndarray().reshape(-1) for f in inp.decode(audio=0)]).astype(np.float32)


def test_fullband_and_real_mp3_lowpass(corpus_root):
    x = load(corpus_root / "speech/vctk_p286/p286_011.wav", 48000)
    full = est.estimate_recording(x, 48000)
    assert full["bandwidth_class"] == "fullband"
    assert full["codec_guess"] == "cannot tell"
    r = est.estimate_recording(_mp3_roundtrip(x, 48000, 64000), 48000)   # LAME low-passes ~16 kHz at 64 kbit/s
    assert r["bandwidth_class"] == "fullband"
    assert 14000 <= r["effective_bandwidth_hz"] <= 18000
    assert r["codec_guess"].startswith("MP3/AAC-like low-pass at 1")
    w = load(corpus_root / "speech/librispeech_2412/2412-153948-0000.flac", 16000)
    r = est.estimate_recording(_mp3_roundtrip(w, 16000, 16000), 16000)   # ~5.5 kHz at 16 kbit/s
    assert r["bandwidth_class"] == "wideband"
    assert r["codec_guess"].startswith("MP3/AAC-like low-pass at 5")


def test_noise_shape_tilt_sign(rng):
    """Brown-ish (low-frequency heavy) noise has a negative tilt, white noise about 0 dB/octave."""
    white = rng.normal(size=16000 * 4)
    brown = np.cumsum(white)
    brown -= np.convolve(brown, np.ones(400) / 400, mode="same")
    f, lw = est.long_term_spectrum(white, 16000, None, 0.032)
    f, lb = est.long_term_spectrum(brown, 16000, None, 0.032)
    tw = est.noise_shape(f, lw)["noise_tilt_db_per_oct"]
    tb = est.noise_shape(f, lb)["noise_tilt_db_per_oct"]
    assert 1.0 < tw < 5.0   # white noise: +3 dB/octave in octave bands (band width doubles)
    assert tb < -2.0
