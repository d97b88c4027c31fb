"""Sharded output: tar shards that WebDataset reads and NeMo's tarred layout describes, per-shard manifests
and labels, resume shard by shard, the same bytes as an unsharded build, and a streaming card."""

import hashlib
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from synth.errors import ConfigError
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
