"""Issue 9 part 6: `synth fit <dir> --out <file beside dir>` finds the recordings, and `scenario.turns=<file>`
reads the file `synth fit-turns` wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import soundfile as sf
import yaml

from corpus_kit import cli_here
from helpers import CORPUS, REPO, build_set, manifest
from synth.scene.turn_stats import realized_stats

RECORDINGS = [CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav", CORPUS / "speech/cmu_arctic_axb/arctic_a0004.wav"]


def _fit(cwd, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this worktree's synth, run from the user's folder
    return subprocess.run([sys.executable, "-m", "synth.cli", "fit", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_fit_with_the_profile_beside_the_input_folder(tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    for p in RECORDINGS:  # real files in a tmp folder (a link would hide the bug: fit resolved links)
        x, sr = sf.read(str(p))
        sf.write(calls / p.name, x, sr)
    r = _fit(tmp_path, "calls/", "--out", "profile.yaml")
    assert r.returncode == 0, r.stderr[-2000:]
    assert "fitted 2 recordings -> profile.yaml" in r.stdout
    assert yaml.safe_load((tmp_path / "profile.yaml").read_text())["fitted"]["level_dbov"]
    # a noise bank written inside the input folder is fit's own output: a rerun does not analyse it
    (calls / "bank").mkdir()
    sf.write(calls / "bank" / "harvested.wav", 0.01 * np.random.default_rng(0).standard_normal(16000), 16000)
    r = _fit(tmp_path, "calls", "--out", "profile.yaml", "--noise-bank", "calls/bank")
    assert r.returncode == 0 and "fitted 2 recordings" in r.stdout, r.stderr[-2000:]


def test_scenario_turns_reads_a_fit_turns_file(tmp_path):
    turns = tmp_path / "turns.yaml"
    r = cli_here("fit-turns", str(CORPUS / "conversation"), "--out", str(turns))
    assert r.returncode == 0, r.stderr
    block = yaml.safe_load(turns.read_text())
    out = build_set(tmp_path / "set", "scenario=conversation", f"scenario.turns={turns}", "n_items=8", "room=none",
                    "noise=none", "scenario.duration_s=28.5", "scenario.backchannel_max_s=5.0")
    # the set describes itself: its config holds the fitted block, not a path that may change or vanish
    saved = yaml.safe_load((out / "config.yaml").read_text())["scenario"]["turns"]
    assert saved["gap_s"] == block["gap_s"] and saved["targets"] == block["targets"]
    # the fitted (AMI) gaps drove the timeline, not the default ones: the default gap model has a median
    # of 0.3 s and clips at 7 s; the fitted histogram starts at 0.8 s
    gaps = [g for it in manifest(out) for g in
            realized_stats([(s["speaker"], s["start"], s["end"]) for s in it["segments"]])["gaps_s"]]
    edges = block["gap_s"]["histogram"]["edges"]
    assert len(gaps) >= 8 and min(gaps) >= edges[0] - 1e-3 and np.median(gaps) > 1.0
    stats = json.loads(cli_here("stats", str(out), "--json").stdout)
    assert stats["target"]["source"] == "fitted from RTTMs"
    assert stats["target"]["overlap_ratio"] == block["targets"]["overlap_ratio"]
