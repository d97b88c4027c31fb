"""Leakage guard: synth leakage finds shared speakers, utterances, noise files and measured RIRs; sources.exclude
leaves them out of the pools (and the card says what was left out)."""

from __future__ import annotations

import json

import pytest

from helpers import CORPUS, build_set, manifest
from synth.cli import compose_config, main as synth
from synth.errors import BadInput, ConfigError
from synth.leakage import overlaps, read_sources
from synth.sources.pools import build_pools


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """A set with measured rooms and recorded noise (every kind of source a recipe records)."""
    return build_set(tmp_path_factory.mktemp("m") / "measured", "n_items=4", "room=measured", "scenario.utterances=1")


def test_read_sources_matches_the_recipes(measured):
    src = read_sources(measured)
    items = manifest(measured)
    assert src.speakers == {s["source_speaker"] for it in items for s in it["segments"]}
    assert set(src.utterances.values()) == {s["source_id"] for it in items for s in it["segments"]}
    assert src.noise == {str(CORPUS / it["conditions"]["noise"]) for it in items}
    assert src.rirs == {str(CORPUS / ("rir/" + it["conditions"]["rir"].split("__", 1)[1])) + ".wav" for it in items}
    assert src.simulated_rooms == 0 and len(src.rirs) >= 1


def test_exclude_drops_every_used_source_from_the_pools(measured):
    used = read_sources(measured)
    full = build_pools(CORPUS, need_rir=True)
    pools = build_pools(CORPUS, need_rir=True, exclude=[str(measured)])
    assert not used.speakers & set(pools.speech.speakers)
    assert not {str(u.path) for u in pools.speech.utterances} & set(used.utterances)
    assert not {str(f.path) for f in pools.noise} & used.noise
    assert not {str(f.path) for f in pools.rirs} & used.rirs
    assert pools.excluded["rirs"] == len(used.rirs) == len(full.rirs) - len(pools.rirs)
    assert pools.excluded["noise"] == len(full.noise) - len(pools.noise) == len(used.noise)
    assert pools.excluded["speakers"] == len(used.speakers)


def test_simulated_rooms_are_counted_not_excluded(tmp_path):
    sim = build_set(tmp_path / "sim", "n_items=3", "room=simulated", "room.p=1.0", "noise=none",
                    "scenario.utterances=1")
    assert read_sources(sim).simulated_rooms == 3 and not read_sources(sim).rirs
    pools = build_pools(CORPUS, exclude=[str(sim)])
    assert pools.excluded["simulated_rooms_not_excludable"] == 3 and pools.excluded["rirs"] == 0


def test_nemo_training_manifest_vs_set(measured, tmp_path, capsys):
    """A NeMo training manifest that holds one of the set's source utterances leaks speaker and utterance."""
    seg = manifest(measured)[0]["segments"][0]
    row = next(json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines()
               if json.loads(l).get("speaker") == seg["source_speaker"])
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps({"audio_filepath": str(CORPUS / row["path"]), "duration": 1.0, "text": "x",
                                 "speaker": row["speaker"]}) + "\n")
    found = overlaps(read_sources(train), read_sources(measured))
    assert found["speakers"] == [row["speaker"]] and not found["noise"] and not found["rirs"]
    assert synth(["leakage", str(train), str(measured)]) == 1
    assert "LEAKAGE" in capsys.readouterr().out


def test_exclusion_that_empties_a_pool_is_a_one_line_error(measured):
    listing = measured.parent / "noise.jsonl"  # a noise pool made only of the noise files the set used
    listing.write_text("".join(json.dumps({"audio_filepath": p}) + "\n" for p in sorted(read_sources(measured).noise)))
    with pytest.raises(ConfigError, match="leaves no noise files"):
        build_pools(CORPUS, noise=str(listing), exclude=[str(measured)])


def test_bad_paths_exit_2(tmp_path, capsys):
    assert synth(["leakage", str(tmp_path / "nope"), str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and err.count("\n") == 1
    cfg = compose_config([f"sources.root={CORPUS}", f"sources.exclude=[{tmp_path / 'missing'}]"])
    from synth.plan import make_plan
    with pytest.raises(BadInput, match="missing"):
        make_plan(cfg)
