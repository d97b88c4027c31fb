"""synth fit-turns on the real AMI excerpts in the shared corpus."""

from __future__ import annotations

import pytest
import yaml

from synth.errors import BadInput
from synth.scene.fit_turns import fit_turns, main
from synth.writer.rttm import read_rttm
from synth.scene.turn_stats import realized_stats
from synth.scene.turns import TurnModel, ks_distance


def test_fit_on_corpus_rttms(corpus_root):
    folder = corpus_root / "conversation"
    cfg = fit_turns([folder], calibrate_sim=False)
    segs = [s for f in sorted(folder.rglob("*.rttm")) for s in read_rttm(f).values()]
    stats = [realized_stats(s) for s in segs]
    gaps = [g for s in stats for g in s["gaps_s"]]
    overlaps = [o for s in stats for o in s["overlaps_s"]]
    assert cfg["fitted"]["n_conversations"] == 2 and cfg["fitted"]["n_gaps"] == len(gaps) > 0
    # the histograms reproduce the measured intervals (10 ms bins)
    m = TurnModel.from_config(cfg)
    assert ks_distance(gaps, m.gap_s) <= 1.0 / len(gaps) + 1e-9
    assert ks_distance(overlaps, m.overlap_s) <= 1.0 / len(overlaps) + 1e-9
    assert cfg["p_overlap"] == pytest.approx(len(overlaps) / (len(gaps) + len(overlaps)), abs=1e-4)
    speech = sum(s["speech_s"] for s in stats)
    assert cfg["targets"]["overlap_ratio"] == pytest.approx(sum(s["overlap_s"] for s in stats) / speech, abs=1e-4)
    assert 0 < cfg["targets"]["silence_ratio"] < 1


def test_cli_writes_yaml_usable_as_turns_block(corpus_root, tmp_path, capsys):
    out = tmp_path / "turns.yaml"
    assert main([str(corpus_root / "conversation"), "--out", str(out)]) == 0
    block = yaml.safe_load(out.read_text())
    m = TurnModel.from_config(block)
    assert m.gap_s.to_config()["histogram"]["counts"]
    assert "overlap ratio" in capsys.readouterr().out


def test_bad_rttm_line_names_file_and_line(tmp_path):
    p = tmp_path / "x.rttm"
    p.write_text("SPEAKER a 1 0.0 1.0 <NA> <NA> A <NA> <NA>\nSPEAKER a 1 zero 1.0 <NA> <NA> B <NA> <NA>\n")
    with pytest.raises(BadInput, match=r"x\.rttm:2"):
        fit_turns([p])
    with pytest.raises(BadInput, match="no \\*.rttm"):
        fit_turns([tmp_path / "empty"] if (tmp_path / "empty").mkdir() is None else [])
    p.write_text("SPEAKER a 1 0.0\n")
    with pytest.raises(BadInput, match=r"x\.rttm:1.*fields"):
        read_rttm(p)
