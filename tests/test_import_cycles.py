"""No import cycles among synth's modules, lazy (function-level) imports included: scripts/import_cycles.py."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO


def test_no_import_cycles():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "import_cycles.py")], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("0 import cycle(s)"), r.stdout


def test_the_script_finds_a_lazy_cycle(tmp_path):
    """A cycle made only of function-level imports is still found (the script reads every import node)."""
    pkg = tmp_path / "synth"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from .b import g\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import c\n"
                              "def g():\n    from synth.a import f\n")
    (pkg / "c.py").write_text("from .b import g\n")
    script = tmp_path / "scripts" / "import_cycles.py"
    script.parent.mkdir()
    script.write_text((REPO / "scripts" / "import_cycles.py").read_text())
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    assert r.returncode == 1 and "cycle: synth.a <-> synth.b" in r.stdout and "1 import cycle(s)" in r.stdout, r.stdout
