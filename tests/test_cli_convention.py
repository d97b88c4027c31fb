"""One CLI convention (README, "One CLI convention"), held against every command's real ``--help``.

For each command of ``synth.cli.COMMANDS``: the README table has its row; every flag and key the row names
is in the command's help; a command that writes has ``--out`` (build: ``out_dir=`` and ``--out``); the
argparse commands take flags, spelled one way across commands (no ``--n``, ``--from``, ``--out-dir``...);
``--json`` is a switch that prints to stdout. Old spellings still run, with one ``hint:`` line naming a
spelling the command's help lists.
"""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys

import pytest

from synth import cli

from helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
PRINTS_ONLY = {"validate", "codecs", "stats"}  # no output file or folder
# one spelling per setting: any other spelling of these in an argparse help is a second dialect
SYNONYMS = {"--n": "--n-items", "--num-items": "--n-items", "--items": "--n-items", "--from": "<set>",
            "--manifest": "<set>", "--set": "<set>", "--out-dir": "--out", "--output": "--out", "--outdir": "--out",
            "--json-out": "--out", "--sources_root": "--sources-root", "--root": "--sources-root",
            "--on_bad_input": "--on-bad-input", "--skip-bad-input": "--on-bad-input", "--jobs": "--workers",
            "--num-workers": "--workers", "-j": "--workers", "--random-seed": "--seed", "--excludes": "--exclude",
            "--rttms": "--rttm", "--rttm-dir": "--rttm"}
OLD_SPELLINGS = [  # (command, argv with an old spelling that stops early, the spelling the hint must name)
    ("render", ["--from", "/nonexistent/manifest.jsonl", "--out", "/nonexistent/again"], "synth render /nonexistent"),
    ("roundtrip", ["/nonexistent", "--n", "1", "--out", "/nonexistent/rt"], "--n-items"),
    ("leakage", ["/nonexistent/a", "/nonexistent/b", "--json", "/nonexistent/x.json"], "--out"),
    ("eval", ["/nonexistent/set", "out=/nonexistent/run"], "--out"),
]


def help_text(cmd: str) -> str:
    if cmd == "build":  # Hydra prints it; run as a user would
        r = subprocess.run([sys.executable, "-m", "synth.cli", "build", "--help"], cwd=REPO, capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as e:
        cli.main([cmd, "--help"])
    assert e.value.code == 0
    return out.getvalue()


def table_rows() -> dict[str, list[str]]:
    section = README.split("## One CLI convention", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def options(text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", text))


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    return {cmd: help_text(cmd) for cmd in cli.COMMANDS}


def test_the_readme_table_lists_every_command():
    assert sorted(table_rows()) == sorted(cli.COMMANDS)


@pytest.mark.parametrize("cmd", list(cli.COMMANDS))
def test_the_help_has_what_the_table_says(helps, cmd):
    text = helps[cmd]
    _, inputs, output, settings = table_rows()[cmd]
    for token in re.findall(r"`([^`]+)`", output + " " + settings):
        for part in token.split():
            if part.startswith("--") or part.endswith("="):
                assert part.split("=")[0] + ("=" if part.endswith("=") else "") in text, (cmd, part)
    if cmd not in PRINTS_ONLY:
        assert "--out" in text, f"synth {cmd} writes output but its help has no --out"
    if cmd == "build":
        assert "out_dir=" in text and "key=value" in text
        return
    usage = " ".join(text.split("\n\n")[0].split())
    positionals = [w for w in re.sub(r"\[[^\]]*\]", "", usage.split(f"synth {cmd}", 1)[1]).split()
                   if not w.startswith("-") and not w.isupper() and w not in ("...",)]
    if inputs:
        assert positionals, f"synth {cmd}: its inputs are not positional ({usage})"


@pytest.mark.parametrize("cmd", [c for c in cli.COMMANDS if c != "build"])
def test_one_spelling_per_setting(helps, cmd):
    found = options(helps[cmd])
    bad = {o: SYNONYMS[o] for o in found if o in SYNONYMS}
    assert not bad, f"synth {cmd} spells settings another way: {bad}"
    if cmd in cli.HYDRA_COMMANDS:
        assert "key=value" in helps[cmd]
    for setting in ("--workers", "--seed", "--on-bad-input", "--sources-root", "--exclude", "--n-items", "--rttm"):
        if setting in found:  # a flag taking a value
            assert re.search(rf"{setting}[ =]\[?[A-Z_{{]", helps[cmd]), (cmd, setting)
    assert ("--on-bad-input" in found) == (cmd in cli.ON_BAD_INPUT_FLAG), cmd


@pytest.mark.parametrize("cmd", [c for c in cli.COMMANDS if c != "build"])
def test_json_is_a_switch_that_prints_to_stdout(helps, cmd):
    text = helps[cmd]
    if "--json" not in options(text):
        return
    line = " ".join(text.split("--json", 2)[2 if text.count("--json") > 1 else 1].split()[:14])
    assert not re.match(r"[A-Z_]{2,}", line), f"synth {cmd}: --json takes a value ({line})"
    assert "JSON" in line and "stdout" in line, f"synth {cmd}: --json help does not say it prints to stdout: {line}"


@pytest.mark.parametrize("cmd, argv, new", OLD_SPELLINGS)
def test_old_spellings_still_work_with_a_hint_that_names_an_accepted_option(helps, cmd, argv, new, capsys):
    code = cli.main([cmd, *argv])
    err = capsys.readouterr().err.splitlines()
    hints = [l for l in err if l.startswith("hint:")]
    assert len(hints) == 1 and new in hints[0], err
    assert code == 2 and len(err) == 2, err  # the hint, then the command's own one-line error (missing input)
    if new.startswith("--"):
        assert new in options(helps[cmd]), f"the hint names {new}, which synth {cmd} --help does not list"


def test_n_items_under_a_suite_says_it_is_ignored_and_names_the_knob():
    r = subprocess.run([sys.executable, "-m", "synth.cli", "build", "suite=snr_ladder", "n_items=3",
                        "sources.root=/nonexistent", "out_dir=/nonexistent/x"], cwd=REPO, capture_output=True,
                       text=True, timeout=120)
    note = [l for l in r.stderr.splitlines() if "n_items" in l]
    assert len(note) == 1 and "ignored" in note[0] and "suite.n_sources" in note[0], r.stderr


def test_a_profile_file_in_a_sweep_is_one_line(tmp_path):
    p = tmp_path / "fitted.yaml"
    p.write_text((REPO / "conf/profile/voip_wideband.yaml").read_text())
    r = subprocess.run([sys.executable, "-m", "synth.cli", "build", "-m", f"profile={p},call_center_narrowband",
                        f"out_dir={tmp_path / 'sweep'}"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "HYDRA_FULL_ERROR" not in r.stderr, r.stderr
    assert "profile=<file>" in r.stderr and not (tmp_path / "sweep").exists()


@pytest.mark.parametrize("cmd, accepts", [("fit", True), ("align", True), ("target", False), ("compare", False)])
def test_bad_input_advice_names_what_the_command_accepts(cmd, accepts):
    line = cli.advice_for(cmd, "bad input x.flac: is empty; fix or remove the file, or set on_bad_input=skip")
    assert ("--on-bad-input skip" in line) == accepts and "on_bad_input=" not in line


def test_two_hydra_modes_at_once_are_one_line_not_an_internal_error(tmp_path):
    r = subprocess.run([sys.executable, "-m", "synth.cli", "build", "-m", "n_items=1,2", f"out_dir={tmp_path / 's'}",
                        "--cfg", "job"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1 and "internal error" not in r.stderr, r.stderr
    assert "--cfg and -m cannot go together" in r.stderr and not (tmp_path / "s").exists()
