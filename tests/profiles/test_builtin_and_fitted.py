"""Every built-in profile builds 20 items; a profile fitted from real audio gives a set closer to it than
clean_reference does (issue 5)."""

import json
from pathlib import Path

import pytest

from synth.profiles.compare import main as compare_main
from synth.profiles.fit import main as fit_main
from synth.validate import validate_set

from helpers import CORPUS, REPO, build_set, manifest

PROFILES = sorted(p.stem for p in (REPO / "conf" / "profile").glob("*.yaml"))


def test_all_six_profiles_exist():
    assert {"call_center_narrowband", "voip_wideband", "far_field_meeting", "mobile_street", "car_handsfree",
            "clean_reference"} <= set(PROFILES)


@pytest.mark.slow
@pytest.mark.parametrize("profile", PROFILES)
def test_builtin_profile_builds_20_items(tmp_path, profile):
    out = build_set(tmp_path / profile, f"profile={profile}", "n_items=20", "workers=2")
    items = manifest(out)
    assert len(items) == 20 and validate_set(out) == []
    assert all(it["conditions"]["profile"] == profile for it in items)
    card = json.loads((out / "card.json").read_text())
    assert card["synthetic"] is True and card["profile"]["name"] == profile


def ks_table(path: Path) -> dict:
    return {r["feature"]: r for r in json.loads(path.read_text())["features"]}


def test_fitted_profile_is_closer_to_the_real_sample_than_clean_reference(tmp_path):
    real = CORPUS / "conversation"
    profile = tmp_path / "ami.yaml"
    assert fit_main([str(real), "--rttm", str(real), "--out", str(profile)]) == 0
    fitted = build_set(tmp_path / "fitted", f"profile={profile}", "n_items=20")
    clean = build_set(tmp_path / "clean", "profile=clean_reference", "n_items=20")
    for name, d in (("fitted", fitted), ("clean", clean)):
        assert compare_main([str(real), str(d), "--out", str(tmp_path / f"cmp_{name}")]) in (0, 1)
    a, b = ks_table(tmp_path / "cmp_fitted" / "compare.json"), ks_table(tmp_path / "cmp_clean" / "compare.json")
    for feature in ("speech_level_dbov", "snr_db", "effective_bandwidth_hz"):
        assert a[feature]["ks"] <= b[feature]["ks"], feature
    assert a["snr_db"]["ks"] < b["snr_db"]["ks"] and a["speech_level_dbov"]["ks"] < b["speech_level_dbov"]["ks"]
