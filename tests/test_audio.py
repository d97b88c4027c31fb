import numpy as np
import soundfile as sf

from synth.audio import Audio, LevelMeter, active_speech_level, load, power_db, resample, write_audio


def test_p56_level_of_a_tone_and_of_speech_with_silence(corpus_root):
    sr = 16000
    tone = 0.1 * np.sin(2 * np.pi * 440 * np.arange(4 * sr) / sr)
    assert abs(active_speech_level(tone, sr).level_dbov - 20 * np.log10(0.1 / np.sqrt(2))) < 0.2
    speech = load(corpus_root / "speech/librispeech_2412/2412-153948-0000.flac", sr)
    padded = np.concatenate([speech, np.zeros(len(speech))])  # doubling the length with silence
    a, b = active_speech_level(speech, sr), active_speech_level(padded, sr)
    assert abs(a.level_dbov - b.level_dbov) < 0.3       # active level ignores the added silence
    assert abs(b.activity - a.activity / 2) < 0.05       # activity halves
    assert power_db(padded) < power_db(speech) - 2.9     # plain power drops by 3 dB


def test_a_scaled_meter_gives_the_level_of_the_scaled_speech(corpus_root):
    """The talker level step hands its P.56 measurement on, scaled, instead of the SNR step measuring
    again: the level it reports must be the level a fresh measurement of the scaled samples gives."""
    sr = 16000
    speech = load(corpus_root / "speech/librispeech_2412/2412-153948-0000.flac", sr)
    meter = LevelMeter.of(speech, sr)
    assert meter.level() == active_speech_level(speech, sr)
    for gain_db in (-23.7, -6.0, 0.0, 4.2, 17.3):
        g = 10 ** (gain_db / 20)
        scaled, fresh = meter.scaled(g).level(), active_speech_level((speech * g).astype(np.float32), sr)
        assert abs(scaled.level_dbov - fresh.level_dbov) < 1e-4, gain_db        # dB
        # P.56 moves with the gain only roughly (its thresholds are fixed), so the level must be re-read
        assert abs(scaled.level_dbov - meter.level().level_dbov - gain_db) < 0.15
        assert abs(scaled.activity - fresh.activity) < 1e-3
    assert not np.isfinite(LevelMeter.of(np.zeros(sr, np.float32), sr).level().level_dbov)  # silence: -inf
    assert Audio(speech, sr).with_samples(speech * 2).meter is None  # new samples drop what was known


def test_load_downmixes_and_resamples_any_format(corpus_root):
    x = load(corpus_root / "rir/openair_arthur_sykes_rymer_auditorium_bformat.wav", 16000, channel=0)
    assert x.dtype == np.float32 and x.ndim == 1 and abs(len(x) / 16000 - 1.5) < 1e-3
    jfk = load(corpus_root / "speech/jfk/jfk.flac", 8000)  # 44.1 kHz stereo 24-bit
    assert abs(len(jfk) / 8000 - 11.0) < 1e-3


def test_resample_adds_no_delay(corpus_root):
    x = load(corpus_root / "speech/cmu_arctic_aew/arctic_a0001.wav", 16000)
    y = resample(resample(x, 16000, 8000), 8000, 16000)
    c = np.correlate(y[4000:20000], x[4000:20000], "full")
    assert abs(np.argmax(c) - (16000 - 1)) <= 0


def test_write_audio_is_atomic_tagged_and_reproducible(tmp_path):
    x = 0.1 * np.sin(np.arange(16000) / 5).astype(np.float32)
    for name in ("a.flac", "b.flac"):
        write_audio(tmp_path / name, x, 16000, "flac", {"comment": "synthetic=true", "software": "synth"})
    assert (tmp_path / "a.flac").read_bytes() == (tmp_path / "b.flac").read_bytes()
    assert not list(tmp_path.glob("*.tmp"))
    with sf.SoundFile(tmp_path / "a.flac") as f:
        assert f.comment == "synthetic=true" and f.subtype == "PCM_16"
