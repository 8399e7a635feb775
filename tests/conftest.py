"""Shared fixtures: where the project's captures and the shared corpus live."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


def corpus_file(rel: str) -> Path:
    """A file of ../shared/corpus, or skip the test cleanly when it is absent."""
    path = CORPUS / rel
    if not path.exists():
        pytest.skip(f"../shared/corpus/{rel} not present")
    return path


@pytest.fixture
def corpus() -> Path:
    """The shared corpus directory (skips when ../shared is absent)."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus not present")
    return CORPUS
