"""Profile files go through the command line's schema, the command line wins over a profile file (group
selections included) and the card says which keys it set; overrides cannot make Hydra run foreign code."""

import json
import subprocess
import sys

import pytest

from synth.cli import compose_config
from synth.errors import ConfigError

from helpers import CORPUS, REPO, build_set, manifest

PROFILE = "noise:\n  kind: recorded\n  snr_db: 5\nroom:\n  kind: none\n"


def synth(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synth.cli", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True)


def one_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    return r.stderr.strip()


@pytest.mark.parametrize("body,key", [("n_itemz: 5\n", "n_itemz"), ("sources:\n  rooot: /data\n", "sources.rooot"),
                                      ("output:\n  formatt: wav\n", "output.formatt")])
def test_unknown_key_in_a_profile_file_names_it(tmp_path, body, key):
    p = tmp_path / "p.yaml"
    p.write_text(PROFILE + body)
    line = one_line(synth("build", f"profile={p}", f"out_dir={tmp_path / 'set'}", "n_items=1"))
    assert f"profile file {p}: unknown key '{key}'" in line
    assert not (tmp_path / "set").exists()


@pytest.mark.parametrize("override,key", [("+foo=1", "foo"), ("+sources.bar=2", "sources.bar"),
                                          ("++output.extra=1", "output.extra")])
def test_added_unknown_key_on_the_command_line(tmp_path, override, key):
    line = one_line(synth("build", override, f"out_dir={tmp_path / 'set'}", "n_items=1"))
    assert f"unknown key '{key}'" in line and not (tmp_path / "set").exists()


def test_profile_file_values_of_the_wrong_type(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("n_items: many\n")
    with pytest.raises(ConfigError, match=f"profile file {p}: n_items"):
        compose_config([f"profile={p}"])


@pytest.fixture(scope="module")
def profile_file(tmp_path_factory):
    p = tmp_path_factory.mktemp("profile") / "street.yaml"
    p.write_text(PROFILE)
    return p


def test_group_selection_on_the_command_line_wins_over_the_profile(tmp_path, profile_file):
    base = build_set(tmp_path / "profiled", f"profile={profile_file}", "n_items=3")
    assert all(it["conditions"]["snr_db"] == 5 for it in manifest(base))
    assert json.loads((base / "card.json").read_text())["profile"]["set_on_command_line"] == [
        "n_items", "out_dir", "sources.root"]

    quiet = build_set(tmp_path / "quiet", f"profile={profile_file}", "noise=none", "n_items=3")
    assert not any("snr_db" in it["conditions"] or "noise" in it["conditions"] for it in manifest(quiet))
    card = json.loads((quiet / "card.json").read_text())
    assert "noise" in card["profile"]["set_on_command_line"] and card["profile"]["name"] == "street"
    assert "set on the command line, over the profile: n_items, noise, out_dir" in (quiet / "card.md").read_text()


def test_key_override_wins_over_the_profile_and_the_rest_of_the_profile_stays(profile_file):
    cfg = compose_config([f"profile={profile_file}", "noise.snr_db=12", f"sources.root={CORPUS}"])
    assert cfg.noise.snr_db == 12 and cfg.noise.kind == "recorded" and cfg.room.kind == "none"
    cfg = compose_config([f"profile={profile_file}", "room=simulated"])
    assert cfg.room.kind == "simulated" and cfg.noise.snr_db == 5


@pytest.mark.parametrize("override", ["+hydra.callbacks.x._target_=os.system",
                                      "+hydra.callbacks.log={_target_: builtins.exec, _args_: ['print(1)']}",
                                      "+hydra/callbacks=log_job_return",
                                      "+noise.sampler={_target_: subprocess.call}"])
@pytest.mark.parametrize("multirun", [False, True])
def test_overrides_cannot_instantiate_foreign_code(tmp_path, override, multirun):
    r = synth("build", override, f"out_dir={tmp_path / 'set'}", "n_items=1", *(["-m"] if multirun else []))
    line = one_line(r)
    assert line.startswith(f"override {override!r}:") and "synth's own classes" in line
    assert not (tmp_path / "set").exists()
