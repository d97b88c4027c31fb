"""The command line wins over a fitted profile's stages: ``noise=none`` removes the fitted recorder noise (audio
and labels), plain ``key=value`` overrides any key the profile sets; a profile fitted from 2-party RTTMs builds
a conversation whose ``synth stats`` targets are the fitted ones; items are sliced by the SNR they were built
with. Real telephone calls from ../shared/corpus/telephone are the fitted recordings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from synth.cli import compose_config
from synth.profiles import fit
from synth.scene.fit_turns import FEW_INTERVALS, few_intervals_warning

from helpers import CORPUS, build_set, manifest

TELEPHONE = CORPUS / "telephone"


def telephone_manifest(path, device: str, n: int) -> None:
    """A NeMo manifest of the first ``n`` calls of ``device`` (absolute audio paths: the calls stay put)."""
    rows = [json.loads(line) for line in (TELEPHONE / "manifest.jsonl").read_text().splitlines() if line.strip()]
    rows = [{**r, "audio_filepath": str(TELEPHONE / r["audio_filepath"])} for r in rows if r["device"] == device][:n]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.fixture(scope="module")
def landline(tmp_path_factory):
    d = tmp_path_factory.mktemp("landline")
    telephone_manifest(d / "calls.jsonl", "landline", 12)
    assert fit.main([str(d / "calls.jsonl"), "--out", str(d / "fit" / "landline.yaml")]) == 0
    return d / "fit" / "landline.yaml"


def _samples(set_dir) -> dict[str, np.ndarray]:
    return {it["id"]: sf.read(str(set_dir / it["audio_filepath"]), dtype="int16")[0] for it in manifest(set_dir)}


def test_noise_none_removes_the_fitted_noise_and_its_label(landline, tmp_path):
    fitted = build_set(tmp_path / "fitted", f"profile={landline}", "n_items=3", "room=none")
    quiet = build_set(tmp_path / "quiet", f"profile={landline}", "noise=none", "n_items=3", "room=none")
    # the same profile without its fitted noise: what `noise=none` must build, sample for sample
    data = yaml.safe_load(landline.read_text())
    data["fitted"].pop("snr_db")
    no_noise = tmp_path / "no_noise" / "landline.yaml"
    no_noise.parent.mkdir()
    no_noise.write_text(yaml.safe_dump(data))
    reference = build_set(tmp_path / "reference", f"profile={no_noise}", "n_items=3", "room=none")

    for it in manifest(fitted):  # the fitted build adds noise and is sliced by the SNR it was built with
        snr = it["conditions"]["recorder"]["snr_db"]
        assert it["slice"]["snr_bin"] != "clean" and np.isfinite(snr)
    for it in manifest(quiet):
        assert "snr_db" not in it["conditions"] and "snr_db" not in it["conditions"].get("recorder", {})
        assert it["slice"]["snr_bin"] == "clean"
        assert not any(s["name"] == "add_noise" for s in it["recipe"]["recorder"])
    a, b, c = _samples(quiet), _samples(reference), _samples(fitted)
    assert a.keys() == b.keys() == c.keys()
    for k in a:
        assert np.array_equal(a[k], b[k])          # no added noise: identical to the build without it
        assert not np.array_equal(a[k], c[k])      # and the fitted noise really was there before
    card = (quiet / "card.md").read_text()
    assert "Fitted stage replaced on the command line: noise=none: the fitted recorder noise" in card
    assert "noise" in json.loads((quiet / "card.json").read_text())["profile"]["replaced_on_command_line"]


def test_room_and_channel_options_replace_the_fitted_stages(landline):
    cfg = compose_config([f"profile={landline}", "room=none", "channel=amr_nb_12k2", f"sources.root={CORPUS}"])
    assert cfg.room.kind == "none"
    names = [s["name"] for s in cfg.channel.recorder]
    assert names == ["add_noise", "calibrate_level"]          # the fitted band limit and codec are gone...
    assert [s["codec"] for s in cfg.channel.legs[0].chain if s["name"] == "codec"] == ["amr_nb"]  # ...replaced
    assert "channel" in cfg.profile.replaced_on_command_line


def test_plain_key_overrides_a_profile_key(landline, tmp_path):
    cfg = compose_config([f"profile={landline}", "scenario.duration_s=[1,2]", f"sources.root={CORPUS}"])
    assert list(cfg.scenario.duration_s) == [1, 2]
    s = build_set(tmp_path / "short", f"profile={landline}", "scenario.duration_s=[1,2]", "n_items=3")
    for it in manifest(s):  # a fixed-length item keeps at least its first utterance whole
        first = it["recipe"]["talkers"][0]["utterances"][0]
        assert 1.0 <= it["recipe"]["target_duration_s"] <= 2.0
        assert it["duration"] <= max(2.0, first["start_s"] + first["src_end_s"] - first["src_start_s"] + 1.0) + 0.01

def test_a_key_the_profile_does_not_set_is_still_checked(landline, tmp_path, capsys):
    from synth.cli import main

    assert main(["build", f"profile={landline}", "scenario.no_such_key=1", f"out_dir={tmp_path / 's'}"]) == 2
    assert "unknown key 'scenario.no_such_key'" in capsys.readouterr().err


def two_party_calls(folder, n: int = 3, seed: int = 0):
    """``n`` two-party calls (~25 s) of real corpus utterances, A and B alternating with gaps and overlaps,
    with their reference RTTMs."""
    rng = np.random.default_rng(seed)
    rows = [json.loads(line) for line in (CORPUS / "manifest.jsonl").read_text().splitlines() if line.strip()]
    by_spk: dict[str, list] = {}
    for r in rows:
        if r["kind"] == "speech" and 1.0 <= r["duration_s"] <= 6.0:
            by_spk.setdefault(r["speaker"], []).append(r["path"])
    spk = [s for s, v in by_spk.items() if len(v) >= 2][:2]
    sr = 16000
    (folder / "audio").mkdir(parents=True)
    (folder / "rttm").mkdir()
    for c in range(n):
        x = np.zeros(30 * sr, np.float32)
        t, lines, k = 0.3, [], 0
        while t < 24:
            who = k % 2
            u, _ = sf.read(str(CORPUS / by_spk[spk[who]][(k // 2) % len(by_spk[spk[who]])]), dtype="float32")
            u = u if u.ndim == 1 else u.mean(axis=1)
            a = int(t * sr)
            x[a: a + len(u)] += 0.3 * u[: len(x) - a] / (np.abs(u).max() + 1e-9)
            lines.append(f"SPEAKER call{c} 1 {t:.3f} {len(u) / sr:.3f} <NA> <NA> {spk[who]} <NA> <NA>")
            t += len(u) / sr + (rng.uniform(0.2, 0.9) if rng.uniform() > 0.3 else -rng.uniform(0.1, 0.5))
            k += 1
        sf.write(str(folder / "audio" / f"call{c}.wav"), x[: int((t + 1) * sr)], sr, subtype="PCM_16")
        (folder / "rttm" / f"call{c}.rttm").write_text("\n".join(lines) + "\n")
    return folder / "audio", folder / "rttm"


def test_rttm_fitted_two_party_profile_builds_a_conversation(tmp_path):
    from synth.stats import set_stats

    audio, rttm = two_party_calls(tmp_path / "calls")
    out = tmp_path / "fit" / "calls.yaml"
    assert fit.main([str(audio), "--rttm", str(rttm), "--out", str(out)]) == 0
    fitted = yaml.safe_load(out.read_text())["fitted"]
    assert fitted["scenario"] == "conversation"
    s = build_set(tmp_path / "set", f"profile={out}", "n_items=2")
    for it in manifest(s):
        assert it["recipe"]["scenario"] == "conversation"
        assert len({seg["speaker"] for seg in it["segments"]}) == 2
    target = set_stats(s)["target"]
    for k in ("silence_ratio", "overlap_ratio", "backchannel_rate_per_min"):  # the fitted targets, as fitted
        assert target[k] == fitted["turns"]["targets"][k]
    assert target["model_backchannel_rate_per_min"] == fitted["turns"]["backchannel_rate_per_min"]
    single = compose_config([f"profile={out}", "scenario=single_talker", f"sources.root={CORPUS}"])
    assert single.scenario.name == "single_talker"                 # the command line still wins


def test_rttm_fitted_meeting_profile_selects_the_meeting_scenario(tmp_path):
    conv = CORPUS / "conversation"   # AMI excerpts: 4 speakers each in their RTTMs
    out = tmp_path / "ami.yaml"
    assert fit.main([str(conv), "--rttm", str(conv), "--out", str(out), "--no-noise-bank"]) == 0
    fitted = yaml.safe_load(out.read_text())["fitted"]
    assert fitted["scenario"] == "meeting" and fitted["n_speakers"]["choice"] == [4]
    cfg = compose_config([f"profile={out}", f"sources.root={CORPUS}"])
    assert cfg.scenario.name == "meeting" and cfg.scenario.exact_duration


def test_few_gaps_or_overlaps_warn_in_one_line(capsys, tmp_path):
    from synth.scene.fit_turns import main as fit_turns_main

    assert few_intervals_warning(FEW_INTERVALS, FEW_INTERVALS) is None
    assert "only 4 gaps" in few_intervals_warning(4, 50) and "overlaps" not in few_intervals_warning(4, 50)
    fit_turns_main([str(CORPUS / "conversation"), "--out", str(tmp_path / "t.yaml")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("warning: turn timing fitted from only 4 gaps and 4 overlaps")
