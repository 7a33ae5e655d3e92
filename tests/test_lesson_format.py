"""Every lesson follows the course format, and lessons/ is a fresh release of solutions/."""

from __future__ import annotations

import re

import pytest

from conftest import LESSONS, ROOT, lesson_ids
from mi_tutor.course.lessons import read_lesson, student_source, validate_lesson
from mi_tutor.course.site import leaked_lines

pytestmark = pytest.mark.parametrize("lesson", LESSONS, ids=lesson_ids())


def _cells(lesson, kind=None):
    return [c for c in read_lesson(lesson.path).cells if kind is None or c.cell_type == kind]


def test_metadata_is_valid(lesson):
    assert validate_lesson(read_lesson(lesson.path), lesson.slug) == []


def test_student_version_is_committed_and_fresh(lesson):
    target = ROOT / "lessons" / lesson.path.name
    assert target.exists(), f"lessons/{lesson.path.name} is missing: run `mi-tutor release`"
    assert target.read_text() == student_source(lesson.path), (
        f"lessons/{lesson.path.name} is stale: run `mi-tutor release`")


def test_student_version_leaks_nothing(lesson):
    text = (ROOT / "lessons" / lesson.path.name).read_text()
    assert leaked_lines(lesson.path, text) == []


def test_every_exercise_has_visible_and_hidden_tests(lesson):
    cells = _cells(lesson)
    solutions = [c for c in cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    tests = [c for c in cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    hidden = [c for c in tests if "BEGIN HIDDEN TESTS" in c.source]
    assert solutions, "a lesson needs exercises"
    assert len(hidden) >= len(solutions), f"{len(solutions)} exercises but only {len(hidden)} hidden test cells"
    assert len(tests) - len(hidden) >= len(solutions), "every exercise needs a visible test too"
    assert all(c.metadata["nbgrader"]["points"] > 0 for c in tests)


def test_has_written_question_and_course_sections(lesson):
    md = _cells(lesson, "markdown")
    written = [c for c in md if c.metadata.get("nbgrader", {}).get("grade")]
    assert written, "a lesson asks at least one written question graded by hand"
    text = "\n".join(c.source for c in md)
    for heading in ("Learning objectives", "Prerequisites", "Estimated time", "## Summary", "Further reading"):
        assert heading in text, f"missing section: {heading}"


def test_exercises_have_difficulty_and_hint(lesson):
    md = [c.source for c in _cells(lesson, "markdown")]
    exercises = [s for s in md if re.search(r"^#+ Exercise", s, re.M)]
    assert exercises
    for s in exercises:
        assert "Difficulty" in s and "<details>" in s, f"exercise without difficulty or hint:\n{s[:200]}"

