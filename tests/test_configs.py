"""Every option of every config group composes, builds a plan and renders an item."""

import pytest

from synth.build import Job, make_item
from synth.cli import compose_config
from synth.plan import make_plan

from helpers import CORPUS, REPO

SKIP_GROUPS = {"suite", "eval", "profile"}  # suites and profiles have their own tests
OPTIONS = sorted((g.name, y.stem) for g in (REPO / "conf").iterdir() if g.is_dir() and g.name not in SKIP_GROUPS
                 for y in g.glob("*.yaml"))


def test_every_group_has_options():
    groups = {g for g, _ in OPTIONS}
    assert {"sources", "scenario", "room", "noise", "level", "channel", "output"} <= groups


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes_and_renders(tmp_path, group, option):
    cfg = compose_config([f"{group}={option}", f"sources.root={CORPUS}", f"out_dir={tmp_path}", "n_items=1"])
    plan = make_plan(cfg)
    line = make_item(plan, tmp_path, Job(f"{plan.id_prefix}-000000"))
    assert line["duration"] > 0.5 and (tmp_path / line["audio_filepath"]).exists() and line["segments"]
