"""Regression gate: exit 1 only when the interval says the slice got worse by more than the threshold."""

from __future__ import annotations

import json

import pytest

from evalsets import corrupt, ladder_items, write_hyps, write_set
from synth.eval.cli import main
from synth.eval.gate import GateConfig, compare_slice
from synth.eval.metrics import score_item


def _run(set_dir, hyps_path, out, *extra):
    return main([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hyps_path}", "--out", str(out), "report=false",
                 "n_boot=500", *extra])


def test_gate_fails_against_better_baseline_and_passes_against_itself(tmp_path, capsys):
    items = ladder_items()
    set_dir = write_set(tmp_path / "set", items)
    good = write_hyps(tmp_path / "good.jsonl", {it["id"]: it["text"] for it in items})
    bad = write_hyps(tmp_path / "bad.jsonl", {it["id"]: corrupt(it["text"], 2 if it["id"].startswith("snr_0")
                                                                  else 0) for it in items})
    assert _run(set_dir, good, tmp_path / "base") == 0
    capsys.readouterr()
    rc = _run(set_dir, bad, tmp_path / "cur", f"gate.baseline={tmp_path / 'base' / 'results.json'}",
              "gate.max_wer_increase=0.02")
    out = capsys.readouterr().out
    assert rc == 1
    assert "REGRESSION slice snr_0" in out and "95% CI [" in out and "gate FAILED" in out
    assert "REGRESSION slice clean" not in out and "REGRESSION slice snr_10" not in out
    gate = json.loads((tmp_path / "cur" / "gate.json").read_text())
    assert not gate["passed"]
    # against itself: every delta is exactly 0
    assert _run(set_dir, bad, tmp_path / "cur2", f"gate.baseline={tmp_path / 'cur' / 'results.json'}") == 0
    assert "gate passed" in capsys.readouterr().out
    # a threshold larger than the whole degradation passes too
    assert _run(set_dir, bad, tmp_path / "cur3", f"gate.baseline={tmp_path / 'base' / 'results.json'}",
                "gate.max_wer_increase=0.9") == 0


def _items(n, errs_per_item, slice_="s"):
    out = []
    for k in range(n):
        ref = " ".join(f"w{j}" for j in range(10))
        out.append(score_item({"id": f"i{k}", "text": ref, "slice": {"slice": slice_}},
                              {"text": corrupt(ref, errs_per_item[k])}))
    return out


def test_one_bad_item_is_inconclusive_not_a_regression():
    base = _items(20, [0] * 20)
    cur = _items(20, [6] + [0] * 19)  # point delta 6/200 = 0.03 > 0.02, driven by one item
    v = compare_slice("s", cur, base, GateConfig(max_wer_increase=0.02))
    assert v.delta == pytest.approx(0.03) and v.status == "inconclusive" and v.paired
    assert v.delta_ci[0] == pytest.approx(0.0)


def test_relative_mode():
    base, cur = _items(30, [2] * 30), _items(30, [3] * 30)  # 0.2 -> 0.3: +50 % relative, every item alike
    assert compare_slice("s", cur, base, GateConfig(max_wer_increase=0.4, mode="relative")).status == "regression"
    assert compare_slice("s", cur, base, GateConfig(max_wer_increase=0.6, mode="relative")).status == "pass"
    assert compare_slice("s", cur, base, GateConfig(max_wer_increase=0.09)).status == "regression"
    assert compare_slice("s", cur, base, GateConfig(max_wer_increase=0.11)).status == "pass"


def test_unpaired_when_ids_differ():
    base = _items(40, [0] * 40)
    cur = [dict(it, id="x" + it["id"]) for it in _items(40, [3] * 40)]
    v = compare_slice("s", cur, base, GateConfig())
    assert not v.paired and v.status == "regression"
