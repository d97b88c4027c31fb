"""synth compare: KS/W1 table, plots, deterministic bootstrap."""

from __future__ import annotations

import json

import numpy as np
import pytest

from synth.audio import write_audio
from synth.profiles import compare

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


def test_compare_two_folders_prints_a_table_with_ks(corpus_root, synthetic_set, tmp_path, capsys):
    rc = compare.main([str(corpus_root / "conversation"), str(synthetic_set), "--out", str(tmp_path / "cmp")])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| snr_db |" in printed and "KS" in printed
    res = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    feats = {r["feature"]: r for r in res["features"]}
    assert res["n_real"] == 2 and res["n_synthetic"] == 6
    for key in ("snr_db", "speech_level_dbov", "effective_bandwidth_hz"):
        r = feats[key]
        assert 0.0 <= r["ks"] <= 1.0 and r["ks_ci"][0] <= r["ks_ci"][1]
        assert r["w1"] >= 0 and r["w1_ci"][0] <= r["w1_ci"][1]
        assert r["verdict"] in ("match", "differs")
    assert feats["bandwidth_class"]["tv"] > 0        # half the synthetic items are narrowband, AMI is not
    assert (tmp_path / "cmp" / "plots" / "snr_db.png").stat().st_size > 1000
    assert "features match" in (tmp_path / "cmp" / "compare.md").read_text()


def test_identical_samples_match_and_bootstrap_is_seeded():
    rng = np.random.default_rng(5)
    rows = [{"snr_db": float(v), "speech_level_dbov": float(-26 + v / 10), "bandwidth_class": "wideband"}
            for v in rng.normal(15, 5, 30)]
    a = compare.compare_rows(rows, rows, seed=1)
    b = compare.compare_rows(rows, rows, seed=1)
    assert a == b
    snr = next(r for r in a if r["feature"] == "snr_db")
    assert snr["ks"] == 0.0 and snr["w1"] == 0.0 and snr["verdict"] == "match"
    shifted = [dict(r, snr_db=r["snr_db"] + 5.0) for r in rows]
    s = next(r for r in compare.compare_rows(rows, shifted) if r["feature"] == "snr_db")
    assert s["w1"] == pytest.approx(5.0) and s["verdict"] == "differs"
    assert s["w1_ci"][0] <= 5.0 <= s["w1_ci"][1]


def test_ks_stat_matches_scipy():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(2)
    x, y = rng.normal(size=40), rng.normal(0.5, 1, size=25)
    assert compare.ks_stat(x, y) == pytest.approx(ks_2samp(x, y).statistic)
