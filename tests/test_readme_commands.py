"""The README's bash blocks run as written, in order, in a fresh copy of the repository; the test fails
at the first command that fails.

* The copy: every file git tracks or would track (``git ls-files -co --exclude-standard``, so edits not yet
  committed are tested too) in ``<tmp>/synth``, beside ``<tmp>/shared`` -> the real ``../shared``, so the
  README's ``../shared/corpus`` is there. Commands run from the copy; ``synth`` on PATH runs its code.
* Not run, and only these: the install steps of a line (``pip install ...``, and ``python -m pytest``,
  which is this suite), and a block right after ``<!-- not-run: <what it needs> -->`` (an ASR model or
  program, your own corpus, a Ray cluster). Lines are split as the shell would (no globbing is needed).
* Sizes: with ``SYNTH_README_SMALL=1`` (the default here; ``0`` runs the README's own sizes) every
  ``synth build`` gets ``n_items=2`` appended, or ``suite.n_sources=1`` under a suite (one item per slice),
  and single-talker items last 3 s (``++scenario.duration_s=3``), so pocketsphinx, the slowest step, decodes
  the suite's 7 items in well under a CPU-minute. Everything else is as written.
* No two commands write the same folder, and a command reading ``out/...`` reads what an earlier README
  command wrote (the examples never collide and never read a set nothing builds).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys

import pytest

from helpers import REPO

SMALL = os.environ.get("SYNTH_README_SMALL", "1") != "0"
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(.+?)\s*-->")


def readme_commands(text: str) -> tuple[list[list[str]], list[str]]:
    """(the commands to run, each a list of arguments; the reasons of the blocks marked not-run)."""
    commands, skipped = [], []
    for m in re.finditer(r"^```bash\n(.*?)^```", text, flags=re.M | re.S):
        before = [l for l in text[:m.start()].splitlines() if l.strip()]
        reason = NOT_RUN.search(before[-1]) if before else None
        if reason:
            skipped.append(reason.group(1))
            continue
        for line in m.group(1).replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            parts, cur = [], []
            for t in tokens + ["&&"]:
                if t == "&&":
                    parts.append(cur)
                    cur = []
                else:
                    cur.append(t)
            for part in parts:
                if part and part[0] != "pip" and part[:3] != ["python", "-m", "pytest"]:
                    commands.append(part)
    return commands, skipped


def shrunk(cmd: list[str]) -> list[str]:
    if not (SMALL and cmd[:2] == ["synth", "build"]):
        return cmd
    small = ["suite.n_sources=1"] if any(a.startswith("suite=") for a in cmd) else ["n_items=2"]
    if not any(a.startswith(("scenario=", "profile=")) for a in cmd):
        small.append("++scenario.duration_s=3")  # 3 s single-talker items (fixed length, as fitted profiles do)
    return cmd + small


def outputs_and_inputs(cmd: list[str]) -> tuple[list[str], list[str]]:
    """Folders/files the command writes, and the out/... paths it reads."""
    outs = [a.split("=", 1)[1] for a in cmd if a.startswith("out_dir=")]
    outs += [cmd[i + 1] for i, a in enumerate(cmd[:-1]) if a == "--out"]
    if cmd[:2] == ["synth", "build"] and not outs:
        outs = ["out/demo"]
    ins = [a for a in cmd[2:] if a.startswith("out/") and a not in outs]
    ins += [a.split("=", 1)[1] for a in cmd if re.match(r"^gate\.baseline=out/", a)]
    return outs, ins


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    root = tmp_path_factory.mktemp("readme_run")
    dst = root / "synth"
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for f in filter(None, files):
        src = REPO / f
        if src.is_file():
            (dst / f).parent.mkdir(parents=True, exist_ok=True)
            (dst / f).write_bytes(src.read_bytes())
    (root / "shared").symlink_to((REPO.parent / "shared").resolve())
    bin_dir = root / "bin"
    bin_dir.mkdir()
    (bin_dir / "synth").write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m synth.cli \"$@\"\n")
    (bin_dir / "synth").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(dst)}
    env.pop("SYNTH_CONF", None)
    return dst, env


def test_the_not_run_blocks_say_why():
    _, skipped = readme_commands((REPO / "README.md").read_text(encoding="utf-8"))
    assert skipped and all(len(r.split()) >= 3 for r in skipped), skipped


@pytest.mark.slow
def test_the_readmes_commands_run_as_written(copy):
    dst, env = copy
    commands, _ = readme_commands((dst / "README.md").read_text(encoding="utf-8"))
    assert sum(c[:2] == ["synth", "build"] for c in commands) >= 5, commands
    written: list[str] = []
    for cmd in commands:
        outs, ins = outputs_and_inputs(cmd)
        for o in outs:
            assert not any(o == w or o.startswith(w.rstrip("/") + "/") or w.startswith(o.rstrip("/") + "/")
                           for w in written), \
                f"`{shlex.join(cmd)}` writes {o}, where an earlier README command wrote"
        for i in ins:
            assert any(i == w or i.startswith(w.rstrip("/") + "/") for w in written), \
                f"`{shlex.join(cmd)}` reads {i}, which no earlier README command writes"
        run = shrunk(cmd)
        r = subprocess.run(run, cwd=dst, env=env, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, f"README command failed (exit {r.returncode}): {shlex.join(run)}\n{r.stderr[-2000:]}"
        written += outs
