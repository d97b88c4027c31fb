"""synth compare: verdicts judged against real-vs-real (halves of the real recordings), tables, plots,
deterministic splits and bootstrap."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import butter, sosfilt
from scipy.stats import wasserstein_distance

from synth.audio import write_audio
from synth.profiles import compare
from synth.profiles.estimate import estimate_recording
from synth.profiles.fit import read_recording

from .groundtruth import build_items

@pytest.fixture(scope="module")
def synthetic_set(corpus_root, tmp_path_factory):
    d = tmp_path_factory.mktemp("set")
    lines = []
    for it in build_items(6, seed=3, n_clipped=0):
        write_audio(d / "audio" / f"{it.name}.flac", it.x, it.sr)
        lines.append(json.dumps({"id": it.name, "audio_filepath": f"audio/{it.name}.flac", "synthetic": True}))
    (d / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return d


def test_compare_two_recordings_has_no_per_recording_reference_but_windows_do(corpus_root, synthetic_set, tmp_path,
                                                                             capsys):
    rc = compare.main([str(corpus_root / "conversation"), str(synthetic_set), "--out", str(tmp_path / "cmp")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| snr_db |" in printed and "real–real" in printed
    res = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    feats = {r["feature"]: r for r in res["features"]}
    assert res["n_real"] == 2 and res["n_synthetic"] == 6
    for key in ("snr_db", "speech_level_dbov", "effective_bandwidth_hz"):
        r = feats[key]                          # 2 real recordings: distances with intervals, but no verdict
        assert 0.0 <= r["ks"] <= 1.0 and r["ks_ci"][0] <= r["ks_ci"][1] and r["w1_ci"][0] <= r["w1"] + 1e-9
        assert r["verdict"].startswith("insufficient data") and "reference" not in r
    assert feats["bandwidth_class"]["tv"] > 0        # half the synthetic items are narrowband, AMI is not
    windows = {r["feature"]: r for r in res["windows"]}   # ~2 x 100 windows: split by window, flagged as such
    ref = windows["snr_db"]["reference"]
    assert windows["snr_db"]["verdict"] in (compare.CLOSE, compare.FAR) and ref["split_by"].startswith("window (fewer")
    assert (tmp_path / "cmp" / "plots" / "snr_db.png").stat().st_size > 1000
    assert "per-recording features as close as" in (tmp_path / "cmp" / "compare.md").read_text()


def test_identical_samples_are_close_shifted_ones_farther_and_splits_are_seeded():
    rng = np.random.default_rng(5)
    rows = [{"file": f"r{i}", "snr_db": float(v), "speech_level_dbov": float(-26 + v / 10), "bandwidth_class": "wideband"}
            for i, v in enumerate(rng.normal(15, 5, 60))]
    a = compare.compare_rows(rows, rows, seed=1)
    assert a == compare.compare_rows(rows, rows, seed=1)
    assert a != compare.compare_rows(rows, rows, seed=2)
    snr = next(r for r in a if r["feature"] == "snr_db")
    assert snr["ks"] == 0.0 and snr["w1"] == 0.0 and snr["verdict"] == compare.CLOSE
    shifted = [dict(r, snr_db=r["snr_db"] + 5.0) for r in rows]
    s = next(r for r in compare.compare_rows(rows, shifted) if r["feature"] == "snr_db")
    assert s["w1"] == pytest.approx(5.0) and s["w1_ci"][0] <= 5.0 <= s["w1_ci"][1]
    ref = s["reference"]
    assert s["verdict"] == compare.FAR and ref["real_vs_real_p95"] < 3.0 < ref["real_vs_synthetic"]
    assert ref["p_real_vs_real"] == 0.0 and (ref["n_half"], ref["n_matched"]) == (30, 30)


def test_trimmed_w1_is_scipys_w1_untrimmed_and_ignores_one_outlier():
    rng = np.random.default_rng(2)
    for _ in range(20):
        x, y = rng.normal(size=rng.integers(2, 60)), rng.normal(0.5, 2, size=rng.integers(2, 60))
        assert compare.trimmed_w1(x, y, 0.0) == pytest.approx(wasserstein_distance(x, y), abs=1e-12)
    x = rng.normal(size=100)
    assert compare.trimmed_w1(x, x + 3.0) == pytest.approx(3.0)
    spiked = np.concatenate([x[:-1], [1000.0]])                # one recording with a DC offset 100x the others
    assert wasserstein_distance(x, spiked) > 9 and compare.trimmed_w1(x, spiked) < 0.01


def test_ks_stat_matches_scipy():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=40), rng.normal(0.5, 1, size=25)
    assert compare.ks_stat(x, y) == pytest.approx(ks_2samp(x, y).statistic)


# -- real telephone calls: two samples of the same population, and one with its noise 6 dB louder ------------

@pytest.fixture(scope="module")
def landline_halves(corpus_root, tmp_path_factory):
    """60 landline calls drawn at random: 36 as "real", 24 as the other sample (folders of symlinks)."""
    tel = corpus_root / "telephone"
    calls = [json.loads(ln) for ln in (tel / "manifest.jsonl").read_text().splitlines() if ln.strip()]
    calls = sorted((c for c in calls if c["device"] == "landline"), key=lambda c: c["id"])
    pick = np.random.default_rng(20).choice(len(calls), size=60, replace=False)
    root = tmp_path_factory.mktemp("landline")
    for name, idx in (("real", pick[:36]), ("other", pick[36:])):
        (root / name).mkdir()
        for i in idx:
            (root / name / f"{calls[i]['id']}.wav").symlink_to(tel / calls[i]["audio_filepath"])
    return root


def test_real_vs_real_halves_of_telephone_calls_are_as_close(landline_halves, capsys):
    """End to end: two random samples of landline calls (36 and 24). Every real-vs-"synthetic" distance lies
    inside the real-vs-real spread: no feature is farther than 95% of the real-vs-real splits (p < 0.05 happens
    to a second real sample on ~5% of features: test_false_alarm_rate_on_real_calls)."""
    out = landline_halves / "cmp_real"
    assert compare.main([str(landline_halves / "real"), str(landline_halves / "other"), "--out", str(out)]) == 0
    res = json.loads((out / "compare.json").read_text())
    judged = [r for r in res["features"] if "reference" in r]
    assert len(judged) == 13
    for r in judged:
        assert r["reference"]["p_real_vs_real"] >= 0.05, r
        assert (r["reference"]["n_half"], r["reference"]["n_matched"]) == (18, 18) or r["feature"] == "rt60_s"
    n_close = sum(r["verdict"] == compare.CLOSE for r in judged)
    assert n_close >= 12
    assert f"{n_close} of 13 per-recording features as close as another sample of real recordings" in capsys.readouterr().out


def test_false_alarm_rate_on_real_calls(landline_halves):
    """The rule's promise: a second sample of the same real calls is called "farther" on about 5% of features.
    40 random splits of the 60 landline calls into 36 "real" and 24 "other": at most 10% of the 520 verdicts
    (binomial: 5% +- 1%), and no feature in more than a quarter of the splits."""
    rows = [compare.analyse_units(p, p.name)["recording"][0]
            for d in ("real", "other") for p in sorted((landline_halves / d).iterdir())]
    rng = np.random.default_rng(7)
    far = {f: 0 for f in compare.FEATURES}
    for t in range(40):
        order = rng.permutation(len(rows))
        real, other = [rows[i] for i in order[:36]], [rows[i] for i in order[36:]]
        for f in compare.FEATURES:
            a, b = compare._by_recording(real, f), compare._by_recording(other, f)
            ref = compare.real_vs_real(a, b, compare.trimmed_w1, np.random.default_rng([t, len(f)]))
            far[f] += ref["verdict"] == compare.FAR
    assert sum(far.values()) <= 0.10 * 40 * len(far), far
    assert max(far.values()) <= 10, far


def _louder_noise(x: np.ndarray, sr: int, seed: int) -> np.ndarray:
    """The call plus telephone-band noise at 3x its measured noise power: the noise floor 6.0 dB up."""
    r = estimate_recording(x, sr)
    noise = np.random.default_rng(seed).normal(size=len(x))
    noise = sosfilt(butter(6, [300, 3400], btype="band", fs=sr, output="sos"), noise)
    gain = np.sqrt(3 * 10 ** (r["noise_level_dbov"] / 10) / np.mean(noise ** 2))
    return (x + gain * noise).astype(np.float32)


def test_a_set_with_6_db_louder_noise_is_farther_than_sampling_explains(landline_halves):
    noisy = landline_halves / "noisy"
    noisy.mkdir()
    for k, p in enumerate(sorted((landline_halves / "other").iterdir())):
        x, sr, _ = read_recording(p)
        sf.write(noisy / p.name, _louder_noise(x, sr, k), sr, subtype="PCM_16")
    res = compare.compare(landline_halves / "real", noisy, landline_halves / "cmp_noisy")
    feats = {r["feature"]: r for r in res["results"]}
    for key in ("noise_level_dbov", "snr_db"):
        r = feats[key]
        assert r["verdict"] == compare.FAR, r
    assert feats["noise_level_dbov"]["reference"]["p_real_vs_real"] <= 0.01
    assert feats["noise_level_dbov"]["reference"]["real_vs_synthetic"] > 6.0
    assert feats["speech_level_dbov"]["verdict"] == compare.CLOSE       # the speech itself is unchanged
    assert feats["duration_s"]["verdict"] == compare.CLOSE


def test_features_judged_far_say_which_way_and_what_moves_them():
    far = {"verdict": compare.FAR}
    rows = [{**far, "feature": "snr_db", "median_real": 39.0, "median_synthetic": 33.0},
            {**far, "feature": "rt60_s", "median_real": 0.09, "median_synthetic": 0.15},
            {"verdict": compare.CLOSE, "feature": "noise_sd_db", "median_real": 6.0, "median_synthetic": 2.0},
            {**far, "feature": "customer.speech_level_dbov", "median_real": -26.0, "median_synthetic": -20.0}]
    lines = compare.levers(rows, has_room=False)
    assert len(lines) == 3  # the feature judged close gets no line
    assert "lower" in lines[0] and "raise noise.snr_db" in lines[0]
    assert "drier source speech" in lines[1]  # no room to turn down: the sources carry it
    assert "room.p" in compare.levers(rows[1:2], has_room=True)[0]
    assert lines[2].startswith("- `customer.speech_level_dbov`: synthetic higher") and "lower level.speech_dbov" in lines[2]
