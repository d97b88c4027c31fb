"""Domain terms in synth eval: term recall and term error rate per slice, exact on hypotheses with known term
errors (misses, a split product name, a term in the wrong place, a falsely inserted term)."""

from __future__ import annotations

import json

import pytest

from evalsets import write_hyps, write_set
from synth.cli import main as synth
from synth.eval.cli import main as synth_eval
from synth.eval.metrics import align, load_terms, term_counts

TERMS = "AcmePay\naccount number\n10\n# a comment line\n\n"
REFS = ["please read my account number to AcmePay", "send 10 dollars", "AcmePay is great"]
HYPS = {  # (slice, k) -> hypothesis; comments: term outcomes
    ("clean", 0): "please read my account number to acmepay",      # 2 recognized
    ("clean", 1): "send ten dollars acmepay",                      # 1 recognized, 1 falsely inserted
    ("clean", 2): "acmepay is great",                              # 1 recognized
    ("noisy", 0): "please read my account numbers to acme pay",    # 2 missed (a changed word, a split name)
    ("noisy", 1): "spend ten dollars",                             # 1 recognized
    ("noisy", 2): "is great acmepay",                              # 1 missed + 1 falsely inserted (wrong place)
}


@pytest.fixture
def term_set(tmp_path):
    items = [{"id": f"{s}-{k}", "text": REFS[k], "slice": {"slice": s}, "pair_id": f"pair-{k}", "source_id": f"src-{k}"}
             for s in ("clean", "noisy") for k in range(3)]
    set_dir = write_set(tmp_path / "set", items)
    hyps = write_hyps(tmp_path / "h.jsonl", {f"{s}-{k}": h for (s, k), h in HYPS.items()})
    terms = tmp_path / "terms.txt"
    terms.write_text(TERMS)
    return set_dir, hyps, terms


def test_term_counts_per_item(tmp_path):
    p = tmp_path / "t.txt"
    p.write_text(TERMS)
    terms = load_terms(p)
    assert terms == [("account", "number"), ("acmepay",), ("ten",)]  # normalized, longest first

    def counts(ref, hyp):
        return term_counts(ref, hyp, align(ref, hyp)["ops"], terms)

    assert counts("is great acmepay", "acmepay is great") == {"ref": 1, "recognized": 0, "missed": 1, "false": 1,
                                                                "errors": 2}
    assert counts("my account number", "my account uh number")["missed"] == 1  # not consecutive in the hypothesis
    assert counts("ten ten", "ten")["recognized"] == 1 and counts("ten ten", "ten")["missed"] == 1


def test_term_error_rate_is_exact_per_slice(term_set, tmp_path, capsys):
    set_dir, hyps, terms = term_set
    out = tmp_path / "ev"
    assert synth_eval([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hyps}", f"terms={terms}", "--out", str(out),
                       "n_boot=200"]) == 0
    assert "Domain terms" in capsys.readouterr().out
    t = json.loads((out / "results.json").read_text())["summary"]["terms"]
    clean, noisy, overall = t["slices"]["clean"], t["slices"]["noisy"], t["overall"]
    assert (clean["ref"], clean["recognized"], clean["missed"], clean["false"]) == (4, 4, 0, 1)
    assert clean["recall"] == 1.0 and clean["ter"] == 0.25
    assert (noisy["ref"], noisy["recognized"], noisy["missed"], noisy["false"]) == (4, 1, 3, 1)
    assert noisy["recall"] == 0.25 and noisy["ter"] == 1.0
    assert overall["ter"] == 5 / 8 and overall["recall"] == 5 / 8
    assert noisy["paired_vs_ref"]["delta"] == pytest.approx(0.75)
    assert "Domain terms" in (out / "report" / "index.html").read_text()


@pytest.mark.parametrize("content, needle", [(None, "cannot be read"), ("# only a comment\n\n", "holds no terms")])
def test_bad_term_file_exits_2(term_set, tmp_path, capsys, content, needle):
    set_dir, hyps, _ = term_set
    terms = tmp_path / "bad_terms.txt"
    if content is not None:
        terms.write_text(content)
    assert synth(["eval", str(set_dir), "asr=hypotheses", f"asr.hypotheses={hyps}", f"terms={terms}"]) == 2
    err = capsys.readouterr().err
    assert needle in err and "bad_terms.txt" in err and err.count("\n") == 1
