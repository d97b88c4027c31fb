"""Optional dependencies, imported only by the module that needs them.

A missing one is a one-line :class:`synth.errors.SynthError` naming the extra and the pip command.
torch must be the CPU build and come first: ``torch==2.13.0`` before anything that depends on it (lhotse),
or pip pulls a CUDA build of several GB.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import SynthError

INSTALL = {
    "torch": "pip install torch==2.13.0",
    "lhotse": "pip install torch==2.13.0 && pip install lhotse urllib3",
}


def require(module: str, extra: str, needed_for: str) -> ModuleType:
    """``import module``, or a one-line error: what needs it and how to install the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise SynthError(f"{needed_for} needs the {extra} extra ({e.name or module} is not installed): "
                         f"install it with {INSTALL[extra]}") from None
