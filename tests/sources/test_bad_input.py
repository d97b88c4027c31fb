"""Every kind of bad input: a one-line error naming the file (exit code 2), or a recorded skip."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.errors import BadInput, ConfigError
from synth.sources.pools import build_pools

from helpers import CORPUS, REPO, build_set, manifest

GOOD = CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav"


def corpus(tmp_path: Path, speech: list[dict], noise: list[Path] | None = None, rirs: list[Path] | None = None) -> Path:
    """A tiny corpus folder whose manifest points at files by absolute path (nothing is copied)."""
    rows = [{"path": str(GOOD), "kind": "speech", "speaker": "good_spk", "transcript": "AUTHOR OF THE DANGER TRAIL",
             "license": "test"}] + speech
    rows += [{"path": str(p), "kind": "noise"} for p in (noise or [CORPUS / "noise/speech_commands_running_tap.wav"])]
    rows += [{"path": str(p), "kind": "rir"} for p in (rirs or [])]
    (tmp_path / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tmp_path


def speech_row(path: Path, text="HELLO WORLD") -> dict:
    return {"path": str(path), "kind": "speech", "speaker": "bad_spk", "transcript": text}


def make_bad(tmp_path: Path, kind: str) -> Path:
    p = tmp_path / f"{kind}.wav"
    if kind == "corrupt":
        p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    elif kind == "empty":
        sf.write(p, np.zeros((0,), dtype=np.float32), 16000)
    elif kind == "nan":
        x = np.zeros(16000, dtype=np.float32)
        x[100] = np.nan
        sf.write(p, x, 16000, subtype="FLOAT")
    elif kind == "inf":
        x = np.full(16000, 0.1, dtype=np.float32)
        x[5] = np.inf
        sf.write(p, x, 16000, subtype="FLOAT")
    elif kind == "zero_bytes":
        p.write_bytes(b"")
    return p


@pytest.mark.parametrize("kind,message", [("corrupt", "cannot be read"), ("zero_bytes", "cannot be read"),
                                          ("empty", "no samples"), ("nan", "NaN"), ("inf", "NaN or infinite")])
def test_bad_speech_audio_names_the_file(tmp_path, kind, message):
    bad = make_bad(tmp_path, kind)
    root = corpus(tmp_path, [speech_row(bad)])
    with pytest.raises(BadInput) as e:
        build_pools(root)
    assert str(bad) in str(e.value) and message in str(e.value) and "\n" not in str(e.value)
    pools = build_pools(root, on_bad_input="skip")
    assert [s["path"] for s in pools.skipped] == [str(bad)] and len(pools.speech.utterances) == 1


def test_missing_transcript_and_missing_file(tmp_path):
    root = corpus(tmp_path, [speech_row(GOOD, text="")])
    with pytest.raises(BadInput, match="no transcript"):
        build_pools(root)
    root = corpus(tmp_path, [speech_row(tmp_path / "gone.wav")])
    with pytest.raises(BadInput, match="does not exist"):
        build_pools(root)


def test_short_noise_and_silent_rir(tmp_path):
    short = tmp_path / "short.wav"
    sf.write(short, 0.1 * np.ones(800, dtype=np.float32), 16000)  # 0.05 s
    silent = tmp_path / "silent_rir.wav"
    sf.write(silent, np.zeros(4000, dtype=np.float32), 16000)
    with pytest.raises(BadInput, match="at least 0.1 s"):
        build_pools(corpus(tmp_path, [], noise=[short]))
    with pytest.raises(BadInput, match="no energy"):
        build_pools(corpus(tmp_path, [], rirs=[silent]))
    pools = build_pools(corpus(tmp_path, [], noise=[short, CORPUS / "noise/speech_commands_running_tap.wav"],
                               rirs=[silent]), on_bad_input="skip")
    assert {s["path"] for s in pools.skipped} == {str(short), str(silent)}


def test_corpus_with_no_speech(tmp_path):
    (tmp_path / "manifest.jsonl").write_text(json.dumps({"path": str(GOOD), "kind": "noise"}) + "\n")
    with pytest.raises(ConfigError, match="no usable speech"):
        build_pools(tmp_path)


def test_skipped_inputs_are_listed_in_the_card(tmp_path):
    bad = make_bad(tmp_path, "nan")
    (tmp_path / "c").mkdir()
    root = corpus(tmp_path / "c", [speech_row(bad)])
    out = build_set(tmp_path / "set", "n_items=3", f"sources.root={root}", "on_bad_input=skip", "room=none")
    card = json.loads((out / "card.json").read_text())
    assert card["skipped_inputs"] == [{"path": str(bad), "problem": "contains NaN or infinite samples"}]
    assert str(bad) in (out / "card.md").read_text()
    assert all(s["source_speaker"] == "good_spk" for it in manifest(out) for s in it["segments"])


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *args], cwd=REPO, capture_output=True, text=True)


@pytest.mark.parametrize("override,needle", [("bogus_key=1", "unknown key 'bogus_key'"),
                                             ("room.rt60=0.5", "unknown key 'room.rt60'"),
                                             ("noise.snr_db=[0,500]", "add_noise.snr_db"),
                                             ("output.format=mp3", "output.format")])
def test_config_errors_exit_2_with_one_line(tmp_path, override, needle):
    r = run_cli("build", f"out_dir={tmp_path / 'x'}", "n_items=1", override)
    assert r.returncode == 2 and needle in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_bad_file_through_the_cli_exits_2(tmp_path):
    bad = make_bad(tmp_path, "corrupt")
    root = corpus(tmp_path, [speech_row(bad)])
    r = run_cli("build", f"out_dir={tmp_path / 'x'}", "n_items=1", f"sources.root={root}")
    assert r.returncode == 2 and str(bad) in r.stderr and "on_bad_input=skip" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
