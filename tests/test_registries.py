"""Contract tests over every registry: scenarios, eval engines, export formats and slice dimensions.

Each test is parametrized over what the registry holds, so a new scenario, engine, format or dimension is
checked the moment its file exists: a scenario samples a valid scene from the real corpus, an engine's
config validates (and fails in one line without its required setting), a format round-trips a real set,
a dimension bins a real set's values the same way in the manifest's slices and in the card.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.cli import compose_config
from synth.errors import ConfigError
from synth.eval.engines import REGISTRY as ENGINES, EngineSpec, engine_key, engine_names
from synth.outdir import id_problem
from synth.plan import make_plan, sample_recipe
from synth.scene.base import id_prefix, scenario_names
from synth.writer.export import export
from synth.writer.formats import format_names, get_format
from synth.writer.slices import dimensions, group_dimension, slices_for

from helpers import CORPUS, REPO, build_set, manifest


# ------------------------------------------------------------------------------------------ scenarios

def test_every_scenario_has_its_conf_file_and_every_conf_file_a_scenario():
    files = {p.stem: yaml.safe_load(p.read_text()).get("name") for p in (REPO / "conf/scenario").glob("*.yaml")}
    assert set(files) == set(scenario_names()) and all(stem == name for stem, name in files.items())


@pytest.mark.parametrize("name", scenario_names())
def test_scenario_samples_a_valid_scene_from_the_real_corpus(name, tmp_path):
    plan = make_plan(compose_config([f"scenario={name}", f"sources.root={CORPUS}", f"out_dir={tmp_path}"]))
    assert plan.id_prefix == id_prefix(name) and id_problem(f"{plan.id_prefix}-000000") is None
    pool = plan.pools.speech
    for i in range(3):
        r = sample_recipe(plan, f"{plan.id_prefix}-{i:06d}")
        json.dumps(r)  # a recipe is JSON
        assert r["scenario"] == name and r["talkers"]
        labels = [t["label"] for t in r["talkers"]]
        assert len(set(labels)) == len(labels)
        assert sorted({t["leg"] for t in r["talkers"]}) == list(range(len(r["legs"])))
        speakers = [t["source_speaker"] for t in r["talkers"]]
        assert len(set(speakers)) == len(speakers), "each talker is a distinct source speaker"
        for t in r["talkers"]:
            assert t["utterances"] and len(t["effects"]) == len(plan.talker_steps)
            for u in t["utterances"]:
                src = pool.utterance(pool.index_of(u["source_id"]))
                assert src.speaker == t["source_speaker"] and u["path"] == src.rel_path
                assert 0 <= u["src_start_s"] < u["src_end_s"] <= src.duration_s + 1e-6
                assert 0 <= u["start_s"] and u["start_s"] + u["src_end_s"] - u["src_start_s"] <= r["duration_s"] + 1e-3


# ------------------------------------------------------------------------------------------ eval engines

@pytest.mark.parametrize("name", engine_names())
def test_engine_config_validates_and_names_its_missing_setting(name):
    cls = ENGINES[name]
    assert cls.__doc__ and cls.name == name
    if cls.needs:
        with pytest.raises(ConfigError, match=rf"asr={name} needs asr\.{cls.needs}="):
            EngineSpec(name=name)
    spec = EngineSpec(name=name, **({cls.needs: "x"} if cls.needs else {}))
    key = engine_key(spec)
    assert key.startswith(f"{name}-") and key == engine_key(EngineSpec(**spec.__dict__))
    assert key != engine_key(EngineSpec(**{**spec.__dict__, "language": "de"})), "settings change the cache key"


def test_an_unknown_engine_is_one_line_naming_every_engine():
    with pytest.raises(ConfigError) as e:
        EngineSpec(name="kaldi")
    assert "\n" not in str(e.value) and all(n in str(e.value) for n in engine_names())


def test_eval_defaults_name_a_registered_engine():
    assert yaml.safe_load((REPO / "conf/eval/default.yaml").read_text())["asr"]["name"] in engine_names()


# ------------------------------------------------------------------------------------------ export formats

@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    """Two stereo calls (conversation, call-center channel: overlap, codecs, packet loss)."""
    return build_set(tmp_path_factory.mktemp("reg") / "calls", "scenario=conversation", "n_items=2", "room=none",
                     "scenario.duration_s=[6.0,9.0]", "channel=call_center", "output.layout=stereo")


@pytest.fixture(scope="module")
def calls_in_tars(tmp_path_factory):
    return build_set(tmp_path_factory.mktemp("reg") / "tars", "scenario=conversation", "n_items=2", "room=none",
                     "scenario.duration_s=[6.0,9.0]", "channel=call_center", "output.layout=stereo",
                     "output.shard_size=1", "output.container=tar")


def tree_digest(folder) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", format_names())
def test_format_round_trips_a_real_set(name, calls, calls_in_tars, tmp_path):
    items = manifest(calls)
    for set_dir in (calls, calls_in_tars):
        out = export(set_dir, name, tmp_path / f"{set_dir.name}-1", shard_size=1)
        assert not (out / ".unpacked").exists()
        got = get_format(name).read(out)
        assert sorted(got) == sorted(it["id"] for it in items)
        for it in items:
            want, sr = sf.read(calls / it["audio_filepath"], dtype="float32", always_2d=True)
            g = got[it["id"]]
            assert g["text"] == it["text"] and g["sample_rate"] == sr == it["sample_rate"]
            assert g["samples"].shape == want.shape == (round(it["duration"] * sr), 2)
            assert np.array_equal(np.asarray(g["samples"], dtype=np.float32), want)
    again = export(calls, name, tmp_path / "calls-2", shard_size=1)
    assert tree_digest(again) == tree_digest(tmp_path / "calls-1"), "the same set exports to the same bytes"


def test_export_help_lists_every_format():
    out = subprocess.run([sys.executable, "-m", "synth.cli", "export", "--help"], cwd=REPO, capture_output=True,
                         text=True).stdout
    assert all(n in out for n in format_names())


def test_an_unknown_format_is_one_line_naming_every_format(calls, tmp_path):
    with pytest.raises(ConfigError) as e:
        export(calls, "parquet", tmp_path / "x")
    assert "\n" not in str(e.value) and all(n in str(e.value) for n in format_names())
    assert not (tmp_path / "x").exists()


# ------------------------------------------------------------------------------------------ dimensions

EXERCISED = ("snr_bin", "rt60_bin", "clipped", "codec", "loss_bin", "overlap_bin")  # by the two sets below


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """Single talkers through a simulated room, recorded noise, the agent leg (codec, loss) and clipping."""
    return build_set(tmp_path_factory.mktemp("reg") / "single", "n_items=8", "channel=call_center",
                     "level=call_center", "level.clipping.p=0.5", "+level.clipping.drive_db=[0.0,12.0]")


def test_the_table_is_well_formed():
    dims = dimensions()
    slices = [d.slice for d in dims if d.slice]
    assert len(set(slices)) == len(slices) and len({d.key for d in dims}) == len(dims)
    for d in dims:
        labels = d.labels()
        assert len(set(map(str, labels))) == len(labels)
        if d.edges is not None:
            assert [d.label(x / d.scale) for x in d.edges] == labels[1:] and d.label(d.edges[0] / d.scale - 1) == labels[0]
    assert group_dimension("noise").key == "snr_db" and group_dimension("room").key == "rt60_s"
    assert group_dimension("channel") is None


@pytest.mark.parametrize("dim", [d for d in dimensions() if d.slice], ids=lambda d: d.slice)
def test_dimension_bins_a_real_set_alike_in_slices_and_card(dim, single, calls):
    seen = 0
    for set_dir in (single, calls):
        items = manifest(set_dir)
        card = json.loads((set_dir / "card.json").read_text())
        slices = Counter(str(it["slice"].get(dim.slice)) for it in items)
        assert dict(slices) == card["slices"].get(dim.slice, {}) or dim.slice not in card["slices"]
        for it in items:  # the manifest's label is the table's label of the item's value
            assert it["slice"].get(dim.slice) == slices_for(it["conditions"]).get(dim.slice)
        h = card["histograms"].get(dim.key)
        if not dim.binned:  # categorical: the card counts the very values the slices name
            if h:
                assert all(slices[v] == c for v, c in h["counts"].items())
                seen += sum(h["counts"].values())
            continue
        n = h["n"] if h else 0
        for label in dim.labels():
            from_card = h["bins"][str(label)] if h else 0
            assert slices[str(label)] == from_card + (len(items) - n if label == dim.absent else 0), (dim.key, label)
        if dim.absent is not None and dim.absent not in dim.labels():
            assert slices[str(dim.absent)] == len(items) - n
        seen += n
    if not seen and dim.slice not in EXERCISED:  # a new dimension: its synthetic check below still runs
        pytest.skip(f"no item of these test sets has {dim.key}; test_dimension_bins_alike_in_slices_and_card covers it")
    assert seen, f"no item of the test sets has {dim.key}: the check ran on nothing"


@pytest.mark.parametrize("dim", [d for d in dimensions() if d.slice and d.binned], ids=lambda d: d.slice)
def test_dimension_bins_alike_in_slices_and_card(dim):
    """A value inside every bin and past both ends, as conditions: the card counts each in the bin the
    slice names."""
    from synth.writer.card import SetSummary

    if dim.flag:
        values = [0.0, 0.25]
    else:
        e = [x / dim.scale for x in dim.edges]
        values = [e[0] - 1] + [(a + b) / 2 for a, b in zip(e, e[1:])] + [e[-1] + 1]
    s = SetSummary()
    for i, v in enumerate(values):
        cond = {dim.key: v}
        s.add({"id": f"x{i}", "duration": 3.0, "conditions": cond, "slice": slices_for(cond), "segments": [],
               "recipe": {"talkers": []}})
    bins = s.histogram_card()[dim.key]["bins"]
    assert {k: c for k, c in bins.items() if c} == dict(s.slices[dim.slice])
    assert all(c == 1 for c in bins.values()) or dim.flag and list(bins.values()) == [1, 1]


def test_card_and_slices_agree_at_the_ends_of_the_table(tmp_path):
    """An SNR of -3 dB or 35 dB is in the slices' end bins, and the card counts it there (it used to clamp
    them into [-5, 0) and [25, 30])."""
    from synth.writer.card import SetSummary

    s = SetSummary()
    for i, snr in enumerate((-3.0, 35.0, 12.0)):
        cond = {"snr_db": snr}
        s.add({"id": f"x{i}", "duration": 3.0, "conditions": cond, "slice": slices_for(cond), "segments": [],
               "recipe": {"talkers": []}})
    bins = s.histogram_card()["snr_db"]["bins"]
    assert {k: v for k, v in bins.items() if v} == {"<0": 1, ">=30": 1, "10-15": 1}
    assert dict(s.slices["snr_bin"]) == {"<0": 1, ">=30": 1, "10-15": 1}
