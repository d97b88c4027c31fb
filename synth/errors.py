"""User-facing errors: one line that names the file (or key) and the fix.

The CLI prints ``str(err)`` and exits with code 2; it never shows a traceback for these.
"""

from __future__ import annotations


class SynthError(Exception):
    """Base class for errors the CLI reports as a one-line message with exit code 2."""


class BadInput(SynthError):
    """An input file (audio, transcript, manifest) cannot be used.

    ``path`` names the file, ``problem`` what is wrong, ``fix`` what the user can do. With
    ``on_bad_input=skip`` the file is skipped and listed in the dataset card instead.
    """

    def __init__(self, path: object, problem: str, fix: str = "fix or remove the file, or set on_bad_input=skip"):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        super().__init__(f"bad input {self.path}: {problem}; {fix}")

    def __reduce__(self):  # so a worker process can hand the error back to the build intact
        return type(self), (self.path, self.problem, self.fix)


class ConfigError(SynthError):
    """A configuration value or key is invalid (names the key and the allowed values)."""
