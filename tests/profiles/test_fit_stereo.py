"""Two-channel calls fitted per leg: a folder of stereo two-party calls (one party per channel, a different
level, noise and SNR per channel; made in tmp_path from real corpus speech and recorded noise by
stereo_calls.py) fits to a two-leg profile whose build is stereo conversations with each leg's level and SNR
as close to the real calls' leg as another sample of the real calls is (synth.profiles.compare's real-vs-real
rule, on the per-channel estimates)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.cli import compose_config
from synth.errors import BadInput, ConfigError
from synth.profiles import fit
from synth.profiles.compare import CLOSE, FAR, real_vs_real, trimmed_w1
from synth.profiles.fit import analyse_call
from synth.profiles.stereo import rttm_channel_segments
from synth.rng import item_rng

from helpers import CORPUS, build_set, manifest
from .stereo_calls import LEGS, LEVEL_DBOV, SNR_DB, make_calls

N_CALLS = 10   # halves of 5 calls for the real-vs-real reference


@pytest.fixture(scope="module")
def calls(tmp_path_factory):
    return make_calls(tmp_path_factory.mktemp("stereo_calls"), N_CALLS)


@pytest.fixture(scope="module")
def fitted(calls, tmp_path_factory):
    audio, _, _ = calls
    out = tmp_path_factory.mktemp("stereo_fit") / "calls.yaml"
    assert fit.main([str(audio), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def built(fitted, tmp_path_factory):
    return build_set(tmp_path_factory.mktemp("stereo_set") / "set", f"profile={fitted}", f"n_items={N_CALLS}")


def per_leg(files) -> dict[str, list[dict]]:
    """The estimators on each channel of each file: {leg: [row per file]} (channel 0 = LEGS[0])."""
    out: dict[str, list[dict]] = {leg: [] for leg in LEGS}
    for p in files:
        for row in analyse_call(p, p.name, LEGS, None)[0]:
            out[row["leg"]].append(row)
    return out


def test_stereo_calls_fit_one_block_per_leg(calls, fitted):
    audio, _, truths = calls
    data = yaml.safe_load(fitted.read_text())
    f = data["fitted"]
    assert f["layout"] == "stereo" and f["scenario"] == "conversation"
    assert [(leg["name"], leg["channel"]) for leg in f["legs"]] == [("customer", 0), ("agent", 1)]
    legs = {leg["name"]: leg for leg in f["legs"]}
    for name in LEGS:  # each leg's fitted level and SNR centre on what was put on that channel
        true_level = np.mean([t["legs"][name]["level_dbov"] for t in truths])
        true_snr = np.mean([t["legs"][name]["snr_db"] for t in truths])
        assert abs(legs[name]["level_dbov"]["normal"][0] - true_level) < 1.5, name
        assert abs(legs[name]["snr_db"]["normal"][0] - true_snr) < 3.0, name
        assert legs[name]["codec_family"]["choice"] == ["G.711 mu-law (samples on the companding grid)"]
        assert legs[name]["effective_bandwidth_hz"]["normal"][0] < 4600            # narrowband on both legs
        bank = fitted.parent / "noise_bank" / name                                 # its own channel's noise
        assert legs[name]["noise_bank"] == str(bank) and legs[name]["noise_bank_s"] > 30
        assert len(list(bank.glob("*.flac"))) > 5
    assert legs["customer"]["level_dbov"]["normal"][0] - legs["agent"]["level_dbov"]["normal"][0] > 8
    assert legs["agent"]["snr_db"]["normal"][0] - legs["customer"]["snr_db"]["normal"][0] > 10
    lines = [json.loads(x) for x in (fitted.parent / "noise_bank" / "manifest.jsonl").read_text().splitlines()]
    assert {ln["leg"] for ln in lines} == set(LEGS)
    assert all(ln["audio_filepath"].startswith(ln["leg"] + "/") for ln in lines)
    turns = f["turns"]   # turn-taking from the two channels' speech activity
    assert turns["fitted"]["n_speakers"] == [2] * N_CALLS
    assert all(x.endswith("(per-channel VAD)") for x in turns["fitted"]["files"])
    placed_gaps = [b[1] - a[2] for t in truths for a, b in zip(t["turns"], t["turns"][1:]) if b[1] > a[2]]
    assert turns["fitted"]["n_gaps"] >= len(placed_gaps) * 0.7   # the switches between the channels are found
    rows = json.loads((fitted.parent / "calls.fit.json").read_text())
    assert len(rows) == 2 * N_CALLS and {r["leg"] for r in rows} == set(LEGS)
    assert "| file | leg |" in (fitted.parent / "calls.fit.md").read_text()


def test_stereo_fit_builds_two_leg_items_as_close_as_real_calls(calls, fitted, built):
    audio, _, _ = calls
    items = manifest(built)
    assert len(items) == N_CALLS
    for it in items:
        assert it["num_channels"] == 2 and it["recipe"]["output"]["layout"] == "stereo"
        assert sf.info(str(built / it["audio_filepath"])).channels == 2
        assert [leg["name"] for leg in it["recipe"]["legs"]] == list(LEGS)
        for seg in it["segments"]:   # each talker on the channel of its role
            assert seg["channel"] == LEGS.index(seg["role"])
        for leg in it["recipe"]["legs"]:  # each leg adds its own channel's harvested noise
            noise = next(e for e in leg["effects"] if e["name"] == "add_noise")
            assert f"/noise_bank/{leg['name']}/" in noise["params"]["noise_path"]
    real = per_leg(sorted(audio.glob("*.wav")))
    synth = per_leg(sorted((built / "audio").glob("*.flac")))
    for name in LEGS:
        for key in ("speech_level_dbov", "snr_db"):
            a, b = [[r[key]] for r in real[name]], [[r[key]] for r in synth[name]]
            ref = real_vs_real(a, b, trimmed_w1, item_rng(0, f"{name}/{key}", "test-stereo"))
            assert ref["verdict"] == CLOSE, (name, key, ref)
            # the check can fail: the other leg's values are far farther than two samples of real calls
            other = [[r[key]] for r in synth[LEGS[1 - LEGS.index(name)]]]
            assert real_vs_real(a, other, trimmed_w1, item_rng(0, f"{name}/{key}", "test-stereo"))["verdict"] == FAR
    # the level and SNR differences between the parties are kept (nominal: 12 and 18 dB)
    med = lambda rows, key: float(np.median([r[key] for r in rows]))  # noqa: E731
    for key, nominal in (("speech_level_dbov", LEVEL_DBOV["customer"] - LEVEL_DBOV["agent"]),
                         ("snr_db", SNR_DB["customer"] - SNR_DB["agent"])):
        d_real = med(real["customer"], key) - med(real["agent"], key)
        d_synth = med(synth["customer"], key) - med(synth["agent"], key)
        assert abs(d_real - nominal) < 4 and abs(d_synth - d_real) < 4, (key, d_real, d_synth)


def test_the_card_shows_each_legs_targets(built):
    card = json.loads((built / "card.json").read_text())
    targets = card["targets"] if "targets" in card else card["conditions"]["targets"]
    for name in LEGS:
        row = targets[f"legs.{name}.speech_level_dbov"]
        assert row["n_realized"] == N_CALLS and abs(row["realized"]["p50"] - row["target"]["p50"]) < 3
    assert "speech_level_dbov" not in targets   # no whole-item row for a quantity fitted per leg


def test_rttm_turns_and_named_legs(calls, tmp_path):
    audio, rttm, truths = calls
    x, sr = sf.read(str(audio / "call00.wav"), dtype="float32")
    segs = rttm_channel_segments(rttm / "call00.rttm", "call00", [x[:, 0], x[:, 1]], sr)
    for c, leg in enumerate(LEGS):  # every RTTM speaker goes to the channel they speak on
        want = [(s, e) for who, s, e in truths[0]["turns"] if who == leg]
        assert len(segs[c]) == len(want) and np.allclose(segs[c], want, atol=0.002)
    out = tmp_path / "named.yaml"
    assert fit.main([str(audio), "--rttm", str(rttm), "--legs", "caller,agent", "--out", str(out),
                     "--no-noise-bank"]) == 0
    f = yaml.safe_load(out.read_text())["fitted"]
    assert [leg["name"] for leg in f["legs"]] == ["caller", "agent"]
    assert all(str(x).endswith(".rttm") for x in f["turns"]["fitted"]["files"])
    cfg = compose_config([f"profile={out}", f"sources.root={CORPUS}"])
    assert list(cfg.scenario.roles) == ["caller", "agent"] and cfg.output.layout == "stereo"
    assert [leg.name for leg in cfg.channel.legs] == ["caller", "agent"]
    assert not any(s.name == "add_noise" for leg in cfg.channel.legs for s in leg.chain if "folder" in s)


def test_command_line_wins_over_fitted_legs(fitted, tmp_path):
    quiet = build_set(tmp_path / "quiet", f"profile={fitted}", "noise=none", "n_items=2")
    for it in manifest(quiet):
        for leg in it["recipe"]["legs"]:
            assert not any(e["name"] == "add_noise" for e in leg["effects"])
        assert all("snr_db" not in c for c in it["conditions"]["legs"].values())
    cfg = compose_config([f"profile={fitted}", "channel=g711_alaw", f"sources.root={CORPUS}"])
    for leg, name in zip(cfg.channel.legs, LEGS):   # the option's chain, then the leg's own fitted noise and level
        names = [s.name for s in leg.chain]
        assert leg.name == name and names[:2] == ["bandlimit", "codec"] and "calibrate_level" in names
        assert next(s for s in leg.chain if s.name == "add_noise").folder == name
    assert "channel" in cfg.profile.replaced_on_command_line


def test_mixed_folder_is_downmixed_with_a_warning(calls, tmp_path, capsys):
    audio, _, _ = calls
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    for i, p in enumerate(sorted(audio.glob("*.wav"))[:2]):
        x, sr = sf.read(str(p), dtype="int16")
        sf.write(str(mixed / p.name), x if i == 0 else x[:, 0], sr, subtype="PCM_16")  # one stereo, one mono
    out = tmp_path / "mixed.yaml"
    assert fit.main([str(mixed), "--out", str(out), "--no-noise-bank"]) == 0
    assert "legs" not in yaml.safe_load(out.read_text())["fitted"]
    assert "1 of 2 recordings have two channels" in capsys.readouterr().err
    with pytest.raises(BadInput, match="call01.wav.*has 1 channel"):
        fit.main([str(mixed), "--legs", "customer,agent", "--out", str(out)])
    with pytest.raises(BadInput, match="two distinct leg names"):
        fit.main([str(mixed), "--legs", "agent,agent", "--out", str(out)])
    assert fit.main([str(audio), "--downmix", "--out", str(tmp_path / "down.yaml"), "--no-noise-bank"]) == 0
    assert "legs" not in yaml.safe_load((tmp_path / "down.yaml").read_text())["fitted"]


def test_add_noise_folder_draws_only_that_folders_noise(tmp_path):
    from synth.channel.base import build_effect
    from synth.sources.files import SourceFile

    files = [SourceFile(id=f"{leg}{i}", path=tmp_path / leg / f"{i}.flac", rel_path=f"bank/{leg}/{i}.flac",
                        duration_s=5.0, sr=8000, channels=1) for leg in LEGS for i in range(3)]
    ctx = SimpleNamespace(pools=SimpleNamespace(noise=files), sr=8000, duration_s=1.0, item_id="t")
    e = build_effect({"name": "add_noise", "snr_db": 10, "folder": "agent"})
    drawn = {e.sample(np.random.default_rng(k), ctx).noise_path for k in range(40)}
    assert drawn == {f"bank/agent/{i}.flac" for i in range(3)}
    with pytest.raises(ConfigError, match="add_noise.folder=street"):
        build_effect({"name": "add_noise", "folder": "street"}).sample(np.random.default_rng(0), ctx)
    with pytest.raises(ConfigError, match="one folder"):
        build_effect({"name": "add_noise", "folder": "a/b"})


def test_compare_and_roundtrip_judge_each_leg(calls, fitted, built, tmp_path):
    """``synth compare`` of two-channel real calls and a stereo set compares channel with channel; the round
    trip's table is per leg, each leg against the targets fitted for it and the conditions it was built with."""
    from synth.profiles import compare
    from synth.profiles.roundtrip import leg_tables, measure_set

    audio, _, _ = calls
    res = compare.compare(audio, built, tmp_path / "cmp", n_splits=100)
    by = {r["feature"]: r for r in res["results"]}
    for name in LEGS:
        for key in ("speech_level_dbov", "snr_db"):
            assert by[f"{name}.{key}"]["verdict"] == CLOSE, (name, key, by[f"{name}.{key}"])
    payload = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert payload["legs"] == list(LEGS) and payload["n_real"] == N_CALLS == payload["n_synthetic"]
    assert (tmp_path / "cmp" / "plots" / "agent.snr_db.png").is_file()
    rows = json.loads((fitted.parent / "calls.fit.json").read_text())
    items = manifest(built)
    synth = measure_set(built, items, False, legs=list(LEGS))
    table = leg_tables(rows, yaml.safe_load(fitted.read_text())["fitted"], synth, items, None, None)
    t = {r["feature"]: r for r in table}
    for name in LEGS:
        leg = next(x for x in yaml.safe_load(fitted.read_text())["fitted"]["legs"] if x["name"] == name)
        row = t[f"{name}.speech_level_dbov"]
        assert row["verdict"] == CLOSE and abs(row["target"] - leg["level_dbov"]["normal"][0]) < 0.5
        assert abs(row["build_error"]) < 1.5   # measured minus the leg's own drawn level
        assert t[f"{name}.codec_family_applied"]["verdict"] == "pass"
    assert sum(r["feature"] == "duration_ks" for r in table) == 1
