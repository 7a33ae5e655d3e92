"""Shared fixtures: the repository, its lessons, a cache of executed lessons."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from mi_tutor.course.lessons import find_lessons

ROOT = Path(__file__).resolve().parents[1]
LESSONS = find_lessons(ROOT / "solutions")

# One torch thread per process keeps parallel test workers from thrashing a small machine.
torch.set_num_threads(max(1, (os.cpu_count() or 1) // 2))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def executed_cache(tmp_path_factory) -> Path:
    """Executed lessons are cached here for the session (the site test reuses them)."""
    path = Path(os.environ.get("MI_TUTOR_TEST_CACHE") or tmp_path_factory.mktemp("executed"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def lesson_ids():
    return [l.slug for l in LESSONS]
