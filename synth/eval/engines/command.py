"""``asr=command``: any program that takes an audio path and prints the transcript on stdout."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

from ...errors import ConfigError, SynthError
from . import Engine, EngineSpec, register
from ._audio import MaybeConverted


@register("command")
class CommandEngine(Engine):
    """Any program that takes an audio path and prints the transcript on stdout.

    ``command`` is split with shlex (no shell is involved) and ``{audio}`` in any argument is replaced by
    the path, e.g. ``asr.command="python my_asr.py --in {audio}"``. The program gets the set's original
    file unless ``sample_rate`` is set (then a temporary 16-bit mono WAV at that rate). A non-zero exit is
    an error naming the command and the last line of its stderr."""

    needs = "command"

    def __init__(self, spec: EngineSpec):
        super().__init__(spec)
        self.argv = shlex.split(spec.command)
        if not self.argv:
            raise ConfigError("asr.command is empty; give a program and {audio}, e.g. asr.command=\"my_asr {audio}\"")
        if not any("{audio}" in a for a in self.argv):
            raise ConfigError(f"asr.command={spec.command!r} has no {{audio}} placeholder for the audio path")

    def transcribe(self, audio_path: Path, item: dict) -> dict:
        with MaybeConverted(audio_path, self.spec.sample_rate) as p:
            argv = [a.replace("{audio}", str(p)) for a in self.argv]
            try:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=self.spec.timeout_s,
                                   stdin=subprocess.DEVNULL)
            except FileNotFoundError:
                raise ConfigError(f"asr.command: program {argv[0]!r} not found; give its full path") from None
            except subprocess.TimeoutExpired:
                raise SynthError(f"asr.command timed out after {self.spec.timeout_s} s on {audio_path}; "
                                 "raise asr.timeout_s") from None
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["(no stderr)"])[-1]
            raise SynthError(f"asr.command exited {r.returncode} on {audio_path}: {last}")
        return {"text": " ".join(r.stdout.split())}

    @classmethod
    def preflight(cls, spec: EngineSpec) -> None:
        prog = cls(spec).argv[0]
        if shutil.which(prog) is None and not Path(prog).is_file():
            raise ConfigError(f"asr.command: program {prog!r} not found; give its full path")
