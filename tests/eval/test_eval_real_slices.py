"""``synth eval --real`` per slice and with terms: real telephone calls (../shared/corpus/telephone, with
their device) next to a set built from a ``synth fit --by device`` mixture of those calls; pocketsphinx on
both sides. Real and synthetic WER are reported per device, and term recall / TER on the real calls too."""

from __future__ import annotations

import json

import pytest

from synth.eval.cli import main as eval_main
from synth.profiles import fit

from helpers import CORPUS, build_set, manifest

TELEPHONE = CORPUS / "telephone"


def calls(path, per_device: int, devices=("landline", "cellphone"), max_s: float = 3.5) -> list[dict]:
    rows = [json.loads(line) for line in (TELEPHONE / "manifest.jsonl").read_text().splitlines() if line.strip()]
    out = []
    for d in devices:
        out += [{**r, "audio_filepath": str(TELEPHONE / r["audio_filepath"])}
                for r in rows if r["device"] == d and r["duration"] <= max_s and r["keyword"].lower() in r["text"]][:per_device]
    path.write_text("".join(json.dumps(r) + "\n" for r in out))
    return out


def short_speech(path, max_s: float = 3.0):
    """A NeMo manifest of the corpus utterances up to ``max_s`` (pocketsphinx keeps the test short)."""
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines() if line.strip()]
    path.write_text("".join(json.dumps({"audio_filepath": str(CORPUS / r["path"]), "text": r["transcript"],
                                        "speaker": r["speaker"], "duration": r["duration_s"]}) + "\n"
                            for r in rows if r["kind"] == "speech" and r["duration_s"] <= max_s))
    return path


def test_eval_real_reports_wer_per_device_and_terms_on_the_real_calls(tmp_path, capsys):
    real = calls(tmp_path / "calls.jsonl", 2)   # short calls: pocketsphinx runs at about real time here
    assert fit.main([str(tmp_path / "calls.jsonl"), "--by", "device", "--out", str(tmp_path / "fit" / "calls.yaml")]) == 0
    s = build_set(tmp_path / "set", f"profile={tmp_path / 'fit' / 'calls.yaml'}", "n_items=4",
                  "scenario.duration_s=[1.5,3]", f"sources.speech={short_speech(tmp_path / 'short.jsonl')}")
    devices = {it["slice"]["device"] for it in manifest(s)}
    assert devices == {"landline", "cellphone"}
    terms = tmp_path / "terms.txt"
    words = sorted({r["keyword"].lower() for r in real})
    terms.write_text("\n".join(words) + "\n")
    out = tmp_path / "eval"
    assert eval_main([str(s), "asr=pocketsphinx", "--out", str(out), "n_boot=200", f"terms={terms}",
                      "--real", str(tmp_path / "calls.jsonl")]) == 0
    res = json.loads((out / "results.json").read_text())
    by = res["real_vs_synthetic"]["by"]["device"]
    assert set(by) == devices
    for dev, v in by.items():
        real_items = [it for it in res["real"]["items"] if it["meta"]["device"] == dev]
        syn_items = [it for it in res["items"] if it["slice_labels"]["device"] == dev]
        assert v["n_real"] == len(real_items) == 2 and v["n_synthetic"] == len(syn_items)
        e, n = sum(it["wer"]["errors"] for it in real_items), sum(it["wer"]["ref_words"] for it in real_items)
        assert v["real_wer"] == pytest.approx(e / n)
        assert v["synthetic_wer"] == pytest.approx(sum(it["wer"]["errors"] for it in syn_items)
                                                   / sum(it["wer"]["ref_words"] for it in syn_items))
    t = res["real"]["summary"]["terms"]["overall"]   # term figures on the real side too
    assert t["ref"] >= len(real) and t["recall"] is not None and t["ter"] is not None
    assert set(res["real_vs_synthetic"]["terms_by"]["device"]) == devices
    printed = capsys.readouterr().out
    assert "device=landline: REAL" in printed and "REAL terms: recall" in printed
    html = (out / "report" / "index.html").read_text()
    assert "Real vs synthetic per slice" in html and "Domain terms, real vs synthetic" in html
