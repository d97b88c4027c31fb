"""Sharded output: tar shards that WebDataset reads and NeMo's tarred layout describes, per-shard manifests
and labels, resume shard by shard, the same bytes as an unsharded build, and a streaming card."""

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.errors import BadInput, ConfigError
from synth.validate import validate_set
from synth.writer import shards
from synth.writer.card import Sketch

from helpers import build_set, manifest

COMMON = ("n_items=9", "noise=recorded", "room=simulated", "room.p=1.0")


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    return {"loose": build_set(root / "loose", *COMMON),
            "files": build_set(root / "files", *COMMON, "output.shard_size=4", "workers=2"),
            "tar": build_set(root / "tar", *COMMON, "output.shard_size=4", "output.container=tar")}


def lines(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text().splitlines() if l.strip()]


def test_tar_shards_read_with_webdataset(sets):
    wds = pytest.importorskip("webdataset")
    d, loose = sets["tar"], {it["id"]: it for it in manifest(sets["loose"])}
    urls = [str(d / f"audio_{k}.tar") for k in range(3)]
    samples = list(wds.WebDataset(urls, shardshuffle=False))
    assert [s["__key__"] for s in samples] == sorted(loose)             # every item once, in id order
    for s in samples:
        meta = json.loads(s["json"])
        ref = loose[s["__key__"]]
        assert meta["text"] == ref["text"] and meta["text"].strip()
        assert s["flac"] == (sets["loose"] / ref["audio_filepath"]).read_bytes()   # the same bytes as a loose build
        x, sr = sf.read(io.BytesIO(s["flac"]), dtype="float32")
        assert sr == ref["sample_rate"] and abs(len(x) / sr - ref["duration"]) < 1e-3 and np.abs(x).max() > 0.01
        assert hashlib.sha256(s["flac"]).hexdigest() == meta["audio_sha256"]


def test_shard_manifests_follow_nemo_tarred_layout(sets):
    d = sets["tar"]
    sizes = []
    for k in range(3):
        entries = lines(d / f"sharded_manifests/manifest_{k}.json")
        sizes.append(len(entries))
        with tarfile.open(d / f"audio_{k}.tar") as tar:
            audio_members = [n for n in tar.getnames() if n.endswith(".flac")]
        assert [e["audio_filepath"] for e in entries] == audio_members     # NeMo: every member in the manifest
        assert all(e["shard_id"] == k and e["duration"] > 0 and e["text"] for e in entries)
    assert sizes == [4, 4, 1]
    top = lines(d / "manifest.jsonl")                                      # small set: the shards concatenated
    assert [e["id"] for e in top] == [e["id"] for e in manifest(sets["loose"])]
    index = json.loads((d / "shards.json").read_text())
    assert index["n_shards"] == 3 and index["container"] == "tar" and index["n_items"] == 9


def test_sharded_files_set_matches_an_unsharded_one(sets):
    loose, files = sets["loose"], sets["files"]
    for name in ("manifest.jsonl", "segments.rttm", "references.stm", "references.seglst.json", "card.json"):
        assert (files / name).read_bytes() == (loose / name).read_bytes(), name
    assert sorted(os.listdir(files / "audio")) == sorted(os.listdir(loose / "audio"))
    per_shard = "".join((files / f"labels/segments_{k:05d}.rttm").read_text() for k in range(3))
    assert per_shard == (loose / "segments.rttm").read_text()
    assert [l["id"] for k in range(3) for l in lines(files / f"manifests/manifest_{k:05d}.jsonl")] == \
        [l["id"] for l in manifest(loose)]


def test_sharded_sets_validate_and_tampering_is_found(sets, tmp_path):
    assert validate_set(sets["files"]) == [] and validate_set(sets["tar"]) == []
    d = tmp_path / "tar"
    shutil.copytree(sets["tar"], d)
    (d / "audio_1.tar").unlink()
    entries = lines(d / "sharded_manifests/manifest_0.json")
    entries[0]["audio_sha256"] = "0" * 64
    (d / "sharded_manifests/manifest_0.json").write_text("".join(json.dumps(e) + "\n" for e in entries))
    problems = validate_set(d)
    assert any("audio_1.tar: missing" in p for p in problems) and any("hash differs" in p for p in problems)


def test_resume_rewrites_only_unfinished_shards(sets, tmp_path):
    d = tmp_path / "tar"
    shutil.copytree(sets["tar"], d)
    (d / "sharded_manifests/manifest_1.json").unlink()                    # as if killed while writing shard 1
    (d / ".audio_1.tar.abc.tmp").write_bytes(b"half a tar")
    kept = {p: os.stat(d / p).st_mtime_ns for p in ("audio_0.tar", "audio_2.tar", "sharded_manifests/manifest_2.json")}
    build_set(d, *COMMON, "output.shard_size=4", "output.container=tar")
    assert {p: os.stat(d / p).st_mtime_ns for p in kept} == kept          # finished shards are never rewritten
    for name in ("audio_1.tar", "sharded_manifests/manifest_1.json", "manifest.jsonl"):
        assert (d / name).read_bytes() == (sets["tar"] / name).read_bytes()
    assert validate_set(d) == []


def test_a_layout_change_in_the_same_out_dir_is_refused(sets):
    with pytest.raises(ConfigError, match="stored shard_size=4 container=tar"):
        build_set(sets["tar"], *COMMON, "output.shard_size=4")


def test_big_sets_keep_only_the_shards(sets, tmp_path, monkeypatch):
    monkeypatch.setattr(shards, "CONCAT_LIMIT", 5)
    import synth.build
    monkeypatch.setattr(synth.build, "CONCAT_LIMIT", 5)
    d = build_set(tmp_path / "big", *COMMON, "output.shard_size=4")
    assert not (d / "manifest.jsonl").exists() and not (d / "segments.rttm").exists()
    assert json.loads((d / "card.json").read_text())["n_items"] == 9 and validate_set(d) == []


def test_sketch_is_exact_when_small_and_independent_of_order():
    rng = np.random.default_rng(0)
    values = {f"it-{i:06d}": float(v) for i, v in enumerate(rng.normal(size=3000))}
    a, b, exact = Sketch(size=500), Sketch(size=500), Sketch(size=5000)
    for k in values:
        a.add(k, values[k])
        exact.add(k, values[k])
    for k in reversed(list(values)):
        b.add(k, values[k])
    assert a.values() == b.values() and len(a.values()) == 500               # same sample whatever the order
    assert sorted(exact.values()) == sorted(values.values())                  # below its size: every value
    from scipy.stats import ks_2samp
    assert ks_2samp(a.values(), list(values.values())).statistic < 1.95 / np.sqrt(500)  # a uniform sample (p > 0.001)
    assert abs(a.mean - np.mean(list(values.values()))) < 1e-9                # the mean is exact


def test_a_tar_sharded_set_is_evaluated_and_exported_like_a_loose_one(sets, tmp_path, monkeypatch):
    """eval and export read a set stored in tar shards (its audio unpacked once, checked against the
    manifest's hashes): the same hypotheses and exports as the same set built as loose files; a set too big
    for a top-level manifest is read through its index."""
    from synth.eval.engines import EngineSpec
    from synth.eval.run import evaluate
    from synth.writer.export import export
    from synth.writer.manifest import audio_files, read_manifest

    # an engine that "hears" the exact bytes it is given: it prints the file's SHA-256, spelled in letters
    asr = tmp_path / "asr.py"
    asr.write_text("import hashlib, sys\nh = hashlib.sha256(open(sys.argv[1], 'rb').read()).hexdigest()\n"
                   "print(''.join(chr(97 + int(c, 16)) for c in h))\n")
    spec = EngineSpec(name="command", command=f"{sys.executable} {asr} {{audio}}")
    spelled = lambda h: "".join(chr(97 + int(c, 16)) for c in h)  # noqa: E731
    tar = tmp_path / "tar"
    shutil.copytree(sets["tar"], tar)
    got = evaluate(tar, spec, show_progress=False)
    want = evaluate(sets["loose"], spec, cache_dir=tmp_path / "loose-eval", show_progress=False)
    loose = {it["id"]: it for it in manifest(sets["loose"])}
    assert [(i["id"], i["hyp_norm"]) for i in got["items"]] == [(i, spelled(loose[i]["audio_sha256"])) for i in sorted(loose)]
    assert got["summary"] == want["summary"]
    from synth.profiles.compare import analyse_set                             # compare's measurements too
    rows = [json.dumps({k: v for k, v in r.items() if k != "file"}) for r in analyse_set(tar)["recording"]]
    assert rows == [json.dumps({k: v for k, v in r.items() if k != "file"}) for r in analyse_set(sets["loose"])["recording"]]

    lhotse = pytest.importorskip("lhotse")
    cuts = lhotse.CutSet.from_file(export(tar, "lhotse", tmp_path / "lh") / "cuts.jsonl.gz")
    for cut in cuts:
        ref, _ = sf.read(sets["loose"] / loose[cut.id]["audio_filepath"], dtype="float32")
        assert np.array_equal(cut.load_audio()[0], ref) and cut.supervisions[0].text == loose[cut.id]["segments"][0]["text"]
    hf = export(tar, "hf", tmp_path / "hf")
    assert sorted(p.name for p in (hf / "audio").iterdir()) == sorted(f"{i}.flac" for i in loose)
    wds = export(tar, "webdataset", tmp_path / "wds", shard_size=100)
    assert sorted(p.name for p in wds.iterdir()) == ["audio_0.tar"]           # no unpacked audio left behind

    (tar / "eval").rename(tmp_path / "old-eval")                                # unpacked again, and checked:
    with tarfile.open(tar / "audio_0.tar") as t:                                # a shard whose bytes changed
        members = [(m, t.extractfile(m).read()) for m in t.getmembers()]
    with tarfile.open(tar / "audio_0.tar", "w") as t:
        for m, data in members:
            data = data[:-1] + bytes([data[-1] ^ 1]) if m.name.endswith(".flac") else data
            t.addfile(m, io.BytesIO(data))
    with pytest.raises(BadInput, match="differs from the manifest's audio_sha256"):
        evaluate(tar, spec, show_progress=False)
    with pytest.raises(BadInput, match="differs from the manifest's audio_sha256"):
        export(tar, "hf", tmp_path / "hf-bad")
    assert not any((tmp_path / "hf-bad").iterdir())                           # left empty: the command can rerun

    monkeypatch.setattr(shards, "CONCAT_LIMIT", 5)
    import synth.build
    monkeypatch.setattr(synth.build, "CONCAT_LIMIT", 5)
    big = build_set(tmp_path / "big", *COMMON, "output.shard_size=4", "output.container=tar")
    assert not (big / "manifest.jsonl").exists()
    items = read_manifest(big)
    audio = audio_files(big, items, tmp_path / "unpacked")
    assert [i["id"] for i in items] == sorted(loose)
    assert all(audio[i].read_bytes() == (sets["loose"] / loose[i]["audio_filepath"]).read_bytes() for i in loose)
    from synth.leakage import read_sources                                     # and leakage checks read it
    big_sources, loose_sources = read_sources(big), read_sources(sets["loose"])
    assert big_sources.utterances == loose_sources.utterances and big_sources.noise == loose_sources.noise
