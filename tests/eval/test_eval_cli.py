"""synth eval CLI: key=value parsing, defaults file, exit codes with one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalsets import write_hyps
from synth.eval.cli import config_defaults, main, parse_overrides

REPO = Path(__file__).resolve().parents[2]


def test_conf_file_mirrors_dataclass_defaults():
    assert yaml.safe_load((REPO / "conf/eval/default.yaml").read_text()) == config_defaults()


def test_overrides_are_typed():
    cfg = parse_overrides(["asr=faster_whisper", "asr.model=/models/small", "asr.vad_filter=true",
                           "workers=2", "gate.max_wer_increase=0.05", "gate.mode=relative",
                           "normalize.fillers=uh,er", "report=false", "asr.extra={\"temperature\": 0}"])
    assert cfg.asr.name == "faster_whisper" and cfg.asr.vad_filter is True and cfg.workers == 2
    assert cfg.gate.max_wer_increase == 0.05 and cfg.gate.mode == "relative"
    assert cfg.normalize.fillers == ("uh", "er") and cfg.report.enabled is False
    assert cfg.asr.extra == {"temperature": 0}
    quoted = parse_overrides(["asr=command", 'asr.command="my_asr --wav {audio}"', "asr.model='a b'"])
    assert quoted.asr.command == "my_asr --wav {audio}" and quoted.asr.model == "a b"  # quoted as Hydra takes them


@pytest.mark.parametrize("args, needle", [
    (["asr=pocketsphinx", "wokers=2"], "unknown key 'wokers'"),
    (["asr.modle=x"], "unknown key 'asr.modle'"),
    (["workers=two"], "workers='two' is not an integer"),
    (["asr=kaldi"], "asr='kaldi' is not an engine"),
    (["asr=command"], "asr=command needs asr.command"),
    (["gate.mode=sideways"], "gate.mode"),
    (["asr=hypotheses", "asr.hypotheses=/nonexistent.jsonl"], "/nonexistent.jsonl"),
    (["gate.baseline=/nonexistent/results.json"], "/nonexistent/results.json"),
])
def test_bad_input_exits_2_with_one_line(ladder_set, capsys, args, needle):
    assert main([str(ladder_set), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_set_exits_2(tmp_path, capsys):
    assert main([str(tmp_path / "nope"), "asr=pocketsphinx"]) == 2
    assert "manifest.jsonl" in capsys.readouterr().err


def test_success_prints_table_and_paths(tmp_path, ladder_set, capsys):
    items = [l for l in (ladder_set / "manifest.jsonl").read_text().splitlines()]
    import json
    hp = write_hyps(tmp_path / "h.jsonl", {json.loads(l)["id"]: json.loads(l)["text"] for l in items})
    assert main([str(ladder_set), "asr=hypotheses", f"asr.hypotheses={hp}", "n_boot=200"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "results.json" in out and "report:" in out
