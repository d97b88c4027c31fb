"""Tiny corpora for bad-input tests: a manifest in a tmp folder that points at ../shared/corpus files by
absolute path (nothing is copied) next to generated tmp audio; the CLI run as a user runs it."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from helpers import CORPUS, REPO, build_set, manifest

GOOD = CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav"
GOOD_ROW = {"path": str(GOOD), "kind": "speech", "speaker": "good_spk", "duration_s": 3.88,
            "transcript": "AUTHOR OF THE DANGER TRAIL PHILIP STEELS ETC", "license": "test"}
NOISE = CORPUS / "noise/speech_commands_running_tap.wav"
NOISE_ROW = {"path": str(NOISE), "kind": "noise", "duration_s": 61.156}
TINY = ("n_items=2", "room=none", "on_bad_input=skip")


def write_corpus(folder: Path, rows: list, noise: list | None = None) -> Path:
    """``folder/manifest.jsonl``: the good utterance, ``rows`` (dicts, or raw lines as strings), then
    ``noise`` rows (default: one real noise file)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [GOOD_ROW, *rows, *(noise if noise is not None else [NOISE_ROW])]
    (folder / "manifest.jsonl").write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in lines))
    return folder


def speech(path: Path, **row) -> dict:
    return {"path": str(path), "kind": "speech", "speaker": "bad_spk", "transcript": "HELLO THERE WORLD", **row}


def write_wav(path: Path, x: np.ndarray, sr: int = 16000) -> Path:
    sf.write(path, np.asarray(x, dtype=np.float32), sr, subtype="PCM_16" if np.max(np.abs(x)) > 1e-4 else "FLOAT")
    return path


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m synth.cli <args>`` in a new process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def cli_here(*args: str) -> subprocess.CompletedProcess:
    """The same entry point (``synth.cli.main``) in this process, for the many cases whose difference is only
    the input: same exit code and stderr, without paying interpreter and import start-up per case."""
    from synth.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(["synth", *args], code, out.getvalue(), err.getvalue())


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> str:
    """Exit code 2 and exactly one stderr line containing every needle; no traceback."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


def build_skipping(out: Path, root: Path, *overrides: str) -> tuple[dict, list[dict]]:
    """Build a tiny set in skip mode; return (card.json, manifest items)."""
    d = build_set(out, f"sources.root={root}", *TINY, *overrides)
    return json.loads((d / "card.json").read_text()), manifest(d)


def assert_skipped(card: dict, items: list[dict], where: str, needle: str, unused: Path | None = None) -> None:
    """The card lists exactly one skip at ``where`` whose problem mentions ``needle``; no item uses ``unused``."""
    hits = [s for s in card["skipped_inputs"] if s["path"] == where]
    assert len(hits) == 1 and needle in hits[0]["problem"], card["skipped_inputs"]
    assert items, "the good inputs still build"
    if unused is not None:
        assert all(unused.name not in json.dumps(it) for it in items)
