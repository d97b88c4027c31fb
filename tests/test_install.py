"""synth installs like a Python package: a wheel built from the repository, installed into a fresh venv
outside it, builds and validates a set from ../shared/corpus with its own shipped conf/ and assets/.

The venv has no system site-packages (inside a user's venv, those would be the base interpreter's, which
lacks hydra and the rest): the wheel is installed into it alone, then a ``.pth`` file lends it the running
interpreter's site-packages for the dependencies. Directories named in a ``.pth`` line are only put on
``sys.path``: their own ``.pth`` files (an editable install's finder) are not run, and the venv's own
site-packages come first, so ``synth`` is the wheel's. Offline: nothing is downloaded (the wheel is built
without build isolation when setuptools is here, as the ``test`` extra makes sure)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from helpers import CORPUS, REPO

SOURCES = ("pyproject.toml", "README.md", "synth", "conf", "assets")


def shipped_files(folder: str, prefix: str) -> set[str]:
    """Files under the repository's ``folder`` as the wheel names them (``prefix`` + relative path)."""
    return {prefix + p.relative_to(REPO / folder).as_posix() for p in (REPO / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


def builds_offline() -> bool:
    """setuptools here can build the wheel itself: >= 70.1 has bdist_wheel, older ones need ``wheel``."""
    if importlib.util.find_spec("setuptools") is None:
        return False
    major, minor = (int(v) for v in importlib.metadata.version("setuptools").split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


def dependency_dirs() -> list[str]:
    """The running interpreter's site-packages (a venv's, the system's, the user's): where the
    dependencies are, whatever kind of environment runs the tests. Never the repository."""
    out = []
    for p in sys.path:
        path = Path(p) if p else None
        if path and path.name in ("site-packages", "dist-packages") and path.is_dir() \
                and not path.resolve().is_relative_to(REPO) and str(path) not in out:
            out.append(str(path))
    return out


def run(args: list, cwd: Path, env: dict) -> subprocess.CompletedProcess:
    out = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    assert out.returncode == 0, f"{args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_builds_and_validates_a_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SYNTH_CONF", "VIRTUAL_ENV")}
    src = tmp_path / "src"  # build from a copy: what a clone holds, and nothing written into the repository
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    isolation = ["--no-build-isolation"] if builds_offline() else []  # else pip downloads setuptools
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", *isolation, "-w", tmp_path / "wheel", src],
        tmp_path, env)
    (wheel,) = (tmp_path / "wheel").glob("synth-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert shipped_files("conf", "synth/conf/") <= names and any(n.endswith("conf/config.yaml") for n in names)
    assert shipped_files("assets", "synth/assets/") <= names
    assert shipped_files("synth", "synth/") <= names, "a subpackage is missing from pyproject's packages list"

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", venv], tmp_path, env)
    bin_dir = venv / "bin"
    # this interpreter's pip installs into the venv (its scripts run the venv's python), before the .pth
    # below, so pip sees an empty venv and the running environment's synth is not in its way
    run([sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "-q", "--no-deps", wheel],
        tmp_path, env)
    site_dir = Path(run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                        tmp_path, env).stdout.strip())
    (site_dir / "running_env.pth").write_text("\n".join(dependency_dirs()) + "\n")
    where = run([bin_dir / "python", "-c", "import synth, synth.cli; print(synth.__file__); "
                 "print(synth.cli.conf_dir())"], tmp_path, env).stdout.split()
    for path in map(Path, where):
        assert path.is_relative_to(venv) and not path.is_relative_to(REPO), where

    set_dir = tmp_path / "set"
    run([bin_dir / "synth", "build", "n_items=3", f"out_dir={set_dir}", f"sources.root={CORPUS}"], tmp_path, env)
    out = run([bin_dir / "synth", "validate", set_dir], tmp_path, env)
    assert out.stdout.splitlines()[-1] == "OK: 3 items checked, 0 problems"
