"""Suites: every slice renders the same source speech (paired), the reference slice is included, and each
slice realizes the condition it names."""

import json
from collections import defaultdict

import pytest

from synth.validate import validate_set

from helpers import REPO, build_set, manifest

SUITES = sorted(p.stem for p in (REPO / "conf" / "suite").glob("*.yaml"))


def test_builtin_suites_exist():
    assert {"snr_ladder", "codec_matrix", "packet_loss_ladder", "reverb_ladder", "overlap_ladder",
            "call_center_stress"} <= set(SUITES)


@pytest.fixture(scope="module")
def snr(tmp_path_factory):
    return build_set(tmp_path_factory.mktemp("suite") / "snr", "suite=snr_ladder", "suite.n_sources=3")


def test_snr_ladder_is_paired_and_realizes_its_snrs(snr):
    items = manifest(snr)
    assert validate_set(snr) == [] and len(items) == 7 * 3
    by_pair = defaultdict(dict)
    for it in items:
        by_pair[it["pair_id"]][it["slice"]["slice"]] = it
    for pair, slices in by_pair.items():
        assert set(slices) == {"clean", "snr_30", "snr_20", "snr_10", "snr_5", "snr_0", "snr_-5"}
        sources = {tuple(s["source_id"] for s in it["segments"]) for it in slices.values()}
        assert len(sources) == 1                                           # same utterances in every slice
        noises = {(it["conditions"]["noise"]) for name, it in slices.items() if name != "clean"}
        assert len(noises) == 1                                            # same noise file too
        assert "snr_db" not in slices["clean"]["conditions"]
        for name, it in slices.items():
            if name != "clean":
                assert it["conditions"]["snr_db"] == float(name.split("_")[1])
    card = json.loads((snr / "card.json").read_text())
    assert card["suite"]["reference"] == "clean" and card["suite"]["paired"] is True


@pytest.mark.slow
@pytest.mark.parametrize("suite", [s for s in SUITES if s != "snr_ladder"])
def test_every_suite_builds(tmp_path, suite):
    out = build_set(tmp_path / suite, f"suite={suite}", "suite.n_sources=1")
    items = manifest(out)
    assert validate_set(out) == [] and any(it["slice"]["slice"] == "clean" for it in items)
    assert len({it["pair_id"] for it in items}) == 1
