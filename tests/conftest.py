"""Shared fixtures. Real audio is read from ../shared/corpus by path; nothing is copied into the repo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from helpers import CORPUS, REPO  # noqa: F401  (one definition of the corpus location)


@pytest.fixture(scope="session")
def corpus_root() -> Path:
    if not (CORPUS / "manifest.jsonl").exists():
        pytest.fail(f"real corpus not found at {CORPUS}: check out ../shared beside the repo")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_manifest(corpus_root) -> list[dict]:
    return [json.loads(line) for line in (corpus_root / "manifest.jsonl").read_text().splitlines() if line.strip()]


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)
