"""Two small stress suites on ../shared/corpus, scored with hypotheses whose per-slice errors are set by the
test (so the expected ranking of slices is known), shared by the target and leakage tests."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from helpers import build_set, manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "eval"))  # evalsets: tiny hand-made eval sets

# substitutions per pair index (6 pairs); slices not listed are transcribed exactly
SNR_ERRORS = {"clean": [1, 0, 0, 0, 0, 0], "snr_20": [0, 3, 0, 0, 0, 0], "snr_10": [1] * 6, "snr_5": [2] * 6,
              "snr_0": [3] * 6, "snr_-5": [5] * 6}
CODEC_ERRORS = {"amr_nb_4k75": [4] * 6, "gsm_fr": [2] * 6, "g722": [1] * 6, "transcode_3hop": [3] * 6}


def write_controlled_hyps(set_dir: Path, errors: dict, path: Path) -> Path:
    """Hypotheses = reference with the first k words replaced by 'zzz' (k substitutions)."""
    lines = []
    for it in manifest(set_dir):
        words = it["text"].split()
        k = min(errors.get(it["slice"]["slice"], [0] * 6)[int(it["pair_id"].split("-")[1])], len(words))
        lines.append(json.dumps({"id": it["id"], "text": " ".join(["zzz"] * k + words[k:])}))
    path.write_text("\n".join(lines) + "\n")
    return path


def eval_with(set_dir: Path, hyps: Path, out: Path, *extra: str) -> Path:
    from synth.eval.cli import main

    assert main([str(set_dir), "asr=hypotheses", f"asr.hypotheses={hyps}", "--out", str(out), "report=false",
                 "n_boot=500", *extra]) == 0
    return out / "results.json"


@pytest.fixture(scope="session")
def suites(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("suites")
    snr = build_set(root / "snr", "suite=snr_ladder", "suite.n_sources=6", "scenario.utterances=1")
    codec = build_set(root / "codec", "suite=codec_matrix", "suite.n_sources=6", "scenario.utterances=1")
    return {"snr": snr, "codec": codec,
            "snr_results": eval_with(snr, write_controlled_hyps(snr, SNR_ERRORS, root / "snr_h.jsonl"),
                                     root / "snr_eval"),
            "codec_results": eval_with(codec, write_controlled_hyps(codec, CODEC_ERRORS, root / "codec_h.jsonl"),
                                       root / "codec_eval")}
