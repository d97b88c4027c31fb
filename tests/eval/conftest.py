"""Fixtures for eval tests (helpers live in evalsets.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalsets import ladder_items, write_set


@pytest.fixture
def ladder_set(tmp_path) -> Path:
    return write_set(tmp_path / "set", ladder_items())
