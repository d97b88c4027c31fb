"""Scenarios: sampling who speaks when (no DSP). Each returns the ``talkers`` part of a recipe.

Importing this package imports every module in it so each scenario registers its name (see base.py).
"""

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
