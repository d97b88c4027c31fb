"""Scoring per behavior: verbatim vs fluent WER, filler deletion/insertion and error rates inside vs
outside restart/hesitation spans, in results.json and the report (hypotheses written by the test, so
every expected number is known)."""

from __future__ import annotations

import json

import pytest

from synth.eval.engines import EngineSpec
from synth.eval.report import make_report
from synth.eval.run import evaluate

from helpers import build_set, manifest

DRY = ["room=none", "noise=none", "level.clipping.p=0.0", "behavior=spontaneous", "behavior.restart.p=1.0",
       "behavior.restart.p_partial=0.0", "behavior.hesitation.rate_per_min=10.0",
       "behavior.repetition.rate_per_min=0.0"]


@pytest.fixture(scope="module")
def behavior_set(tmp_path_factory, aligned_speech, filler_bank):
    out = tmp_path_factory.mktemp("bset") / "set"
    build_set(out, "n_items=6", f"sources.speech={aligned_speech}", f"behavior.fillers={filler_bank}",
              "behavior.filler.rate_per_min=20.0", *DRY)
    return out


def run_eval(set_dir, tmp_path, hyp_of) -> dict:
    tmp_path.mkdir(parents=True, exist_ok=True)
    hyps = tmp_path / "hyps.jsonl"
    hyps.write_text("".join(json.dumps({"id": it["id"], "text": hyp_of(it)}) + "\n" for it in manifest(set_dir)))
    return evaluate(set_dir, EngineSpec(name="hypotheses", hypotheses=str(hyps)), cache_dir=tmp_path / "eval",
                    show_progress=False)


def test_a_verbatim_hypothesis_is_perfect_and_a_cleaned_one_misses_every_filler(behavior_set, tmp_path):
    b = run_eval(behavior_set, tmp_path / "v", lambda it: it["text"])["behavior"]["overall"]
    assert b["wer_verbatim"]["rate"] == 0 and b["filler_deletion_rate"]["rate"] == 0
    assert b["events"]["filler"] >= 3 and b["events"]["restart"] >= 3 and b["events"]["hesitation"] >= 1
    fillers = {"uh", "um", "ah", "er", "eh", "hm", "mm"}
    clean = run_eval(behavior_set, tmp_path / "c",
                     lambda it: " ".join(w for w in it["text"].split() if w.lower() not in fillers))["behavior"]["overall"]
    assert clean["filler_deletion_rate"]["rate"] == 1.0 and clean["filler_insertion_rate"]["rate"] == 0
    assert clean["filler_deletion_rate"]["den"] == b["events"]["filler"]
    fluent = run_eval(behavior_set, tmp_path / "f", lambda it: it["text_fluent"])["behavior"]["overall"]
    assert fluent["wer_fluent"]["rate"] == 0 and fluent["wer_verbatim"]["rate"] > 0.05


def test_errors_inside_restart_spans_are_told_apart_from_errors_outside(behavior_set, tmp_path):
    def garble_restarts(it):  # every word of a false start misrecognized, nothing else
        out = []
        for s in it["segments"]:
            spans = [(e["start"], e["end"]) for e in s["events"] if e["type"] == "restart"]
            for w in s["words"]:
                mid = (w["start"] + w["end"]) / 2
                out.append("zzz" if any(a - 1e-4 <= mid <= b + 1e-4 for a, b in spans) else w["word"])
        return " ".join(out)

    res = run_eval(behavior_set, tmp_path / "g", garble_restarts)
    r = res["behavior"]["overall"]["spans"]["restart"]
    assert r["inside"] == 1.0 and r["outside"] == 0.0 and r["delta"] == 1.0
    assert r["delta_ci"] == [1.0, 1.0] and r["inside_words"] >= 3
    h = res["behavior"]["overall"]["spans"]["hesitation"]
    assert h["inside"] == 0.0 and h["outside"] == 0.0
    index = make_report(res, behavior_set, tmp_path / "report")
    page = index.read_text()
    assert "<h2>Behavior</h2>" in page and "Words inside behavior spans" in page


def test_a_set_without_behavior_has_no_behavior_block(tmp_path):
    out = build_set(tmp_path / "plain", "n_items=2", "room=none", "noise=none")
    assert "behavior" not in run_eval(out, tmp_path / "e", lambda it: it["text"])


def test_turn_cut_fragments_are_scored_as_partial_words_not_restarts(tmp_path, aligned_talkers):
    """A conversation whose interrupted turns stop inside a word, no false starts: a hypothesis that
    misses exactly the fragments errs inside the partial_word spans only."""
    out = build_set(tmp_path / "conv", "scenario=conversation", "scenario.duration_s=[20,30]", "n_items=4",
                    f"sources.speech={aligned_talkers}", *DRY, "behavior.restart.p=0.0",
                    "behavior.hesitation.rate_per_min=0.0", "behavior.partial_word.p=1.0")
    res = run_eval(out, tmp_path / "e", lambda it: " ".join(w for w in it["text"].split() if not w.endswith("-")))
    b = res["behavior"]["overall"]
    assert b["events"]["partial_word"] >= 3 and "restart" not in b["events"] and "restart" not in b["spans"]
    p = b["spans"]["partial_word"]
    assert p["inside"] == 1.0 and p["outside"] == 0.0 and p["inside_words"] == b["events"]["partial_word"]
