"""Where the config groups live (``conf/``), for the CLI's Hydra app and for suites loading group options."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SynthError


def conf_dir() -> Path:
    """The config tree: $SYNTH_CONF if set, else the conf/ shipped with the installed package."""
    from .shipped import shipped_dir
    here = Path(os.environ["SYNTH_CONF"]) if os.environ.get("SYNTH_CONF") else shipped_dir("conf")
    if not (here / "config.yaml").exists():
        raise SynthError(f"config folder {here} not found; reinstall synth (`pip install .` from its "
                         "repository, or its wheel) or set SYNTH_CONF=<path to conf/>")
    return here
