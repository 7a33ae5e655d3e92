"""Autograding a class survives broken submissions; the self-check scores like the grader."""

from __future__ import annotations

import csv
import textwrap

import nbformat
import pytest
from nbgrader.api import Gradebook

from mi_tutor.course.autograde import autograde_course, summary_table, write_grades_csv
from mi_tutor.course.cli import main
from mi_tutor.course.cohort import solution_submission, write_submission
from mi_tutor.course.lessons import read_lesson, release_lessons
from mi_tutor.course.nbgrader_course import init_course

TINY = textwrap.dedent('''\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %% [markdown]
    # # Lesson 1: Tiny
    #
    # **Central claim.** Doubling a number is linear.
    #
    # Learning objectives: double a number. Prerequisites: none. Estimated time: 1 minute.

    # %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
    from mi_tutor.course.setup import setup_lesson
    device = setup_lesson(seed=0)

    # %% [markdown]
    # ### Exercise 1.1: double it
    # **Difficulty:** ★☆☆☆☆
    #
    # <details><summary>Hint</summary>
    #
    # Think of what doubling means for negative numbers too.
    #
    # </details>

    # %% nbgrader={"grade": false, "grade_id": "ex1_1_solution", "locked": false, "schema_version": 3, "solution": true}
    def double(x):
        ### BEGIN SOLUTION
        return 2 * x
        ### END SOLUTION

    # %% nbgrader={"grade": true, "grade_id": "ex1_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
    assert double(2) == 4

    # %% nbgrader={"grade": true, "grade_id": "ex1_1_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
    ### BEGIN HIDDEN TESTS
    # negative inputs: a sign mistake shows here
    assert double(-3) == -6, "double must handle negative numbers"
    ### END HIDDEN TESTS

    # %% [markdown] nbgrader={"grade": true, "grade_id": "written1_1", "locked": false, "points": 1, "schema_version": 3, "solution": true}
    # Why does doubling commute with negation?
    # ### BEGIN SOLUTION
    # Multiplication by 2 is linear.
    # ### END SOLUTION

    # %% [markdown]
    # ## Summary
    # Doubling. Further reading: none.
    ''')

LOOP = "def double(x):\n    while True:\n        pass\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    (root / "solutions").mkdir()
    (root / "solutions" / "01_tiny.py").write_text(TINY)
    course = root / "course"
    [release_path] = init_course(course, root / "solutions", timeout=30)  # carol loops: she waits it out
    return root, course, nbformat.read(release_path, as_version=4)


def _cohort(course, release, source):
    solved = solution_submission(release, source)
    write_submission(course, "alice", "01_tiny", solved)
    write_submission(course, "erin", "01_tiny", release)
    folder = write_submission(course, "bob", "01_tiny", solved).parent
    (folder / "01_tiny.ipynb").write_text('{"cells": [ this is not json')
    looping = nbformat.from_dict(solved)
    [cell] = [c for c in looping.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_1_solution"]
    cell.source = LOOP
    write_submission(course, "carol", "01_tiny", looping)
    write_submission(course, "dave", "01_tiny", solved, name="01_tiny-Copy1")


def test_broken_submissions_are_reported_and_others_graded(tiny, tmp_path):
    root, course, release = tiny
    _cohort(course, release, read_lesson(root / "solutions" / "01_tiny.py"))
    results = {r.student: r for r in autograde_course(course)}

    assert results["alice"].graded and results["alice"].score == 3
    assert results["erin"].graded and results["erin"].score == 0
    assert not results["bob"].graded and "not valid notebook JSON" in results["bob"].problems[0]
    assert not results["dave"].graded and "01_tiny-Copy1.ipynb" in results["dave"].problems[0]
    assert results["carol"].score == 0 and any("timeout" in p for p in results["carol"].problems)

    table = summary_table(list(results.values()))
    for name in ("bob", "carol", "dave"):
        assert name in table
    rows = list(csv.DictReader(write_grades_csv(list(results.values()), tmp_path / "g.csv").open()))
    assert {r["student"]: r["status"] for r in rows}["bob"] == "failed"
    assert len(rows) == 5

    # The gradebook is intact: the good grades are there and a re-run changes nothing.
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission("01_tiny", "alice").score == 3
    again = {r.student: r.score for r in autograde_course(course) if r.graded}
    assert again["alice"] == 3

    # Feedback says why the hidden test failed, not what it is.
    fb = (course / "feedback" / "erin" / "01_tiny" / "01_tiny.html").read_text()
    assert "double(-3)" not in fb and "hidden tests" in fb


def test_cli_autograde_exits_nonzero_on_failures(tiny, capsys):
    root, course, release = tiny
    if not (course / "submitted").exists():
        _cohort(course, release, read_lesson(root / "solutions" / "01_tiny.py"))
    assert main(["autograde", str(course), "01_tiny", "--no-feedback"]) == 1
    out = capsys.readouterr().out
    assert "failed: bob, dave" in out and (course / "grades.csv").exists()


def test_unknown_assignment_is_a_clear_error(tiny):
    _, course, _ = tiny
    with pytest.raises(KeyError, match="01_tiny"):
        autograde_course(course, "02_nope")


def test_self_check_scores_visible_tests(tiny, tmp_path, capsys):
    root, _, release = tiny
    [student] = release_lessons(root / "solutions", tmp_path / "lessons")
    assert "raise NotImplementedError" in student.read_text() and "double(-3)" not in student.read_text()
    assert main(["check", str(student)]) == 1
    assert "0/1" in capsys.readouterr().out
    solved = tmp_path / "solved.ipynb"
    nbformat.write(solution_submission(release, read_lesson(root / "solutions" / "01_tiny.py")), solved)
    assert main(["check", str(solved)]) == 0
    assert "1/1" in capsys.readouterr().out


def test_invalid_lesson_metadata_is_refused(tmp_path):
    (tmp_path / "solutions").mkdir()
    bad = TINY.replace('"points": 2, ', "")  # a grade cell without points
    (tmp_path / "solutions" / "01_bad.py").write_text(bad)
    with pytest.raises(ValueError, match="01_bad"):
        release_lessons(tmp_path / "solutions", tmp_path / "lessons")
    assert not (tmp_path / "lessons" / "01_bad.py").exists()


def test_nbgrader_own_commands_work_in_the_course(tiny):
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    _, course, _ = tiny
    nbgrader = shutil.which("nbgrader") or str(Path(sys.executable).parent / "nbgrader")
    out = subprocess.run([nbgrader, "db", "assignment", "list"], cwd=course, capture_output=True, text=True)
    assert out.returncode == 0 and "01_tiny" in out.stdout + out.stderr
    val = subprocess.run([nbgrader, "validate", "source/01_tiny/01_tiny.ipynb"], cwd=course,
                         capture_output=True, text=True)
    assert "Success!" in val.stdout, val.stdout + val.stderr
