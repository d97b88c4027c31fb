"""synth target: weights follow significant paired deltas and training scarcity; a plan builds, realizes its
mixture, and with --exclude shares no source with the suites it targets."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import yaml

from conftest import SNR_ERRORS
from helpers import build_set, manifest
from synth.cli import main as synth
from synth.target import make_target_plan


@pytest.fixture(scope="module")
def plan_file(suites, tmp_path_factory):
    out = tmp_path_factory.mktemp("plan") / "plan.yaml"
    assert synth(["target", str(suites["snr_results"]), str(suites["codec_results"]), "--budget", "0.3",
                  "--exclude", str(suites["snr"]), str(suites["codec"]), "--out", str(out)]) == 0
    return out


def components(plan: dict) -> dict:
    return {c["slice"]: c for c in plan["profile"]["target"]["components"]}


def test_weights_rank_slices_by_significant_paired_delta(plan_file, suites):
    plan = yaml.safe_load(plan_file.read_text())
    comp = components(plan)
    # snr: 5, 3, 2, 1 substitutions per item in every pair -> strictly decreasing weights
    assert comp["snr_-5"]["p"] > comp["snr_0"]["p"] > comp["snr_5"]["p"] > comp["snr_10"]["p"] > 0
    assert comp["amr_nb_4k75"]["p"] > comp["gsm_fr"]["p"] > 0
    # snr_20: 3 errors in one pair, clean 1 error in another -> interval includes zero; snr_30, g711: delta 0
    for s in ("snr_20", "snr_30", "g711_ulaw", "g711_alaw", "amr_nb_12k2", "opus_nb_8k", "mp3_16k"):
        assert s not in comp
    assert "interval includes zero" in plan_file.with_suffix(".md").read_text().split("| snr_20 |")[1].split("\n")[0]
    # weights are proportional to the paired deltas, counted here from the references and the injected errors
    def errors(s):
        return sum(min(SNR_ERRORS.get(s, [0] * 6)[int(it["pair_id"][-6:])], len(it["text"].split()))
                   for it in manifest(suites["snr"]) if it["slice"]["slice"] == s)
    expected = (errors("snr_-5") - errors("clean")) / (errors("snr_10") - errors("clean"))
    assert comp["snr_-5"]["weight"] / comp["snr_10"]["weight"] == pytest.approx(expected, rel=1e-4)
    # the budget is spent: noise p + channel stage p = 0.3, and each group's choice weights match
    noise, chain = plan["noise"], plan["channel"]["legs"][0]["chain"]
    assert noise["p"] + chain[-1]["p"] == pytest.approx(0.3, abs=1e-5)
    w = dict(zip(noise["snr_db"]["choice"], noise["snr_db"]["weights"]))
    assert w[-5.0] == pytest.approx(comp["snr_-5"]["p"] / noise["p"], abs=1e-4)
    assert chain[-1]["codec"]["choice"] == ["amr_nb", "gsm_fr"] and chain[-1]["bitrate_bps"] == {"amr_nb": 4750}
    assert plan["room"] == {"kind": "none"}  # untargeted groups keep the suites' reference condition
    assert plan["sources"]["exclude"] == [str(suites["snr"].resolve()), str(suites["codec"].resolve())]


def test_scarcity_in_training_data_lowers_weight(suites, tmp_path):
    train = tmp_path / "train.jsonl"  # 80% of the training data already at -5 dB SNR
    train.write_text("".join(json.dumps({"audio_filepath": f"a{i}.wav", "text": "x", "duration": 1.0,
                                         "conditions": {"snr_db": -5.0 if i < 8 else None}}) + "\n"
                             for i in range(10)))
    _, rows, _ = make_target_plan([suites["snr_results"]], 0.3)
    _, rows_t, _ = make_target_plan([suites["snr_results"]], 0.3, train=train)
    w, wt = {r["slice"]: r for r in rows}, {r["slice"]: r for r in rows_t}
    assert wt["snr_-5"]["share"] == pytest.approx(0.8) and wt["snr_0"]["share"] == 0.0
    assert wt["snr_-5"]["weight"] == pytest.approx(0.2 * w["snr_-5"]["weight"])
    assert wt["snr_0"]["weight"] == pytest.approx(w["snr_0"]["weight"])
    assert wt["snr_0"]["p"] > w["snr_0"]["p"]  # the freed budget goes to the scarce conditions


def test_plan_set_realizes_its_mixture_and_does_not_leak(plan_file, suites, tmp_path, capsys):
    out = build_set(tmp_path / "from_plan", f"profile={plan_file}", "n_items=200", "scenario.utterances=1")
    items = manifest(out)
    plan = yaml.safe_load(plan_file.read_text())
    n = len(items)
    snr = Counter(it["conditions"].get("snr_db") for it in items)
    codec = Counter((it["conditions"].get("codec"), it["conditions"].get("bitrate_bps")) for it in items)
    realized = {"snr_-5": snr[-5.0], "snr_0": snr[0.0], "snr_5": snr[5.0], "snr_10": snr[10.0],
                "amr_nb_4k75": codec[("amr_nb", 4750)], "gsm_fr": codec[("gsm_fr", 13000)]}
    for name, c in components(plan).items():
        assert abs(realized[name] / n - c["p"]) <= 0.05, (name, realized[name] / n, c["p"])
    band = sum(it["conditions"].get("band") == "narrowband" for it in items) / n
    assert abs(band - plan["channel"]["legs"][0]["chain"][0]["p"]) <= 0.05
    assert not any(it["conditions"].get("rt60_s") for it in items)  # room: none, as in the suites' reference
    card = (out / "card.md").read_text()
    assert "Excluded sources" in card and str(suites["snr"]) in card
    capsys.readouterr()
    for suite in ("snr", "codec"):
        assert synth(["leakage", str(out), str(suites[suite])]) == 0
        assert "clean: no shared sources" in capsys.readouterr().out


def test_without_exclude_leakage_is_reported(plan_file, suites, tmp_path, capsys):
    plan = yaml.safe_load(plan_file.read_text())
    plan.pop("sources")
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(yaml.safe_dump(plan))
    out = build_set(tmp_path / "leaky_set", f"profile={leaky}", "n_items=40", "scenario.utterances=1")
    capsys.readouterr()
    assert synth(["leakage", str(out), str(suites["snr"])]) == 1
    text = capsys.readouterr().out
    assert "LEAKAGE" in text
    shared = int(text.split("speakers")[1].split()[0])
    assert shared > 0


def test_no_significant_slice_writes_no_plan(suites, tmp_path, capsys):
    from conftest import eval_with, write_controlled_hyps

    hyps = write_controlled_hyps(suites["snr"], {}, tmp_path / "exact.jsonl")
    res = eval_with(suites["snr"], hyps, tmp_path / "exact_eval")
    assert synth(["target", str(res), "--out", str(tmp_path / "p.yaml")]) == 0
    assert "nothing to plan" in capsys.readouterr().out
    assert not (tmp_path / "p.yaml").exists() and (tmp_path / "p.md").exists()


@pytest.mark.parametrize("args, needle", [
    (["--budget", "0"], "--budget 0.0"),
    (["--metric", "cer"], "--metric 'cer'"),
    (["--metric", "ter"], "has no term scores"),
    (["--exclude", "/nonexistent/suite"], "/nonexistent/suite"),
])
def test_bad_input_one_line_exit_2(suites, tmp_path, capsys, args, needle):
    assert synth(["target", str(suites["snr_results"]), "--out", str(tmp_path / "p.yaml"), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_results_of_real_data_are_listed_not_planned(suites, tmp_path, capsys):
    """A results.json of a set that is not a stress suite (real data, a plain set) has no slice configs to
    reproduce: alone it is refused in one line; next to a suite it is listed in plan.md as not used."""
    from conftest import eval_with

    plain = build_set(tmp_path / "plain", "n_items=2", "room=none")
    res = eval_with(plain, _exact(plain, tmp_path), tmp_path / "ev")
    capsys.readouterr()
    assert synth(["target", str(res), "--out", str(tmp_path / "p.yaml")]) == 2
    err = capsys.readouterr().err
    assert "not a synth stress suite" in err and err.count("\n") == 1
    assert synth(["target", str(res), str(suites["snr_results"]), "--out", str(tmp_path / "p.yaml")]) == 0
    assert f"Not used: {res} scores" in (tmp_path / "p.md").read_text()


def _exact(set_dir, tmp_path):
    p = tmp_path / "exact.jsonl"
    p.write_text("".join(json.dumps({"id": it["id"], "text": it["text"]}) + "\n" for it in manifest(set_dir)))
    return p


def test_training_shares_measured_on_a_sample_of_clean_speech(suites, tmp_path):
    """Without conditions metadata, shares are measured (synth.profiles.estimate): clean read speech is nowhere
    near 0 or -5 dB SNR, so those slices keep their full weight."""
    from helpers import CORPUS

    rows = [json.loads(l) for l in (CORPUS / "manifest.jsonl").read_text().splitlines() if l.strip()]
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"audio_filepath": str(CORPUS / r["path"]), "text": r["transcript"],
                                         "speaker": r["speaker"], "duration": r["duration_s"]}) + "\n"
                             for r in rows if r["kind"] == "speech"))
    _, rows_plain, _ = make_target_plan([suites["snr_results"]], 0.3)
    _, rows_t, info = make_target_plan([suites["snr_results"]], 0.3, train=train, n_sample=4)
    assert info["train_note"].startswith("measured on 4 of")
    w, wt = {r["slice"]: r for r in rows_plain}, {r["slice"]: r for r in rows_t}
    for s in ("snr_0", "snr_-5"):
        assert wt[s]["share"] == 0.0 and wt[s]["weight"] == pytest.approx(w[s]["weight"])
    assert all(0.0 <= r["share"] <= 1.0 for r in rows_t)


def test_term_error_rate_can_drive_the_plan(suites, tmp_path):
    """--metric ter: weights from the paired TER delta (terms = the first word of every reference, which the
    controlled hypotheses replace whenever a slice has errors)."""
    from conftest import SNR_ERRORS, eval_with, write_controlled_hyps

    terms = tmp_path / "terms.txt"
    terms.write_text("\n".join(sorted({it["text"].split()[0] for it in manifest(suites["snr"])})) + "\n")
    hyps = write_controlled_hyps(suites["snr"], SNR_ERRORS, tmp_path / "h.jsonl")
    res = eval_with(suites["snr"], hyps, tmp_path / "ev", f"terms={terms}")
    plan, rows, _ = make_target_plan([res], 0.3, metric="ter")
    by = {r["slice"]: r for r in rows}
    # every item of snr_10..snr_-5 loses its first word: same TER delta, same weight; snr_20/30 no budget
    assert by["snr_-5"]["delta"] == pytest.approx(by["snr_10"]["delta"]) and by["snr_-5"]["delta"] > 0
    assert by["snr_-5"]["p"] == pytest.approx(by["snr_10"]["p"]) and by["snr_20"]["p"] == by["snr_30"]["p"] == 0


def test_packet_loss_plan_keeps_the_reference_channel_and_gates_only_the_loss(tmp_path):
    """packet_loss_ladder's reference is a G.711 call: the plan keeps band limit and codec on every item (the
    reference condition) and applies packet loss, with a choice of the failing loss rates, to the budget."""
    from conftest import eval_with, write_controlled_hyps

    suite = build_set(tmp_path / "loss", "suite=packet_loss_ladder", "suite.n_sources=6", "scenario.utterances=1")
    errors = {"loss_1": [1] * 6, "loss_5": [2] * 6, "loss_20": [4] * 6}
    res = eval_with(suite, write_controlled_hyps(suite, errors, tmp_path / "h.jsonl"), tmp_path / "ev")
    plan, rows, info = make_target_plan([res], 0.2)
    bandlimit, codec, loss = plan["channel"]["legs"][0]["chain"]
    assert "p" not in bandlimit and "p" not in codec and codec["codec"] == "g711_ulaw"
    assert loss["p"] == pytest.approx(0.2) and info["gated_stages"] == 1
    assert loss["loss_rate"]["choice"] == [0.2, 0.05, 0.01]
    w = dict(zip(loss["loss_rate"]["choice"], loss["loss_rate"]["weights"]))
    assert w[0.2] > w[0.05] > w[0.01] > 0
    assert {r["slice"] for r in rows if r["p"] == 0} == {"loss_3", "loss_10"}


def test_augmenter_draws_from_the_plan_and_leaves_the_suites_out(plan_file, suites):
    """The plan is a profile file for the Augmenter too: its noise mixture and its sources.exclude apply."""
    import soundfile as sf

    from helpers import CORPUS
    from synth.augment import Augmenter
    from synth.leakage import read_sources

    aug = Augmenter.from_config([f"sources.root={CORPUS}"], profile=str(plan_file), seed=0)
    pools = aug.plan.pools
    for s in (suites["snr"], suites["codec"]):
        src = read_sources(s)
        assert not {str(f.path) for f in pools.noise} & src.noise
        assert not src.speakers & set(pools.speech.speakers)
    plan = yaml.safe_load(plan_file.read_text())
    allowed = {float(v) for v in plan["noise"]["snr_db"]["choice"]}
    x, sr = sf.read(CORPUS / "speech/cmu_arctic_aew/arctic_a0001.wav", dtype="float32")
    snrs = [aug(x, sr, key=f"utt{i}").conditions.get("snr_db") for i in range(60)]
    drawn = [v for v in snrs if v is not None]
    assert drawn and set(drawn) <= allowed
    assert abs(len(drawn) / len(snrs) - plan["noise"]["p"]) < 0.2  # noise applied with the plan's p
