"""Data folders synth ships beside its code: ``conf/`` (the Hydra config tree) and ``assets/`` (the eval
report's template and CSS, device response tables, normalizer word lists).

Both live at the top of the repository. The wheel maps them into the package (``synth.conf`` ->
``conf/``, ``synth.assets`` -> ``assets/``, see pyproject.toml), so an installed synth has them at
``<site-packages>/synth/conf`` and ``.../synth/assets``; a source checkout and an editable install have
them beside the package, at ``<repo>/conf``. The lookup is anchored on the ``synth`` package that was
actually imported (``importlib.resources.files``), so code and data always come from the same place;
asking the import system for ``synth.conf`` instead could answer with another checkout's folder, and a
namespace package gives no real directory, which Hydra needs. Wheels install unpacked, so the folder is
a real directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import yaml


def shipped_dir(name: str) -> Path:
    """The real directory of the shipped data folder ``name`` (``conf`` or ``assets``); the installed
    location when it exists, else the source checkout's (which may not exist: callers say so)."""
    package = Path(str(files("synth")))
    installed = package / name
    return installed if installed.is_dir() else package.parent / name


def asset_text(name: str) -> str:
    """The text of ``assets/<name>`` (UTF-8), e.g. ``eval/report.css``."""
    return (shipped_dir("assets") / name).read_text(encoding="utf-8")


def asset_yaml(name: str):
    """``assets/<name>`` parsed as YAML."""
    return yaml.safe_load(asset_text(name))
