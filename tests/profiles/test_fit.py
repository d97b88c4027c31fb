"""synth fit on the real AMI excerpts (../shared/corpus/conversation): profile YAML, report, noise bank."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.dist import as_dist
from synth.errors import BadInput, ConfigError
from synth.profiles import fit
from synth.writer.rttm import speech_segments
from synth.rng import item_rng


@pytest.fixture(scope="module")
def fitted(corpus_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("fit") / "ami.yaml"
    conv = corpus_root / "conversation"
    rc = fit.main([str(conv), "--rttm", str(conv), "--out", str(out)])
    return rc, out, conv


def test_fit_writes_a_profile_with_the_expected_keys(fitted):
    rc, out, conv = fitted
    assert rc == 0
    text = out.read_text()
    assert text.startswith("# fitted by synth fit from 2 recordings in ")
    f = yaml.safe_load(text)["fitted"]
    for key in ("level_dbov", "snr_db", "bandwidth", "sample_rate", "clipping", "rt60_s", "noise_bank", "turns",
                "speech_activity"):
        assert key in f, key
    assert f["sample_rate"] == {"choice": [16000], "weights": [1.0]}
    assert f["bandwidth"]["choice"] == ["narrowband", "wideband", "fullband"]
    assert f["bandwidth"]["weights"] == [0.0, 1.0, 0.0]     # AMI: 16 kHz, full 8 kHz band
    assert 0.0 <= f["clipping"]["p"] <= 1.0


def test_fitted_distributions_parse_and_sample_in_range(fitted):
    f = yaml.safe_load(fitted[1].read_text())["fitted"]
    rng = item_rng(0, "fit-test", "sample")
    for key, lo, hi in (("level_dbov", -70, 0), ("snr_db", -10, 60), ("noise_level_dbov", -120, 0)):
        d = as_dist(f[key], key)
        s = d.sample_n(rng, 200)
        assert lo <= s.min() and s.max() <= hi
    lvl = as_dist(f["level_dbov"]).sample_n(rng, 2000)
    assert -40 < np.median(lvl) < -15
    assert as_dist(f["bandwidth"]).sample(rng) == "wideband"


def test_report_plots_and_rows(fitted):
    _, out, _ = fitted
    md = out.with_suffix(".fit.md").read_text()
    assert "| ami_pyannote_debug/trn01.wav |" in md and "How the fitted keys map" in md
    rows = json.loads(out.with_suffix(".fit.json").read_text())
    assert {r["vad_backend"] for r in rows} == {"rttm"}    # reference segments used as speech activity
    pngs = sorted(p.name for p in (out.parent / "ami_plots").glob("*.png"))
    assert "snr_db.png" in pngs and "level_dbov.png" in pngs
    assert all((out.parent / "ami_plots" / p).stat().st_size > 1000 for p in pngs)


def test_noise_bank_is_non_speech_and_listed(fitted):
    _, out, conv = fitted
    bank = out.parent / "noise_bank"
    lines = [json.loads(ln) for ln in (bank / "manifest.jsonl").read_text().splitlines()]
    assert lines
    for ln in lines:
        info = sf.info(str(bank / ln["audio_filepath"]))
        assert info.samplerate == 16000
        assert info.duration == pytest.approx(ln["duration"], abs=0.01)
        assert ln["duration"] >= 1.0
        # the track is its pieces back to back (10 ms crossfades), each >= 64 ms from every reference segment
        assert ln["duration"] == pytest.approx(sum(b - a for a, b in ln["pieces"]), abs=0.01 * len(ln["pieces"]) + 0.01)
        rttm = conv / ln["source"].replace(".wav", ".rttm")
        for s, e in ln["pieces"]:
            assert e - s >= 0.1
            for a, b in speech_segments(rttm, rttm.stem):
                assert e <= a - 0.06 or s >= b + 0.06, (s, e, a, b)


def test_fit_without_rttm_uses_the_vad(corpus_root, tmp_path):
    rows, profile = fit.fit_folder(corpus_root / "conversation", None, None)
    assert {r["vad_backend"] for r in rows} == {"silero"}
    assert "turns" not in profile["fitted"]
    assert profile["fitted"]["noise_bank"] is None
    assert as_dist(profile["fitted"]["speech_activity"]["segment_s"]) is not None


def test_fit_dist_forms():
    rng = item_rng(0, "x", "y")
    many = rng.normal(10, 3, 50)
    h = fit.fit_dist(many, 2.5, 1.0, -10, 60)
    assert "histogram" in h and sum(h["histogram"]["counts"]) == 50
    assert as_dist(h).sample_n(rng, 10).shape == (10,)
    few = fit.fit_dist([5.0, 5.0], 2.5, 1.5, -10, 60)
    assert few["normal"] == [5.0, 1.5]          # SD floored: two recordings are not a constant
    assert fit.fit_dist([float("nan")], 1, 1, 0, 1) is None


def test_bad_inputs(tmp_path):
    with pytest.raises(BadInput, match="is not a folder"):
        fit.main([str(tmp_path / "missing"), "--out", str(tmp_path / "p.yaml")])
    with pytest.raises(BadInput, match="contains no audio"):
        fit.main([str(tmp_path), "--out", str(tmp_path / "p.yaml")])
    with pytest.raises(ConfigError, match="--out"):
        fit.main([str(tmp_path), "--out", str(tmp_path / "p.txt")])
    (tmp_path / "broken.wav").write_bytes(b"not audio at all")
    with pytest.raises(BadInput, match="broken.wav"):
        fit.fit_folder(tmp_path, None, None)


def test_room_share_is_the_excess_over_what_dry_speech_reads():
    """Handset calls whose blind RT60 reads above 0.25 s no more often than dry telephone speech does get no
    room; a population that always reads above gets rooms on every item; halfway, half."""
    def reverb_p(share_above: float, n: int = 100) -> float:
        k = int(round(share_above * n))
        rows = [{"file": f"call{i}.wav", "rt60_s": 0.4 if i < k else 0.15, "bandwidth_class": "narrowband",
                 "sample_rate": 8000, "codec_guess": "cannot tell", "clipped_fraction": 0.0, "speech_s": 2.0,
                 "p56_level_dbov": -26.0, "speech_level_dbov": -26.0} for i in range(n)]
        return fit.profile_dict(rows, Path("."), None, [], [], [])["fitted"]["reverb"]["p"]

    assert reverb_p(0.25) == 0.0 and reverb_p(fit.DRY_ABOVE_SHARE) == 0.0      # landline calls: 25% above
    assert reverb_p(1.0) == 1.0
    assert reverb_p(0.71) == pytest.approx(0.5, abs=0.01)
