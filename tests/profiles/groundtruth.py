"""Ground-truth items for the profile estimators, built from real corpus speech and real corpus noise.

Each item: 0.8-1.2 s of silence, a real utterance, a pause, a second utterance, silence (a short call
turn), scaled to a known P.56 active speech level, plus recorded noise at a known SNR (P.56 level of the
speech vs mean noise power: the definition synth's add_noise uses). Half the items are narrowband
(speech + noise resampled to 8 kHz and back, as a telephone leg would); the truth for those is measured
on the band-limited components. Some wideband items are hard-clipped at a known threshold as the last
stage (an overloaded recorder ADC); clipping *before* a band limit or codec is not detectable by the
flat-run estimator (the filter removes the flat tops), so no narrowband item is clipped.

Run as a script for the full accuracy table (more items than the test):

    python tests/profiles/groundtruth.py [n_items] [--rt60]
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from synth.audio import active_speech_level, load, power_db, resample  # noqa: E402
from synth.rng import item_rng  # noqa: E402

CORPUS = (REPO / ".." / "shared" / "corpus").resolve()
SR = 16000
SPEECH = [  # >= 2.5 s utterances from 11 speakers
    "speech/librispeech_2412/2412-153948-0000.flac", "speech/librispeech_2412/2412-153948-0001.flac",
    "speech/librispeech_198/198-209-0000.flac", "speech/librispeech_3436/3436-172162-0000.flac",
    "speech/librivox_sense_sensibility_reader/sense_and_sensibility_01_austen_64kb-0870.wav",
    "speech/librivox_sense_sensibility_reader/sense_and_sensibility_01_austen_64kb-0890.wav",
    "speech/cmu_arctic_aew/arctic_a0001.wav", "speech/cmu_arctic_axb/arctic_a0004.wav",
    "speech/cmu_arctic_unknown_male/arctic_a0010.wav", "speech/vctk_p286/p286_011.wav",
    "speech/jfk/jfk.flac", "speech/ami_FEE041/ES2011a.Headset-0-40s-46s.wav",
    "speech/freesound_davidbain/xmas.wav", "speech/cmusphinx_goforward/goforward.wav",
]
NOISE = ["noise/speech_commands_doing_the_dishes.wav", "noise/speech_commands_dude_miaowing.wav",
         "noise/speech_commands_exercise_bike.wav", "noise/speech_commands_running_tap.wav",
         "noise/musan_noise-free-sound-0145.wav"]


@dataclass
class Item:
    name: str
    x: np.ndarray
    sr: int
    level_dbov: float
    snr_db: float
    bandwidth_class: str
    clipped_fraction: float
    noise_file: str


def _utt(path: str, cache: dict) -> np.ndarray:
    if path not in cache:
        cache[path] = load(CORPUS / path, SR)
    return cache[path]


def build_items(n: int = 36, seed: int = 0, n_clipped: int = 8) -> list[Item]:
    cache: dict = {}
    items = []
    for k in range(n):
        rng = item_rng(seed, f"gt-{k:03d}", "groundtruth")
        a, b = rng.choice(len(SPEECH), size=2, replace=False)
        gap = lambda: np.zeros(int(rng.uniform(0.8, 1.2) * SR), np.float32)  # noqa: E731
        clean = np.concatenate([gap(), _utt(SPEECH[a], cache), gap()[: SR // 2], _utt(SPEECH[b], cache), gap()])
        level = float(rng.uniform(-40, -15))
        snr = float(rng.uniform(0, 30))
        nb = k % 2 == 1
        nf = NOISE[k % len(NOISE)]
        noise_all = _utt(nf, cache)
        if len(noise_all) < len(clean):
            noise_all = np.tile(noise_all, int(np.ceil(len(clean) / len(noise_all))) + 1)
        off = int(rng.integers(0, len(noise_all) - len(clean) + 1))
        noise = noise_all[off: off + len(clean)].astype(np.float64)
        speech = clean.astype(np.float64)
        speech *= 10 ** ((level - active_speech_level(speech, SR).level_dbov) / 20)
        noise *= 10 ** ((level - snr - power_db(noise)) / 20)
        if nb:  # a telephone leg: everything the talker's microphone picked up goes through the band limit
            speech = resample(resample(speech, SR, 8000), 8000, SR).astype(np.float64)
            noise = resample(resample(noise, SR, 8000), 8000, SR).astype(np.float64)
            level = active_speech_level(speech, SR).level_dbov
            snr = level - power_db(noise)
        x = speech + noise
        frac = 0.0
        if not nb and k < 2 * n_clipped:  # hard clip at a threshold that saturates 0.2-3 % of the samples
            target = float(rng.uniform(0.002, 0.03))
            thr = float(np.quantile(np.abs(x), 1 - target))
            frac = float(np.mean(np.abs(x) >= thr))
            x = np.clip(x, -thr, thr)
        items.append(Item(f"gt-{k:03d}", x.astype(np.float32), SR, float(level), float(snr),
                          "narrowband" if nb else "wideband", frac, nf))
    return items


def rir_items(rt60s=(0.25, 0.45, 0.7), utts=(0, 6, 9), seed: int = 0) -> list[tuple[str, np.ndarray, float]]:
    """Reverberant speech: corpus speech convolved with pyroomacoustics shoebox RIRs. The truth is the RT60
    measured on the simulated RIR itself (Schroeder T30), not the Sabine target."""
    import pyroomacoustics as pra
    from scipy.signal import fftconvolve

    cache: dict = {}
    out = []
    for rt in rt60s:
        dim = [6.0, 4.5, 3.0]
        e_abs, max_order = pra.inverse_sabine(rt, dim)
        room = pra.ShoeBox(dim, fs=SR, materials=pra.Material(e_abs), max_order=max_order)
        room.add_source([1.5, 2.0, 1.6])
        room.add_microphone([4.2, 2.9, 1.2])
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)
        truth = float(pra.experimental.measure_rt60(h, fs=SR, decay_db=30))
        for u in utts:
            s = np.concatenate([np.zeros(SR // 2), _utt(SPEECH[u], cache), np.zeros(SR)])
            y = fftconvolve(s, h)[: len(s)]
            rng = item_rng(seed, f"rir-{rt}-{u}", "noise")
            y = y / np.sqrt(np.mean(y ** 2)) * 0.05
            y = y + rng.normal(0, 0.05 * 10 ** (-45 / 20), len(y))  # 45 dB below speech: a quiet room
            out.append((f"rt{rt}-{u}", y.astype(np.float32), truth))
    return out


def accuracy(items: list[Item]) -> dict:
    from synth.profiles.estimate import estimate_recording

    rows = []
    for it in items:
        est = estimate_recording(it.x, it.sr)
        rows.append({"item": it.name, "noise": Path(it.noise_file).stem, "snr_true": it.snr_db,
                     "snr_est": est["snr_db"], "wada_est": est["wada_snr_db"],
                     "level_true": it.level_dbov, "level_est": est["speech_level_dbov"],
                     "bw_true": it.bandwidth_class, "bw_est": est["bandwidth_class"],
                     "clip_true": it.clipped_fraction, "clip_est": est["clipped_fraction"]})
    snr_err = np.array([abs(r["snr_est"] - r["snr_true"]) for r in rows])
    wada_err = np.array([abs(r["wada_est"] - r["snr_true"]) for r in rows])
    lvl_err = np.array([abs(r["level_est"] - r["level_true"]) for r in rows])
    bw_ok = np.mean([r["bw_true"] == r["bw_est"] for r in rows])
    clip = [(r["clip_true"], r["clip_est"]) for r in rows if r["clip_true"] > 0]
    clip_rel = np.array([abs(e - t) / t for t, e in clip]) if clip else np.array([0.0])
    false_clip = sum(1 for r in rows if r["clip_true"] == 0 and r["clip_est"] > 0)
    return {"n": len(rows), "snr_median_abs_err_db": float(np.median(snr_err)),
            "snr_p90_abs_err_db": float(np.percentile(snr_err, 90)),
            "wada_median_abs_err_db": float(np.nanmedian(wada_err)),
            "level_median_abs_err_db": float(np.median(lvl_err)),
            "level_p90_abs_err_db": float(np.percentile(lvl_err, 90)),
            "bandwidth_accuracy": float(bw_ok), "clip_max_rel_err": float(clip_rel.max()),
            "clip_false_positives": false_clip, "rows": rows}


def rt60_accuracy(items) -> dict:
    from synth.profiles.estimate import blind_rt60

    rows = []
    for name, y, truth in items:
        est = blind_rt60(y, float("nan"))
        rows.append({"item": name, "rt60_true": truth, "rt60_est": est["rt60_s"], "raw": est.get("rt60_raw_s"),
                     "decays": est["rt60_decays"]})
    err = np.array([abs(r["rt60_est"] - r["rt60_true"]) for r in rows])
    return {"n": len(rows), "rt60_median_abs_err_s": float(np.nanmedian(err)),
            "rt60_max_abs_err_s": float(np.nanmax(err)), "rows": rows}


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 36
    res = accuracy(build_items(n, n_clipped=max(8, n // 5)))
    for r in res.pop("rows"):
        print("  ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print(json.dumps(res, indent=1))
    if "--rt60" in sys.argv:
        # utterances 0, 3, 6, 8, 10 fitted RT60_CAL; these five are held out
        rr = rt60_accuracy(rir_items(rt60s=(0.2, 0.3, 0.45, 0.6, 0.8, 1.0), utts=(2, 4, 7, 9, 11)))
        for r in rr.pop("rows"):
            print(r)
        print(json.dumps(rr, indent=1))
