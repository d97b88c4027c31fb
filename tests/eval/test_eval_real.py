"""Real recordings with references next to a synthetic set (issue 10): same engine (pocketsphinx) and
normalizer on both, one report with REAL and synthetic WER and their ratio with intervals."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from synth.audio import load
from synth.errors import BadInput
from synth.cli import main as synth
from synth.eval.cli import main
from synth.eval.real import read_real

from evalsets import write_set

CARDS = [("speech/cmusphinx_cards/001.wav", "ten of clubs"), ("speech/cmusphinx_cards/003.wav", "seven of clubs"),
         ("speech/cmusphinx_goforward/goforward.wav", "go forward ten meters")]


@pytest.fixture
def synthetic_set(tmp_path, corpus_root):
    """The same utterances with white noise at ~5 dB SNR: a harder (synthetic) condition."""
    rng = np.random.default_rng(0)
    items = []
    for k, (rel, text) in enumerate(CARDS):
        x = load(corpus_root / rel, 16000)
        noise = rng.standard_normal(len(x)).astype(np.float32) * np.sqrt(np.mean(x ** 2) / 10 ** 0.5)
        items.append({"id": f"syn{k}", "text": text, "audio": x + noise, "sr": 16000, "slice": {"snr_db": "5"}})
    return write_set(tmp_path / "set", items)


def test_eval_reports_real_and_synthetic_wer_side_by_side(tmp_path, corpus_root, synthetic_set, capsys):
    manifest = tmp_path / "real" / "refs.jsonl"
    manifest.parent.mkdir()
    manifest.write_text("".join(json.dumps({"audio_filepath": str(corpus_root / rel), "text": text.upper()}) + "\n"
                                for rel, text in CARDS))
    out = tmp_path / "eval"
    assert main([str(synthetic_set), "asr=pocketsphinx", "--out", str(out), "n_boot=200", "--real", str(manifest)]) == 0
    printed = capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    real, cmp = res["real"], res["real_vs_synthetic"]
    assert real["real"] is True and real["n_items"] == 3 and {it["slice"] for it in real["items"]} == {"data=REAL"}
    assert real["summary"]["ref_words"] == res["summary"]["overall"]["ref_words"] == 10   # same normalizer
    assert cmp["real_wer"] == pytest.approx(real["summary"]["wer"])
    assert cmp["synthetic_wer"] == pytest.approx(res["summary"]["overall"]["wer"])
    assert cmp["synthetic_wer"] > cmp["real_wer"]          # 5 dB white noise hurts
    assert cmp["ratio"] == pytest.approx(cmp["real_wer"] / cmp["synthetic_wer"])
    lo, hi = cmp["ratio_ci"]
    assert lo <= cmp["ratio"] <= hi
    assert "REAL recordings" in printed and "ratio" in printed
    html = (out / "report" / "index.html").read_text()
    assert "<b>REAL</b> recordings" in html and "real / synthetic WER ratio" in html


def test_stm_references_and_bad_input(tmp_path, corpus_root):
    d = tmp_path / "stm"
    d.mkdir()
    shutil.copyfile(corpus_root / CARDS[2][0], d / "gf.wav")
    (d / "refs.stm").write_text(";; comment\ngf 1 A 1.2 2.7 <o,f0,male> forward ten meters\n"
                                "gf 1 A 0.1 1.2 go\ngf 1 A 2.7 2.8 ignore_time_segment_in_scoring\n")
    items = read_real(d / "refs.stm")
    assert [(it["id"], it["text"]) for it in items] == [("gf", "go forward ten meters")]
    (d / "bad.stm").write_text("nosuch 1 A 0 1 hello\n")
    with pytest.raises(BadInput, match="no nosuch.wav"):
        read_real(d / "bad.stm")
    assert synth(["eval", str(tmp_path), "--real", str(d / "refs.stm")]) == 2   # not a set: one line, exit 2
