"""Every fit builds: folders of very different real-speech recordings (short, 5-minute, mostly silent,
clipped, 8/16/48 kHz, mono and stereo) fit to profiles whose every distribution lies inside the range the
build accepts, and ``synth build profile=<fit>`` succeeds on each. Recordings are made in tmp_path from
../shared/corpus speech and recorded noise (nothing is copied into the repository)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.audio import active_speech_level, load
from synth.dist import _bounds, as_dist
from synth.profiles import fit, limits
from synth.rng import item_rng

from helpers import CORPUS, build_set, manifest

KINDS = ("short", "long", "mostly_silent", "clipped", "rates", "stereo", "two_channel")


def _sources(sr: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines() if line.strip()]
    speech = [r["path"] for r in rows if r["kind"] == "speech" and 2.0 <= r["duration_s"] <= 12.0][:8]
    noise = [r["path"] for r in rows if r["kind"] == "noise"]
    return [load(CORPUS / p, sr) for p in speech], [load(CORPUS / p, sr) for p in noise]


def _scaled(x: np.ndarray, sr: int, level_dbov: float) -> np.ndarray:
    lvl = active_speech_level(x, sr).level_dbov
    return x * 10 ** ((level_dbov - lvl) / 20)


def _mix(rng, speech, noise, sr: int, dur_s: float, snr_db: float | None, level_dbov: float = -26.0,
         pauses=(0.5, 2.0)) -> np.ndarray:
    """``dur_s`` of utterances with pauses between them (looped over ``speech``) plus noise at ``snr_db``."""
    n = int(round(dur_s * sr))
    out = np.zeros(n, np.float32)
    t = int(rng.uniform(0.2, 0.6) * sr)
    k = int(rng.integers(len(speech)))
    while t < n:
        u = _scaled(speech[k % len(speech)], sr, level_dbov)[: n - t]
        out[t: t + len(u)] += u
        t += len(u) + int(rng.uniform(*pauses) * sr)
        k += 1
    if snr_db is not None:
        nz = noise[int(rng.integers(len(noise)))]
        nz = np.resize(nz, n)
        nz = nz / np.sqrt(np.mean(nz ** 2) + 1e-12) * 10 ** ((level_dbov - snr_db) / 20)
        out += nz.astype(np.float32)
    return out


def make_folder(kind: str, folder, seed: int = 0):
    """A folder of recordings of one shape (see KINDS)."""
    rng = item_rng(seed, kind, "fit-builds")
    folder.mkdir(parents=True)
    sr = 16000
    speech, noise = _sources(sr)
    write = lambda name, x, rate=sr: sf.write(str(folder / name), x, rate, subtype="PCM_16")  # noqa: E731
    if kind == "short":  # 1-15 s, one of them exactly 1 s (a single word-length clip)
        for i, d in enumerate((1.0, 2.5, 6.0, 15.0)):
            write(f"short_{i}.wav", _mix(rng, speech, noise, sr, d, rng.uniform(5, 30), pauses=(0.3, 0.8)))
    elif kind == "long":  # one 5-minute call
        write("long.flac", _mix(rng, speech, noise, sr, 300.0, 15.0), sr)
    elif kind == "mostly_silent":  # a little speech in long digital silence, one call with no speech at all
        for i in range(2):  # a gated line: every 32 ms frame below -50 dBov is zeroed (no noise floor at all)
            x = np.zeros(20 * sr, np.float32)
            x[sr: sr + len(speech[i])] = _scaled(speech[i], sr, -30)
            fr = x[: len(x) // 512 * 512].reshape(-1, 512)
            fr[10 * np.log10(np.mean(fr ** 2, axis=1) + 1e-12) < -50] = 0.0
            write(f"silent_{i}.wav", x)
        x = np.zeros(20 * sr, np.float32)
        x[sr: sr + len(speech[2])] = _scaled(speech[2], sr, -30)
        x += (rng.normal(0, 1, len(x)) * 10 ** (-75 / 20)).astype(np.float32)   # a faint line hiss
        write("faint.wav", x)
        write("nothing.wav", np.zeros(5 * sr, np.float32))
    elif kind == "clipped":  # driven into the rails
        for i, thr in enumerate((0.3, 0.6, 0.9)):
            x = _mix(rng, speech, noise, sr, 8.0, 25.0, level_dbov=-6.0)
            write(f"clipped_{i}.wav", np.clip(x, -thr, thr))
    elif kind == "rates":  # 8, 16 and 48 kHz files side by side
        for rate in (8000, 16000, 48000):
            sp, nz = _sources(rate)
            write(f"rate_{rate}.wav", _mix(rng, sp, nz, rate, 6.0, 20.0), rate)
    elif kind == "stereo":  # two-channel files (a different talker and noise per channel) and a mono one
        for i in range(2):
            left = _mix(rng, speech[:4], noise, sr, 8.0, 10.0)
            right = _mix(rng, speech[4:], noise, sr, 8.0, 30.0, level_dbov=-35.0)
            write(f"stereo_{i}.wav", np.stack([left, right], axis=1))
        write("mono.wav", _mix(rng, speech, noise, sr, 8.0, 20.0))
    elif kind == "two_channel":  # two-party calls, one party per channel: fitted per leg, built as stereo calls
        for i in range(2):
            n = 24 * sr
            chans, t, k = [np.zeros(n, np.float32), np.zeros(n, np.float32)], 0.3, 0
            while t < 20.0:  # the parties take turns: channel 0 at -26 dBov, channel 1 at -35 dBov
                u = _scaled(speech[k % len(speech)], sr, (-26.0, -35.0)[k % 2])[: n - int(t * sr)]
                chans[k % 2][int(t * sr): int(t * sr) + len(u)] += u
                t += len(u) / sr + rng.uniform(0.2, 0.8)
                k += 1
            for ch, (lvl, snr) in zip(chans, ((-26.0, 10.0), (-35.0, 30.0))):
                nz = np.resize(noise[int(rng.integers(len(noise)))], n)
                ch += (nz / np.sqrt(np.mean(nz ** 2) + 1e-12) * 10 ** ((lvl - snr) / 20)).astype(np.float32)
            write(f"call_{i}.wav", np.stack(chans, axis=1))
    return folder


def fed_distributions(fitted: dict) -> dict:
    """The fitted distributions a build setting takes, by fitted key (limits.FEEDS)."""
    out = {}
    for key in limits.FEEDS:
        node = fitted
        for part in key.split("."):
            node = (node or {}).get(part) if isinstance(node, dict) else None
        if node is not None:
            out[key] = node
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_every_fit_builds(kind, tmp_path):
    folder = make_folder(kind, tmp_path / kind)
    out = tmp_path / "fit" / "profile.yaml"
    assert fit.main([str(folder), "--out", str(out)]) == 0
    data = yaml.safe_load(out.read_text())
    fitted = data["fitted"]
    for block in [fitted] + list(fitted.get("legs") or []):   # a two-channel fit: each leg's block too
        for key, spec in fed_distributions(block).items():
            lo, hi, setting = limits.build_range(key, fitted.get("scenario") or "single_talker")
            b = _bounds(as_dist(spec, key))
            assert b is not None and lo <= b[0] <= b[1] <= hi, (kind, key, spec, setting)
    assert ("legs" in fitted) == (kind == "two_channel")
    rows = json.loads((tmp_path / "fit" / "profile.fit.json").read_text())
    md = (tmp_path / "fit" / "profile.fit.md").read_text()
    for r in rows:  # what a recording cannot inform is counted in the profile and listed in the report
        for key, why in r["left_out"].items():
            assert data["checks"]["left_out"][key] >= 1 and f"| {r['file']} |" in md and why in md, (key, why)
    bank = tmp_path / "fit" / "noise_bank"
    for ln in (bank / "manifest.jsonl").read_text().splitlines():  # never digital silence
        x, _ = sf.read(str(bank / json.loads(ln)["audio_filepath"]))
        assert np.max(np.abs(x)) > 0 and 10 * np.log10(np.mean(x ** 2)) >= -100
    n = 1 if kind == "long" else 2
    s = build_set(tmp_path / "set", f"profile={out}", f"n_items={n}", "room.pool_size=2")
    items = manifest(s)
    assert len(items) == n
    dur = as_dist(fitted["duration_s"])
    lo, hi = _bounds(dur)
    for it in items:  # items last as long as the recordings (speech may run a little past a short target)
        assert lo - 0.01 <= it["duration"] <= max(hi, 0) + 12, (it["duration"], lo, hi)
        assert it["num_channels"] == (2 if kind == "two_channel" else 1)


def test_unmeasurable_recordings_are_left_out_and_listed(tmp_path):
    folder = make_folder("mostly_silent", tmp_path / "silent")
    out = tmp_path / "fit" / "p.yaml"
    fit.main([str(folder), "--out", str(out)])
    rows = {r["file"]: r for r in json.loads((tmp_path / "fit" / "p.fit.json").read_text())}
    assert "no active speech" in rows["nothing.wav"]["left_out"]["level_dbov"]
    for f in ("silent_0.wav", "silent_1.wav"):   # digital zeros between the words: no noise floor, no SNR
        assert rows[f]["left_out"]["snr_db"].startswith("digital silence")
    assert "snr_db" not in rows["faint.wav"]["left_out"]
    fitted = yaml.safe_load(out.read_text())["fitted"]
    assert fitted["noise_p"] == pytest.approx(1 / 3, abs=0.01)   # 1 of the 3 speech recordings has a noise floor
    md = (tmp_path / "fit" / "p.fit.md").read_text()
    assert "## Left out (not measurable)" in md and "| nothing.wav |" in md
    # the level histogram holds only the measured levels (-30 dBov), nothing at the -120 dBov floor
    lv = as_dist(fitted["level_dbov"]).sample_n(item_rng(0, "t", "lv"), 500)
    assert lv.min() > -40
