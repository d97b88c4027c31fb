"""Fit -> build on the real telephone calls of ../shared/corpus/telephone: each device's calls (a folder of
links to 30 of them) fit to a profile that builds, and ``synth fit --by device`` on a NeMo manifest writes a
mixture profile whose items carry their device, drawn with the devices' shares, byte-identical whatever the
worker count and re-rendered bit for bit from the manifest."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import yaml

from synth.dist import _bounds, as_dist
from synth.profiles import fit, limits
from synth.profiles.mixture import component_of

from helpers import CORPUS, build_set, manifest

TELEPHONE = CORPUS / "telephone"


def rows(device: str | None = None) -> list[dict]:
    out = [json.loads(line) for line in (TELEPHONE / "manifest.jsonl").read_text().splitlines() if line.strip()]
    return [r for r in out if device is None or r["device"] == device]


@pytest.mark.parametrize("device", ["landline", "cellphone", "speakerphone"])
def test_each_device_folder_fits_and_builds(device, tmp_path):
    folder = tmp_path / device
    folder.mkdir()
    for r in rows(device)[:30]:  # links: the calls stay in the corpus
        os.symlink(TELEPHONE / r["audio_filepath"], folder / os.path.basename(r["audio_filepath"]))
    out = tmp_path / "fit" / f"{device}.yaml"
    assert fit.main([str(folder), "--out", str(out)]) == 0
    fitted = yaml.safe_load(out.read_text())["fitted"]
    for key in ("level_dbov", "snr_db", "duration_s", "effective_bandwidth_hz"):
        lo, hi, _ = limits.build_range(key)
        b = _bounds(as_dist(fitted[key]))
        assert lo <= b[0] <= b[1] <= hi, (key, fitted[key])
    real = [r["duration"] for r in rows(device)[:30]]
    assert _bounds(as_dist(fitted["duration_s"])) == pytest.approx((min(real), max(real)), abs=0.002)  # quantiles
    s = build_set(tmp_path / "set", f"profile={out}", "n_items=3")
    items = manifest(s)
    assert len(items) == 3
    for it in items:
        assert it["sample_rate"] == 8000 and it["slice"]["snr_bin"] != "clean"


@pytest.fixture(scope="module")
def mixture(tmp_path_factory):
    d = tmp_path_factory.mktemp("mixture")
    chosen = rows("landline")[:10] + rows("cellphone")[:6] + rows("speakerphone")[:4]
    (d / "calls.jsonl").write_text("".join(json.dumps({**r, "audio_filepath": str(TELEPHONE / r["audio_filepath"])})
                                           + "\n" for r in chosen))
    out = d / "fit" / "calls.yaml"
    assert fit.main([str(d / "calls.jsonl"), "--by", "device", "--out", str(out)]) == 0
    return out


def test_fit_by_device_writes_a_mixture_of_per_device_profiles(mixture):
    mix = yaml.safe_load(mixture.read_text())["mixture"]
    assert mix["by"] == "device"
    assert [(c["value"], c["weight"], c["n_recordings"]) for c in mix["components"]] == [
        ("landline", 0.5, 10), ("cellphone", 0.3, 6), ("speakerphone", 0.2, 4)]
    for c in mix["components"]:
        comp = mixture.parent / c["profile"]
        assert comp.name == f"calls_{c['value']}.yaml"
        assert yaml.safe_load(comp.read_text())["fitted"]["noise_bank"].endswith(f"noise_bank/{c['value']}")
        assert (mixture.parent / f"calls_{c['value']}.fit.md").is_file()
    assert "| landline | 10 | 0.500 |" in (mixture.parent / "calls.fit.md").read_text()


def test_mixture_items_carry_their_device_and_build_like_any_set(mixture, tmp_path):
    from synth.rerender import main as render_main

    one = build_set(tmp_path / "one", f"profile={mixture}", "n_items=8")
    two = build_set(tmp_path / "two", f"profile={mixture}", "n_items=8", "workers=2")
    a, b = manifest(one), manifest(two)
    assert (one / "manifest.jsonl").read_bytes() == (two / "manifest.jsonl").read_bytes()
    values, weights = ["landline", "cellphone", "speakerphone"], [0.5, 0.3, 0.2]
    for it in a:
        dev = it["slice"]["device"]
        assert dev == values[component_of(0, it["id"], weights)] == it["recipe"]["labels"]["device"]
        assert it["conditions"]["profile"] == "calls"
        noise = [s for s in it["recipe"]["recorder"] if s["name"] == "add_noise"]
        if noise and noise[0]["params"].get("noise_path"):  # each component adds its own device's noise
            assert f"noise_bank/{dev}/" in noise[0]["params"]["noise_path"]
    assert len({it["slice"]["device"] for it in a}) >= 2
    for x, y in zip(a, b):
        assert (one / x["audio_filepath"]).read_bytes() == (two / y["audio_filepath"]).read_bytes()
    card = json.loads((one / "card.json").read_text())
    assert card["mixture"]["by"] == "device" and sum(card["slices"]["device"].values()) == 8
    assert "Mixture profile by `device`" in (one / "card.md").read_text()
    assert render_main([str(one), "--out", str(tmp_path / "again")]) == 0
    assert (tmp_path / "again" / "manifest.jsonl").read_bytes() == (one / "manifest.jsonl").read_bytes()


def test_component_draws_follow_the_weights():
    weights = [0.5, 0.3, 0.2]
    k = np.array([component_of(0, f"st-{i:06d}", weights) for i in range(4000)])
    assert np.allclose(np.bincount(k, minlength=3) / len(k), weights, atol=0.03)
    assert component_of(0, "st-000001", weights) == component_of(0, "st-000001", weights)


def test_by_needs_metadata(tmp_path, corpus_root):
    from synth.errors import BadInput

    with pytest.raises(BadInput, match="has no manifest.jsonl"):
        fit.main([str(corpus_root / "noise"), "--by", "device", "--out", str(tmp_path / "p.yaml")])
    m = tmp_path / "m.jsonl"
    m.write_text(json.dumps({"audio_filepath": str(TELEPHONE / rows()[0]["audio_filepath"])}) + "\n")
    with pytest.raises(BadInput, match="no recording has the metadata key 'device'"):
        fit.main([str(m), "--by", "device", "--out", str(tmp_path / "p.yaml")])
