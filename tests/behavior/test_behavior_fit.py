"""Behavior rates counted in the telephone calls' verbatim transcripts, and a set built with them
reproducing those rates (within 20 %)."""

from __future__ import annotations

import pytest

from synth.behavior.fit import count_row, fit_behavior
from synth.cli import compose_config
from synth.plan import make_plan, plain, sample_recipe
from synth.profiles.apply import overrides_from_fitted
from synth.render import label_segments

from helpers import CORPUS

KIND = {"fillers": "filler", "restarts": "restart", "fragments": "partial_word", "repetitions": "repetition",
        "hesitations": "hesitation"}


def test_counts_follow_the_verbatim_convention():
    c = count_row("{breath} I I want I want to uh go th- there -ing blah blah blah, um, Operator Operator", "Operator")
    assert c == {"fillers": 2, "fragments": 1, "restarts": 2, "repetitions": 1}


def test_telephone_rates_are_fitted_and_reach_the_profile():
    block, measured = fit_behavior(CORPUS / "telephone/manifest.jsonl")
    assert measured["n_rows"] == 718 and measured["counts"]["fillers"] >= 130
    assert 1.0 < block["filler"]["rate_per_min"] < 3.0 and block["restart"]["rate_per_min"] > 0.1
    assert "not measured" in measured["hesitations"]  # no word alignments in the hand transcripts
    assert overrides_from_fitted({"behavior": block}, "calls")["behavior"] == block


def test_a_set_built_with_fitted_rates_reproduces_them(aligned_speech, filler_bank):
    block, measured = fit_behavior(CORPUS / "telephone/manifest.jsonl")
    # pauses between words need word times: those of the calls the bank was cut from (synth align)
    aligned, counted = fit_behavior(filler_bank.parent / "aligned.jsonl")
    assert counted["hesitations"] >= 10
    block["hesitation"] = aligned["hesitation"]
    measured["per_min"]["hesitations"] = aligned["hesitation"]["rate_per_min"]
    cfg = plain(compose_config([f"sources.root={CORPUS}", f"sources.speech={aligned_speech}", "room=none",
                                "noise=none", "scenario.utterances=3"]))
    cfg["behavior"] = {**block, "fillers": str(filler_bank)}
    plan = make_plan(cfg)
    counts = {k: 0 for k in KIND}
    seconds = 0.0
    for i in range(10000):  # labels are what render writes for the recipe (render only executes it)
        recipe = sample_recipe(plan, f"st-{i:06d}")
        for s in label_segments(recipe, [], stereo=False):
            seconds += s["end"] - s["start"]
            for k, kind in KIND.items():
                counts[k] += sum(e["type"] == kind for e in s["events"])
    got = {k: counts[k] / (seconds / 60) for k in KIND}
    print(got, measured["per_min"])
    for k in KIND:
        assert got[k] == pytest.approx(measured["per_min"][k], rel=0.2), (k, got, measured["per_min"])
