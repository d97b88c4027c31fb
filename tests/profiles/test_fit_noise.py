"""Fitted noise variation reaches the build: recordings whose background changes level from one pause to the
next (as a call's does: the caller moves, a TV is turned down) fit to a noise bank that keeps those changes,
and the set built from the fit measures the same noise-level spread (``noise_sd_db``: SD of the 32 ms frame
levels of the noise) as the recordings. Recordings are made in tmp_path from ../shared/corpus speech and
recorded noise (nothing is copied into the repository)."""

from __future__ import annotations

import json

import numpy as np
import soundfile as sf

from synth.profiles import fit
from synth.profiles.estimate import estimate_recording
from synth.rng import item_rng

from helpers import build_set, manifest
from .test_fit_builds import _scaled, _sources

SR = 16000
STEP_SD_DB = 5.0      # SD of the background level change from one pause to the next


def _call(rng, speech, noise, dur_s: float = 16.0, level_dbov: float = -26.0, snr_db: float = 25.0) -> np.ndarray:
    """Utterances (their first 2.5 s) with 0.6-1.6 s pauses; the noise level steps (N(0, STEP_SD_DB) dB) at every utterance start,
    so each pause has its own level."""
    n = int(dur_s * SR)
    out = np.zeros(n, np.float32)
    gain_db = np.zeros(n)
    nz = np.resize(noise[int(rng.integers(len(noise)))], n)
    nz = nz / np.sqrt(np.mean(nz ** 2) + 1e-12) * 10 ** ((level_dbov - snr_db) / 20)
    t, k = int(0.8 * SR), int(rng.integers(len(speech)))
    while t < n:
        u = _scaled(speech[k % len(speech)][: int(2.5 * SR)], SR, level_dbov)[: n - t]
        out[t: t + len(u)] += u
        gain_db[t:] = rng.normal(0.0, STEP_SD_DB)
        t += len(u) + int(rng.uniform(0.6, 1.6) * SR)
        k += 1
    return out + (nz * 10 ** (gain_db / 20)).astype(np.float32)


def _noise_sd(paths) -> np.ndarray:
    vals = []
    for p in paths:
        x, sr = sf.read(str(p), dtype="float32")
        vals.append(estimate_recording(x, sr)["noise_sd_db"])
    return np.array([v for v in vals if np.isfinite(v)])


def test_noise_level_changes_between_pauses_are_built(tmp_path):
    rng = item_rng(0, "noise-steps", "test")
    speech, noise = _sources(SR)
    calls = tmp_path / "calls"
    calls.mkdir()
    for i in range(6):
        sf.write(str(calls / f"call_{i}.wav"), _call(rng, speech, noise), SR, subtype="PCM_16")
    out = tmp_path / "fit" / "calls.yaml"
    assert fit.main([str(calls), "--out", str(out)]) == 0
    real = _noise_sd(sorted(calls.glob("*.wav")))
    bank = out.parent / "noise_bank"
    lines = [json.loads(ln) for ln in (bank / "manifest.jsonl").read_text().splitlines()]
    assert len(lines) == 6 and all(len(ln["pieces"]) >= 3 for ln in lines)   # each call's pauses, joined
    set_dir = build_set(tmp_path / "set", f"profile={out}", "n_items=8")
    built = _noise_sd(set_dir / it["audio_filepath"] for it in manifest(set_dir))
    assert len(real) == 6 and len(built) >= 6
    assert np.median(real) > 3.0                          # the steps show: stationary noise reads ~1 dB
    assert abs(np.median(built) - np.median(real)) < 1.0, (np.median(built), np.median(real))
