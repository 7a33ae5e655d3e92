"""A fake cohort graded by nbgrader: solution full marks, untouched zero, wrong in between."""

from __future__ import annotations

import html
import importlib.util
import re

import nbformat
import pytest

from conftest import LESSONS, ROOT, grading_options, lesson_ids
from mi_tutor.course.autograde import autograde_course
from mi_tutor.course.cohort import solution_submission, wrong_submission, write_submission
from mi_tutor.course.lessons import read_lesson
from mi_tutor.course.nbgrader_course import init_course
from mi_tutor.course.site import leaked_lines


def _wrong_answers(slug: str) -> dict[str, str]:
    path = ROOT / "tests" / "wrong_answers" / f"{slug}.py"
    assert path.exists(), f"lesson {slug} needs tests/wrong_answers/{slug}.py with REPLACEMENTS"
    spec = importlib.util.spec_from_file_location(f"wrong_{slug}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.REPLACEMENTS


def _auto_points(nb) -> float:
    return sum(c.metadata["nbgrader"]["points"] for c in nb.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_ids())
def test_fake_cohort(lesson, tmp_path, solution_run):
    # The solution student is graded once per session (conftest.solution_run); this test adds the
    # untouched and the wrong student, graded by nbgrader in a course of their own.
    solution = solution_run(lesson)
    course = tmp_path / "course"
    [release_path] = init_course(course, ROOT / "solutions", only=[lesson.slug])
    release = nbformat.read(release_path, as_version=4)
    assert leaked_lines(lesson.path, release_path.read_text()) == []
    shared = nbformat.read(solution.release, as_version=4)
    assert [c.source for c in release.cells] == [c.source for c in shared.cells], "one release, whoever builds it"

    source = read_lesson(lesson.path)
    solved = solution_submission(release, source)
    write_submission(course, "untouched", lesson.slug, release)
    write_submission(course, "wrong", lesson.slug, wrong_submission(solved, _wrong_answers(lesson.slug)))

    results = {r.student: r for r in autograde_course(course, lesson.slug, **grading_options())}
    assert all(r.graded for r in results.values()), {s: r.problems for s, r in results.items()}
    full = _auto_points(source)
    assert solution.result["graded"], solution.result
    assert solution.result["score"] == pytest.approx(full), solution.result
    assert results["untouched"].score == 0, results["untouched"]
    assert 0 < results["wrong"].score < full, results["wrong"]

    # The solution also passes the locked, ungraded result checks under the figures (they carry no points).
    graded = solution.notebook()
    broken = [c.metadata["nbgrader"]["grade_id"] for c in graded.cells if c.cell_type == "code"
              and c.metadata.get("nbgrader", {}).get("locked") and any(o.output_type == "error" for o in c.outputs)]
    assert broken == [], f"the solution fails the locked cells {broken}"

    # Feedback names what failed but shows no hidden-test code.
    pages = {student: course / "feedback" / student / lesson.slug / f"{lesson.slug}.html" for student in results}
    pages["solution"] = solution.course / "feedback" / "solution" / lesson.slug / f"{lesson.slug}.html"
    for student, page in pages.items():
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert leaked_lines(lesson.path, text, kinds=("HIDDEN TESTS",)) == [], student
    wrong_page = pages["wrong"].read_text()
    assert "CheckFailure" in wrong_page or "AssertionError" in wrong_page
