"""A ~30 s two-speaker telephone call made from corpus speech through a KNOWN channel, so a round trip has a
truth to land on: utterances of two corpus speakers alternate (gaps, one overlap), the mix is band-passed
200-3600 Hz at 8 kHz (one 2.2 s pause: a thin noise bank), levelled to -30 dBov (P.56), real recorded noise (band-passed the same way, as far-end
noise passes the channel) is added at 20 dB SNR, and the call is coded with G.711 mu-law (libsndfile) and
stored as 8 kHz PCM16 with its RTTM.

    python tests/profiles/known_channel.py /tmp/known_call     # writes call/<name>.wav and rttm/<name>.rttm
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from synth.audio import active_speech_level, load, resample
from synth.channel import codecs as C

CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus").resolve()
SPEAKERS = ("librivox_sense_sensibility_reader", "cmu_arctic_aew")
NOISE = "noise/speech_commands_running_tap.wav"
TRUTH = {"level_dbov": -30.0, "snr_db": 20.0, "band_hz": (200.0, 3600.0), "codec": "g711_ulaw", "sr": 8000}


def make_call(out: Path, name: str = "call01", duration_s: float = 30.0) -> tuple[Path, Path, dict]:
    """Write ``out/call/<name>.wav`` and ``out/rttm/<name>.rttm``; returns (audio folder, rttm folder, truth)."""
    sr = 16000
    utts = [[load(p, sr) for p in sorted((CORPUS / "speech" / s).iterdir()) if p.suffix in (".wav", ".flac")]
            for s in SPEAKERS]
    mix = np.zeros(int((duration_s + 30) * sr), np.float64)
    t, k, turns = 0.3, 0, []
    offsets = [0.35, -0.6, 0.5, 2.2, 0.8, -0.4, 0.3, 0.6]  # gaps (>0), overlaps (<0) between turns, s; one 2.2 s hold
    while t < duration_s - 1.0:
        spk = k % 2
        x = utts[spk][(k // 2) % len(utts[spk])]
        x = x[: int((duration_s - 0.3 - t) * sr)]
        a = int(t * sr)
        mix[a: a + len(x)] += x
        turns.append((spk, t, len(x) / sr))
        t += len(x) / sr + offsets[k % len(offsets)]
        k += 1
    mix = mix[: int(duration_s * sr)]
    x8 = resample(mix.astype(np.float32), sr, TRUTH["sr"]).astype(np.float64)
    band = butter(6, TRUTH["band_hz"], btype="bandpass", fs=TRUTH["sr"], output="sos")
    speech = sosfiltfilt(band, x8)
    speech *= 10 ** ((TRUTH["level_dbov"] - active_speech_level(speech, TRUTH["sr"]).level_dbov) / 20)
    noise = load(CORPUS / NOISE, TRUTH["sr"]).astype(np.float64)
    noise = sosfiltfilt(band, np.resize(noise, len(speech)))
    noise *= 10 ** ((TRUTH["level_dbov"] - TRUTH["snr_db"] - 10 * np.log10(np.mean(noise ** 2))) / 20)
    spec = C.CODECS[TRUTH["codec"]]
    coded = C.roundtrip(spec, C.to_pcm16((speech + noise).astype(np.float32)), TRUTH["sr"], spec.default_bitrate_bps)
    (out / "call").mkdir(parents=True, exist_ok=True)
    (out / "rttm").mkdir(parents=True, exist_ok=True)
    sf.write(out / "call" / f"{name}.wav", C.fit_length(coded, len(speech)), TRUTH["sr"], subtype="PCM_16")
    (out / "rttm" / f"{name}.rttm").write_text("".join(
        f"SPEAKER {name} 1 {s:.3f} {d:.3f} <NA> <NA> {SPEAKERS[spk]} <NA> <NA>\n" for spk, s, d in turns))
    return out / "call", out / "rttm", dict(TRUTH)


if __name__ == "__main__":
    print(make_call(Path(sys.argv[1])))
