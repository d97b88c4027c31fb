"""synth eval CLI: the config composed from conf/eval/default.yaml, exit codes with one-line errors, run folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from evalsets import write_hyps
from synth.cli import main as synth
from synth.eval.cli import SECTIONS, compose_eval, main

REPO = Path(__file__).resolve().parents[2]


def test_the_python_api_defaults_are_the_cli_defaults():
    """conf/eval/default.yaml is the CLI's only source of defaults; the library's section types
    (EngineSpec(), NormalizerConfig(), GateConfig() in Python code) must agree with it."""
    import dataclasses

    conf = yaml.safe_load((REPO / "conf/eval/default.yaml").read_text())
    cfg = compose_eval([])
    for name, cls in SECTIONS.items():
        assert set(conf[name]) == {f.name for f in dataclasses.fields(cls)}, name
        if name != "report":
            assert getattr(cfg, name) == cls(), name


def test_overrides_are_typed():
    cfg = compose_eval(["asr=faster_whisper", "asr.model=/models/small", "asr.vad_filter=true",
                           "workers=2", "gate.max_wer_increase=0.05", "gate.mode=relative",
                           "normalize.fillers=uh,er", "report=false", "asr.extra={\"temperature\": 0}"])
    assert cfg.asr.name == "faster_whisper" and cfg.asr.vad_filter is True and cfg.workers == 2
    assert cfg.gate.max_wer_increase == 0.05 and cfg.gate.mode == "relative"
    assert cfg.normalize.fillers == ("uh", "er") and cfg.report.enabled is False
    assert cfg.asr.extra == {"temperature": 0}
    quoted = compose_eval(["asr=command", 'asr.command="my_asr --wav {audio}"', "asr.model='a b'"])
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
    assert synth(["eval", str(ladder_set), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err


def test_missing_set_exits_2(tmp_path, capsys):
    assert synth(["eval", str(tmp_path / "nope"), "asr=pocketsphinx"]) == 2
    assert "manifest.jsonl" in capsys.readouterr().err


def test_success_prints_table_and_paths(tmp_path, ladder_set, capsys):
    items = [l for l in (ladder_set / "manifest.jsonl").read_text().splitlines()]
    import json
    hp = write_hyps(tmp_path / "h.jsonl", {json.loads(l)["id"]: json.loads(l)["text"] for l in items})
    assert main([str(ladder_set), "asr=hypotheses", f"asr.hypotheses={hp}", "n_boot=200"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "results.json" in out and "report:" in out


def test_a_second_eval_with_the_same_engine_gets_its_own_run_folder(tmp_path, ladder_set, capsys):
    import json
    items = [json.loads(l) for l in (ladder_set / "manifest.jsonl").read_text().splitlines()]
    hp = write_hyps(tmp_path / "h.jsonl", {it["id"]: it["text"] for it in items})
    args = [str(ladder_set), "asr=hypotheses", f"asr.hypotheses={hp}", "n_boot=200", "report=false",
            f"cache_dir={tmp_path / 'ev'}"]
    assert main(args) == 0 and main([*args, "seed=1"]) == 0
    runs = sorted(p.parent.name for p in (tmp_path / "ev").glob("*/results.json"))
    assert len(runs) == 2 and runs[1] == runs[0] + "-2", runs
    assert json.loads((tmp_path / "ev" / runs[1] / "results.json").read_text())["bootstrap"]["seed"] == 1
    assert json.loads((tmp_path / "ev" / runs[0] / "results.json").read_text())["bootstrap"]["seed"] == 0


def test_old_out_key_still_works_with_a_hint(tmp_path, ladder_set, capsys):
    import json
    items = [json.loads(l) for l in (ladder_set / "manifest.jsonl").read_text().splitlines()]
    hp = write_hyps(tmp_path / "h.jsonl", {it["id"]: it["text"] for it in items})
    assert main([str(ladder_set), "asr=hypotheses", f"asr.hypotheses={hp}", "n_boot=200", "report=false",
                 f"out={tmp_path / 'run'}"]) == 0
    assert (tmp_path / "run" / "results.json").is_file()
    assert "hint: synth eval out=DIR is now --out DIR" in capsys.readouterr().err
