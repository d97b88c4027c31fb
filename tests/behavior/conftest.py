"""Word alignments and a filler bank made at test time with `synth align` (pocketsphinx, a few seconds),
from ../shared/corpus by path: nothing of the corpus is copied into the repository."""

from __future__ import annotations

import json

import pytest

from synth.align.cli import run as align

from helpers import CORPUS

# corpus utterances of several words (two per speaker, so a talker can say two in one item)
SPEECH = ["speech/cmu_arctic_aew/arctic_a0001.wav", "speech/cmu_arctic_aew/arctic_a0002.wav",
          "speech/cmusphinx_cards/005.wav", "speech/cmusphinx_cards/001.wav",
          "speech/librivox_sense_sensibility_reader/sense_and_sensibility_01_austen_64kb-0880.wav"]


# four speakers with two or three utterances each: conversations and meetings of up to four talkers
TALKERS = SPEECH[:2] + ["speech/cmu_arctic_aew/arctic_a0003.wav", "speech/cmu_arctic_axb/arctic_a0004.wav",
                        "speech/cmu_arctic_axb/arctic_a0006.wav", "speech/cmusphinx_cards/005.wav",
                        "speech/cmusphinx_cards/002.wav",
                        "speech/librivox_sense_sensibility_reader/sense_and_sensibility_01_austen_64kb-0870.wav",
                        SPEECH[4]]


def aligned_manifest(tmp, paths: list[str]):
    rows = {r["path"]: r for r in map(json.loads, (CORPUS / "manifest.jsonl").read_text().splitlines())}
    src = tmp / "speech.jsonl"
    src.write_text("".join(json.dumps({"audio_filepath": str(CORPUS / p), "text": rows[p]["transcript"],
                                       "speaker": rows[p]["speaker"], "gender": rows[p].get("gender"),
                                       "duration": rows[p]["duration_s"]}) + "\n" for p in paths))
    s = align(str(src), str(tmp / "aligned.jsonl"))
    assert s["aligned"] == len(paths)
    return tmp / "aligned.jsonl"


@pytest.fixture(scope="session")
def aligned_speech(tmp_path_factory):
    """A NeMo manifest of real corpus utterances with `words` (use as sources.speech)."""
    return aligned_manifest(tmp_path_factory.mktemp("aligned"), SPEECH)


@pytest.fixture(scope="session")
def aligned_talkers(tmp_path_factory):
    """Like ``aligned_speech`` with four speakers (conversations and meetings)."""
    return aligned_manifest(tmp_path_factory.mktemp("aligned_talkers"), TALKERS)


@pytest.fixture(scope="session")
def filler_bank(tmp_path_factory):
    """A bank of real fillers harvested from a few telephone calls' verbatim transcripts."""
    tmp = tmp_path_factory.mktemp("bank")
    rows = [json.loads(l) for l in (CORPUS / "telephone/manifest.jsonl").read_text().splitlines()]
    pick = [r for r in rows if any(w in r["text_verbatim"].split() for w in ("uh", "um"))
            and "onword" not in r["text_verbatim"].lower()][:12]
    for r in pick:
        r["audio_filepath"] = str(CORPUS / "telephone" / r["audio_filepath"])
    (tmp / "calls.jsonl").write_text("".join(json.dumps(r) + "\n" for r in pick))
    s = align(str(tmp / "calls.jsonl"), str(tmp / "aligned.jsonl"), text_key="text_verbatim", fillers=str(tmp / "bank"))
    assert s["fillers"]["kept"] >= 3
    return tmp / "bank"
