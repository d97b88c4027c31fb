"""scripts/telephone_fidelity.py leaves the product names out of the real calls' WER: the hand-marked keyword
span is cut out of the audio and its words out of the reference; a call that says the name more than once
(one span is marked) or not at all is left out."""

from __future__ import annotations

import importlib.util
import json

import soundfile as sf

from helpers import CORPUS, REPO

_spec = importlib.util.spec_from_file_location("telephone_fidelity", REPO / "scripts" / "telephone_fidelity.py")
TF = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(TF)
TEL = CORPUS / "telephone"


def _rows():
    return [json.loads(ln) for ln in (TEL / "manifest.jsonl").read_text().splitlines() if ln.strip()]


def test_keyword_span_and_words_are_cut(tmp_path):
    assert TF.keyword_words("ThinkEngine") == ["think", "engine"]
    rows = _rows()
    once = next(r for r in rows if r["keyword"] == "ThinkEngine" and r["text"].count("think engine") == 1)
    out = TF.drop_keyword(once, TEL, tmp_path)
    x, sr = sf.read(str(TEL / once["audio_filepath"]))
    y, sr2 = sf.read(out["audio_filepath"])
    span = round(once["keyword_end"] * sr) - round(once["keyword_start"] * sr)
    assert sr2 == sr and abs((len(x) - len(y)) - span) <= 2             # the span, and only it, is gone
    assert out["text"].split() == once["text"].replace("think engine", " ").split()
    assert "think engine" not in out["text"] and abs(out["duration"] - len(y) / sr) < 1e-3


def test_calls_without_exactly_one_keyword_are_left_out(tmp_path):
    rows = _rows()
    twice = next(r for r in rows if r["text"].split().count(r["keyword"].lower()) >= 2)
    absent = next(r for r in rows if not any(w in r["text"] for w in TF.keyword_words(r["keyword"])))
    assert TF.drop_keyword(twice, TEL, tmp_path) is None
    assert TF.drop_keyword(absent, TEL, tmp_path) is None
