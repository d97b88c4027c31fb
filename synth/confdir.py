"""Where the config groups live (``conf/``), for the CLI's Hydra app and for suites loading group options."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import SynthError


def conf_dir() -> Path:
    here = Path(os.environ.get("SYNTH_CONF", Path(__file__).resolve().parents[1] / "conf"))
    if not (here / "config.yaml").exists():
        raise SynthError(f"config folder {here} not found; install synth from its repository with "
                         "`pip install -e .` or set SYNTH_CONF=<path to conf/>")
    return here
