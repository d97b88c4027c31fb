"""Data folders synth ships beside its code: ``conf/`` (the Hydra config tree) and ``assets/`` (the eval
report's template and CSS, device response tables, normalizer word lists), found in a wheel's package or
a source checkout alike (README, "Installing").
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml


def shipped_dir(name: str) -> Path:
    """The real directory of the shipped data folder ``name`` (``conf`` or ``assets``); the installed
    location (``<site-packages>/synth/<name>``, mapped by pyproject.toml) when it exists, else the source
    checkout's (``<repo>/<name>``; it may not exist: callers say so). Anchored on the ``synth`` package that
    was actually imported, so code and data come from the same place: asking the import system for
    ``synth.conf`` could answer with another checkout's folder, and a namespace package has no real
    directory, which Hydra needs (wheels install unpacked, so this one is real)."""
    package = Path(str(files("synth")))
    installed = package / name
    return installed if installed.is_dir() else package.parent / name


def asset_text(name: str) -> str:
    """The text of ``assets/<name>`` (UTF-8), e.g. ``eval/report.css``."""
    return (shipped_dir("assets") / name).read_text(encoding="utf-8")


def asset_yaml(name: str):
    """``assets/<name>`` parsed as YAML."""
    return yaml.safe_load(asset_text(name))
