"""Effects: one real-world condition per file, each with a ``sample``/``apply`` pair (see base.py).

Importing this package imports every effect module so each one registers its name.
"""

import importlib
import pkgutil

for _m in pkgutil.iter_modules(__path__):
    if not _m.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_m.name}")
