"""The source index: a start reads each file's header once and its samples once, and the checks stay as
strict whether a problem is found while indexing or the first time an item draws the file."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.build import build
from synth.cli import compose_config
from synth.errors import BadInput
from synth.sources.pools import build_pools

from helpers import CORPUS, REPO, manifest

SPEECH = sorted(p for p in (CORPUS / "speech").rglob("*.wav"))[:6]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test starts with nothing indexed (also for ../shared/corpus, indexed under the cache)."""
    monkeypatch.setenv("SYNTH_CACHE", str(tmp_path / "cache"))


def write_corpus(folder: Path, n_speakers: int = 3, per_speaker: int = 2) -> Path:
    """A writable corpus of real speech (decoded from ../shared/corpus and written here), one noise file."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for s in range(n_speakers):
        for u in range(per_speaker):
            src = SPEECH[(s * per_speaker + u) % len(SPEECH)]
            x, sr = sf.read(src, dtype="float32")
            rel = f"speech/s{s}/u{u}.flac"
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(folder / rel, x, sr)
            rows.append({"path": rel, "kind": "speech", "speaker": f"spk{s}", "transcript": f"WORDS OF SPEAKER {s}"})
    rows.append({"path": str(CORPUS / "noise/speech_commands_running_tap.wav"), "kind": "noise"})
    (folder / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


class Reads:
    """Counts the audio files soundfile opens (the real functions still run)."""

    def __init__(self, monkeypatch):
        self.info, self.read = [], []
        info, read = sf.info, sf.read
        monkeypatch.setattr(sf, "info", lambda p, *a, **k: (self.info.append(str(p)), info(p, *a, **k))[1])
        monkeypatch.setattr(sf, "read", lambda p, *a, **k: (self.read.append(str(p)), read(p, *a, **k))[1])


@pytest.mark.parametrize("check", ["all", "used"])
def test_a_warm_start_reads_no_audio(tmp_path, monkeypatch, check):
    root = write_corpus(tmp_path / "corpus")
    reads = Reads(monkeypatch)
    first = build_pools(root, check=check)
    assert len(reads.info) == 7 and (len(reads.read) == 7 if check == "all" else len(reads.read) == 1)
    assert (root / ".synth-index/speech/headers.json").exists()  # beside a writable corpus
    reads.info.clear(), reads.read.clear()
    again = build_pools(root, check=check)
    assert reads.info == [] and reads.read == []
    assert [(u.id, u.duration_s, u.text) for u in again.speech.utterances] == \
        [(u.id, u.duration_s, u.text) for u in first.speech.utterances]
    assert again.speech.digest() == first.speech.digest()


def test_a_read_only_corpus_is_indexed_under_the_cache(tmp_path, monkeypatch):
    root = write_corpus(tmp_path / "corpus")
    os.chmod(root, 0o555)
    try:
        build_pools(root)
    finally:
        os.chmod(root, 0o755)
    assert not (root / ".synth-index").exists()
    assert list((tmp_path / "cache/index").glob("*/speech/headers.json"))


@pytest.mark.parametrize("skip", [False, True])
def test_a_file_changed_after_indexing_is_checked_again(tmp_path, skip):
    root = write_corpus(tmp_path / "corpus")
    build_pools(root)
    victim = root / "speech/s1/u0.flac"
    n = sf.info(victim).frames
    sf.write(victim, np.zeros(n, dtype=np.float32), sf.info(victim).samplerate)  # same length, now silent
    if not skip:
        with pytest.raises(BadInput) as e:
            build_pools(root)
        assert str(victim) in str(e.value) and "silent" in str(e.value)
    else:
        pools = build_pools(root, on_bad_input="skip")
        assert [s["path"] for s in pools.skipped] == [str(victim)]
        assert str(victim) not in {u.path for u in pools.speech.utterances}


def test_a_truncated_flac_is_refused_although_its_header_claims_the_full_length(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    victim = root / "speech/s2/u1.flac"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # a copy cut short: STREAMINFO still says the full length
    with pytest.raises(BadInput) as e:
        build_pools(root)
    assert str(victim) in str(e.value) and ("truncated" in str(e.value) or "cannot be read" in str(e.value))


def test_a_manifest_edit_is_seen_by_the_saved_speech_source(tmp_path):
    root = write_corpus(tmp_path / "corpus")
    assert len(build_pools(root, check="used").speech.utterances) == 6
    rows = (root / "manifest.jsonl").read_text().splitlines()
    extra = json.loads(rows[0]) | {"speaker": "new_speaker", "transcript": "A NEW ROW"}
    (root / "manifest.jsonl").write_text("\n".join(rows + [json.dumps(extra)]) + "\n")
    pools = build_pools(root, check="used")
    assert len(pools.speech.utterances) == 7 and "new_speaker" in pools.speech.speakers


def build_args(root: Path, out: Path, *extra: str) -> list[str]:
    return [f"out_dir={out}", f"sources.root={root}", "room=none", "noise=none", "sources.check=used", *extra]


def test_first_use_skips_a_bad_file_the_same_way_whatever_built_the_set(tmp_path):
    """check=used: a silent file is found when an item draws it; with skip the item is drawn again, the
    card lists the file, and the set is the same bytes with 1 or 2 workers, cold or warm."""
    root = write_corpus(tmp_path / "corpus", n_speakers=3, per_speaker=1)
    victim = root / "speech/s1/u0.flac"
    sf.write(victim, np.zeros(sf.info(victim).frames, dtype=np.float32), 16000)
    sets = []
    for k, workers in enumerate([1, 2, 1]):
        if k == 2:  # cold again: nothing known of the corpus
            import shutil
            shutil.rmtree(root / ".synth-index")
        out = tmp_path / f"set{k}"
        build(compose_config(build_args(root, out, "n_items=12", f"workers={workers}", "on_bad_input=skip")))
        sets.append(out)
    items = manifest(sets[0])
    redrawn = [it for it in items if it["recipe"].get("unusable_sources")]
    assert redrawn, "the seed draws the bad speaker at least once"
    assert all(s["source_id"] != "speech__s1__u0" for it in items for s in it["segments"])
    card = json.loads((sets[0] / "card.json").read_text())
    assert [s["path"] for s in card["skipped_inputs"]] == [str(victim)]
    assert "no active speech" in card["skipped_inputs"][0]["problem"] or "silent" in card["skipped_inputs"][0]["problem"]
    hashes = [[it["audio_sha256"] for it in manifest(s)] for s in sets]
    assert hashes[0] == hashes[1] == hashes[2]

    r = subprocess.run([sys.executable, "-m", "synth.cli", "build", *build_args(root, tmp_path / "err", "n_items=12")],
                       cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert str(victim) in r.stderr and "Traceback" not in r.stderr


def test_a_resume_after_a_corpus_file_changed_is_refused(tmp_path):
    """check=used trusts the index on a fresh start, but a resumed build asks about every file."""
    root = write_corpus(tmp_path / "corpus")
    out = tmp_path / "set"
    args = [sys.executable, "-m", "synth.cli", "build", *build_args(root, out, "n_items=3")]
    assert subprocess.run(args, cwd=REPO, capture_output=True, text=True).returncode == 0
    victim = root / "speech/s0/u1.flac"
    x, sr = sf.read(victim, dtype="float32")
    sf.write(victim, np.concatenate([x, x]), sr)  # another length: its transcript no longer fits
    r = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 2 and "sources" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_first_use_finds_a_file_that_changed_length_after_indexing(tmp_path):
    root = write_corpus(tmp_path / "corpus", n_speakers=1, per_speaker=1)
    pools = build_pools(root, check="used")
    (u,) = pools.speech.utterances
    x, sr = sf.read(u.path, dtype="float32")
    sf.write(u.path, x[: len(x) // 2], sr)
    with pytest.raises(BadInput) as e:
        pools.speech.first_use.problem(u)
    assert "changed since the sources were indexed" in str(e.value)
    again = build_pools(root, check="used")  # the next start indexes it again
    assert again.speech.utterances[0].duration_s == pytest.approx(u.duration_s / 2, abs=1e-3)
