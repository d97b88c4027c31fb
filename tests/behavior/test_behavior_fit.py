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


def test_fit_by_device_with_refs_gives_each_component_its_own_rates(tmp_path, aligned_speech, filler_bank):
    """`synth fit --by device --refs`: each device's profile gets the rates counted in that device's
    transcripts, and the mixture's items realize their own component's rates (speakerphone callers never
    restart or repeat a word in the hand transcripts, so their items have none)."""
    import json

    from synth.behavior.fit import fit_behavior_by
    from synth.profiles.fit import main as fit_main
    from synth.profiles.mixture import plan_mixture

    refs = CORPUS / "telephone/manifest.jsonl"
    rows, seen = [], {}
    for line in refs.read_text().splitlines():  # 3 calls per device are enough to fit the channel side
        r = json.loads(line)
        if seen.setdefault(r["device"], 0) < 3:
            seen[r["device"]] += 1
            rows.append({**r, "audio_filepath": str(CORPUS / "telephone" / r["audio_filepath"])})
    (tmp_path / "calls.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "p.yaml"
    assert fit_main([str(tmp_path / "calls.jsonl"), "--by", "device", "--refs", str(refs), "--out", str(out)]) == 0
    want = {v: m["per_min"] for v, (_, m) in fit_behavior_by(refs, "device", ["landline", "cellphone", "speakerphone"]).items()}
    assert want["speakerphone"]["restarts"] == 0 and want["landline"]["fillers"] > 2 * want["speakerphone"]["fillers"]

    cfg = plain(compose_config([f"profile={out}", f"sources.root={CORPUS}", f"sources.speech={aligned_speech}",
                                f"behavior.fillers={filler_bank}", "n_items=6000"]))
    _, plans, jobs, _ = plan_mixture(cfg)
    counts = {v: {k: 0 for k in ("fillers", "restarts", "repetitions")} for v in plans}
    seconds = {v: 0.0 for v in plans}
    for job in jobs:
        recipe = sample_recipe(plans[job.part], job.item_id)
        for s in label_segments(recipe, [], stereo=False):
            seconds[job.part] += s["end"] - s["start"]
            for k, kind in (("fillers", "filler"), ("restarts", "restart"), ("repetitions", "repetition")):
                counts[job.part][k] += sum(e["type"] == kind for e in s["events"])
    got = {v: {k: n / (seconds[v] / 60) for k, n in c.items()} for v, c in counts.items()}
    print(got, want)
    for v in plans:
        assert got[v]["fillers"] == pytest.approx(want[v]["fillers"], rel=0.2), (v, got, want)
    assert got["landline"]["restarts"] == pytest.approx(want["landline"]["restarts"], rel=0.3)
    assert got["speakerphone"]["restarts"] == got["speakerphone"]["repetitions"] == 0
