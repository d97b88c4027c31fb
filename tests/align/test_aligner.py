"""pocketsphinx forced alignment on real speech: words in order, inside the audio, accurate, reproducible."""

import numpy as np
import pytest
import soundfile as sf

from synth.align import quality
from synth.align.aligner import Aligner
from synth.align.reference import boundary_errors, speech_commands_set, word_span

from helpers import CORPUS

ARCTIC = CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav"
JFK = CORPUS / "speech/jfk/jfk.flac"
TEL = CORPUS / "telephone/audio/00000/WUWII00000_006.wav"


@pytest.fixture(scope="module")
def aligner():
    return Aligner()


def _energy_edges(x, sr, rel_db=-35.0):
    """First and last 10 ms frame within ``rel_db`` of the loudest one."""
    n = sr // 100
    e = 10 * np.log10(np.mean(x[: len(x) // n * n].reshape(-1, n) ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(e > e.max() + rel_db)
    return on[0] / 100, (on[-1] + 1) / 100


def test_real_speech_words_in_order_inside_the_audio_and_monotonic(aligner):
    x, sr = sf.read(JFK, dtype="float32")
    x = x.mean(axis=1)  # 44.1 kHz stereo 24-bit: resampled inside
    text = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country."
    a = aligner.align(x, sr, text)
    assert a.failure is None and not quality.problems(a)
    assert [w["word"] for w in a.words] == ["And", "so", "my", "fellow", "Americans", "ask", "not", "what", "your",
                                            "country", "can", "do", "for", "you", "ask", "what", "you", "can", "do",
                                            "for", "your", "country"]
    dur = len(x) / sr
    for w, nxt in zip(a.words, a.words[1:] + [None]):
        assert 0 <= w["start"] < w["end"] <= dur
        if nxt:
            assert w["end"] <= nxt["start"]


def test_first_and_last_word_edges_match_the_speech_edges_of_a_studio_recording(aligner):
    x, sr = sf.read(ARCTIC, dtype="float32")
    a = aligner.align(x, sr, "Author of the danger trail, Philip Steels, etc.")
    on, off = _energy_edges(x, sr)
    assert abs(a.words[0]["start"] - on) < 0.05 and abs(a.words[-1]["end"] - off) < 0.05


def test_narrowband_telephone_audio_is_upsampled_and_aligned(aligner):
    x, sr = sf.read(TEL, dtype="float32")
    assert sr == 8000
    a = aligner.align(x, sr, "{breath} this is a blah blah blah and then I am invoking a uh service by saying "
                             "Operator [prices paid]")
    assert a.failure is None
    assert a.words[-1]["word"] == "Operator"
    # the call's hand-marked keyword span (6.572-7.196 s)
    assert abs(a.words[-1]["start"] - 6.572) < 0.1 and abs(a.words[-1]["end"] - 7.196) < 0.1
    assert [u.unit for u in a.units][0] == "[NOISE]"


def test_alignment_does_not_depend_on_what_the_decoder_saw_before(aligner):
    x, sr = sf.read(ARCTIC, dtype="float32")
    y, sry = sf.read(TEL, dtype="float32")
    text = "author of the danger trail philip steels etc"
    first = Aligner().align(x, sr, text)
    aligner.align(y, sry, "this is a blah blah blah")
    again = aligner.align(x, sr, text)
    assert first.words == again.words and first.units == again.units


def test_median_boundary_error_on_speech_commands_concatenations_is_under_50_ms(aligner):
    refs = speech_commands_set(CORPUS, 12, seed=11, snr_db=30.0)
    errors = []
    for r in refs:
        a = aligner.align(r.samples, r.sr, r.text)
        assert a.failure is None
        errors += boundary_errors(r.words, a.words)
    assert len(errors) >= 2 * 2 * 12
    assert np.median(np.abs(errors)) < 0.050


def test_word_span_finds_a_tone_burst_in_noise():
    sr = 16000
    rng = np.random.default_rng(0)
    x = 0.001 * rng.standard_normal(sr).astype(np.float32)
    t = np.arange(int(0.3 * sr)) / sr
    x[int(0.4 * sr): int(0.7 * sr)] += 0.3 * np.sin(2 * np.pi * 300 * t)
    s, e = word_span(x, sr)
    assert abs(s - 0.4) < 0.01 and abs(e - 0.7) < 0.01


def test_wrong_transcript_is_not_passed(aligner):
    x, sr = sf.read(ARCTIC, dtype="float32")
    a = aligner.align(x, sr, "the quick brown fox jumps over the lazy dog")
    assert a.failure is not None or quality.problems(a)
