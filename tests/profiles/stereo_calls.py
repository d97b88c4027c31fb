"""Two-party stereo call recordings with a known truth per channel, made from real material: one party per
channel (customer left, agent right) as call centers record them. Each call's two talkers are two different
../shared/corpus speakers whose utterances alternate in turns (gaps, some overlaps); each channel is that
party's speech levelled to its own P.56 level plus its own real recorded noise at its own SNR, band-passed
300-3400 Hz at 8 kHz (the noise passed the phone line too), coded with G.711 mu-law (libsndfile) and stored
as 8 kHz PCM16 stereo, with an RTTM of the turns placed. Levels and SNRs vary from call to call around
their nominal values (SD ``SPREAD_DB``), so a folder of calls is a population, not one call repeated.

    python tests/profiles/stereo_calls.py /tmp/stereo_calls 8     # writes call/<name>.wav and rttm/<name>.rttm
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, sosfiltfilt

from synth.audio import active_speech_level, load
from synth.channel import codecs as C
from synth.rng import item_rng

CORPUS = (Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus").resolve()
SR = 8000
# channel 0: the customer (caller), channel 1: the agent; each with its own talkers, level, SNR and noise
LEGS = ("customer", "agent")
SPEAKERS = {"customer": ("librivox_sense_sensibility_reader", "librispeech_2412", "cmusphinx_cards"),
            "agent": ("librispeech_3436", "cmu_arctic_axb", "librispeech_198", "cmu_arctic_aew")}
NOISE = {"customer": ("noise/speech_commands_doing_the_dishes.wav", "noise/speech_commands_running_tap.wav"),
         "agent": ("noise/speech_commands_exercise_bike.wav",)}
LEVEL_DBOV = {"customer": -20.0, "agent": -32.0}
SNR_DB = {"customer": 12.0, "agent": 30.0}
SPREAD_DB = 3.0
BAND_HZ = (300.0, 3400.0)
MAX_TURN_S = 8.0           # a longer utterance is cut there (a turn of at most 8 s)


def _utterances(speaker: str) -> list[np.ndarray]:
    folder = CORPUS / "speech" / speaker
    return [load(p, SR) for p in sorted(folder.iterdir()) if p.suffix in (".wav", ".flac")]


def make_call(out: Path, name: str, seed: int = 0, n_turns: int = 6) -> dict:
    """Write ``out/call/<name>.wav`` and ``out/rttm/<name>.rttm``; returns the call's truth
    (per leg: talker, nominal level_dbov and snr_db; the turns placed)."""
    rng = item_rng(seed, name, "stereo-call")
    talkers = {leg: SPEAKERS[leg][int(rng.integers(len(SPEAKERS[leg])))] for leg in LEGS}
    utts = {leg: _utterances(talkers[leg]) for leg in LEGS}
    nxt = {leg: int(rng.integers(len(utts[leg]))) for leg in LEGS}
    placed, t, leg_i = [], float(rng.uniform(0.3, 0.8)), int(rng.integers(2))
    for _ in range(n_turns):
        leg = LEGS[leg_i]
        x = utts[leg][nxt[leg] % len(utts[leg])][: int(MAX_TURN_S * SR)]
        nxt[leg] += 1
        placed.append((leg, t, x))
        # next turn: a gap of 0.15-1.0 s, or (a quarter of the switches) an overlap of 0.1-0.5 s
        t += len(x) / SR + (-float(rng.uniform(0.1, 0.5)) if rng.uniform() < 0.25 else float(rng.uniform(0.15, 1.0)))
        leg_i = 1 - leg_i
    n = int((max(s + len(x) / SR for _, s, x in placed) + float(rng.uniform(0.4, 1.0))) * SR)
    band = butter(6, BAND_HZ, btype="bandpass", fs=SR, output="sos")
    truth = {"name": name, "legs": {}, "turns": [(leg, round(s, 3), round(s + len(x) / SR, 3)) for leg, s, x in placed]}
    channels = []
    for leg in LEGS:
        speech = np.zeros(n)
        for who, s, x in placed:
            if who == leg:
                a = int(round(s * SR))
                speech[a: a + len(x)] += x[: n - a]
        speech = sosfiltfilt(band, speech)
        level = LEVEL_DBOV[leg] + float(rng.normal(0.0, SPREAD_DB))
        snr = SNR_DB[leg] + float(rng.normal(0.0, SPREAD_DB))
        speech *= 10 ** ((level - active_speech_level(speech, SR).level_dbov) / 20)
        src = NOISE[leg][int(rng.integers(len(NOISE[leg])))]
        noise = load(CORPUS / src, SR).astype(np.float64)
        off = int(rng.integers(len(noise)))
        noise = sosfiltfilt(band, np.resize(np.roll(noise, -off), n))
        noise *= 10 ** ((level - snr - 10 * np.log10(np.mean(noise ** 2))) / 20)
        spec = C.CODECS["g711_ulaw"]
        coded = C.roundtrip(spec, C.to_pcm16((speech + noise).astype(np.float32)), SR, spec.default_bitrate_bps)
        channels.append(C.fit_length(coded, n))
        truth["legs"][leg] = {"talker": talkers[leg], "noise": src, "level_dbov": level, "snr_db": snr}
    (out / "call").mkdir(parents=True, exist_ok=True)
    (out / "rttm").mkdir(parents=True, exist_ok=True)
    sf.write(out / "call" / f"{name}.wav", np.stack(channels, axis=1), SR, subtype="PCM_16")
    (out / "rttm" / f"{name}.rttm").write_text("".join(
        f"SPEAKER {name} 1 {s:.3f} {e - s:.3f} <NA> <NA> {talkers[leg]} <NA> <NA>\n" for leg, s, e in truth["turns"]))
    return truth


def make_calls(out: Path, n: int = 8, seed: int = 0) -> tuple[Path, Path, list[dict]]:
    """``n`` calls: returns (audio folder, RTTM folder, truths)."""
    truths = [make_call(out, f"call{i:02d}", seed) for i in range(n)]
    return out / "call", out / "rttm", truths


if __name__ == "__main__":
    folder, rttms, truths = make_calls(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 8)
    for t in truths:
        print(t["name"], {leg: {k: (round(v, 1) if isinstance(v, float) else v) for k, v in d.items()}
                          for leg, d in t["legs"].items()})
    print(f"calls: {folder}; rttm: {rttms}")
