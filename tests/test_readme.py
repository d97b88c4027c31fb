"""The README's Python snippets run as written, each in a fresh interpreter as a user would paste it.

What the test changes, and nothing else:

* ``SUBSTITUTIONS``: the README names the user's data with placeholder paths (``/data/noise``,
  ``out/calls``...). Each placeholder must appear in the README verbatim (else the test fails, so the two
  cannot drift apart) and is replaced, as plain text, by a real path: ../shared/corpus folders, a stereo
  FLAC made from corpus speech, a small set built in tmp_path, a corpus utterance aligned with ``synth align``.
* The README's ``synth export out/calls ...`` lines (its bash block) are run first, with the same
  substitutions, to make the exports the loading snippet reads.
* ``PRELUDE`` runs before each block: it makes ``import torchcodec`` fail, so the Hugging Face recipe is
  proven to work without it even where it is installed. ``CHECKS`` run after a block, on its variables
  (with the same substitutions).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from synth.align.cli import run as align
from synth.audio import load

from helpers import CORPUS, REPO, build_set

README = REPO / "README.md"
PRELUDE = "import sys\nsys.modules['torchcodec'] = None  # as if not installed\n"
CHECKS = {  # a phrase that identifies the block -> assertions on its variables
    "AugmentTransform(aug)(batch)": """
import numpy as np
assert x.shape == r.samples.shape and x.ndim == 2 and r.samples.dtype == np.float32, (x.shape, r.samples.shape)
assert r.conditions["augmented"] in (True, False) and y.shape == batch.shape and y.dtype == batch.dtype
assert aug.plan.pools.speech.utterances == [] and len(calls) == 10_000
""",
    'words=row["words"]': """
import numpy as np
gained = r.conditions["behavior"]["gained_s"]
assert abs(len(r.samples) - (len(x) + gained * sr)) <= 2 and gained > 0.1 and r.samples.dtype == np.float32
assert r.text_fluent == row["text"] and r.text.endswith(row["text"]) and r.text != row["text"]
assert r.events[0]["type"] in ("restart", "partial_word") and r.events[-1]["end"] <= len(r.samples) / sr
""",
    'load_dataset("json"': """
import numpy as np
items = {json.loads(l)["id"]: json.loads(l) for l in open("out/calls/manifest.jsonl")}
want = items[row["id"]]
ref, _ = sf.read(os.path.join("out/calls", want["audio_filepath"]), dtype="float32")
assert np.array_equal(row["audio"], ref) and ref.shape[1:] == (2,)           # the set's stereo audio, (T, 2)
assert json.loads(row["conditions"]) == want["conditions"] and row["text"] == want["text"]
assert [s["speaker"] for s in row["segments"]] == [s["speaker"] for s in want["segments"]]
assert len(ds) == len(items) == 2 and ds[1]["audio"].ndim == 2
assert audio.shape[0] == 2 and cut.supervisions and labels["segments"] and sr == 8000 and x.shape[1:] == (2,)
""",
}


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.M | re.S)


@pytest.fixture(scope="module")
def substitutions(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("readme")
    utt = tmp / "utt-1.flac"  # a stereo recording, as a user's soundfile.read gives it: (T, 2) float64
    left = load(CORPUS / "speech/librispeech_2412/2412-153948-0000.flac", 16000)[:48000]
    right = load(CORPUS / "speech/librispeech_2412/2412-153948-0001.flac", 16000)[:48000]
    sf.write(utt, np.stack([left, right], axis=1), 16000, subtype="PCM_16")
    build_set(tmp / "calls", "scenario=conversation", "n_items=2", "room=none", "scenario.duration_s=[6.0,9.0]",
              "channel=call_center", "output.layout=stereo")
    speech = CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav"  # aligned as `synth align` does (pocketsphinx)
    row = next(r for r in map(json.loads, (CORPUS / "manifest.jsonl").read_text().splitlines())
               if CORPUS / r["path"] == speech)
    (tmp / "speech.jsonl").write_text(json.dumps({"audio_filepath": str(speech), "text": row["transcript"],
                                                  "speaker": row["speaker"], "duration": row["duration_s"]}) + "\n")
    align(str(tmp / "speech.jsonl"), str(tmp / "aligned.jsonl"))
    return {"/data/aligned.jsonl": str(tmp / "aligned.jsonl"), "/data/noise": str(CORPUS / "noise"), "/data/rirs": str(CORPUS / "rir"), "/data/utts/utt-1.flac": str(utt),
            "/data/corpus": str(CORPUS), "out/calls": str(tmp / "calls")}


def substituted(text: str, subs: dict[str, str]) -> str:
    for placeholder, real in subs.items():
        text = text.replace(placeholder, real)
    return text


@pytest.fixture(scope="module")
def exports(substitutions):
    """The README's export lines, run as written (paths substituted)."""
    from synth.cli import main

    lines = [l.split("#")[0].strip() for b in blocks("bash") for l in b.splitlines()
             if l.startswith("synth export out/calls ")]
    assert {shlex.split(l)[4] for l in lines} == {"lhotse", "hf", "nemo-tarred", "webdataset"}, lines
    for line in lines:
        assert main(shlex.split(substituted(line, substitutions))[1:]) == 0, line
    return substitutions


@pytest.mark.slow
def test_the_readmes_python_blocks_run_as_written(exports, tmp_path):
    text = README.read_text(encoding="utf-8")
    for placeholder in exports:
        assert placeholder in text, f"{placeholder!r} is no longer in the README: update SUBSTITUTIONS"
    code = blocks("python")
    for phrase in CHECKS:
        assert sum(phrase in b for b in code) == 1, f"no single README python block holds {phrase!r}"
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1",
           "HF_HUB_OFFLINE": "1"}
    for block in code:
        checks = "".join(c for phrase, c in CHECKS.items() if phrase in block)
        source = PRELUDE + substituted(block + checks, exports)
        out = subprocess.run([sys.executable, "-c", source], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, f"README block failed:\n{block}\n{out.stderr[-3000:]}"
