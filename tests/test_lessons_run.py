"""Every lesson's solutions execute end to end, through nbgrader, and pass all their own tests.

The run is the cohort's solution student (``conftest.solution_run``): the reference answers typed
into the release and autograded. Its outputs are also what the site shows.
"""

from __future__ import annotations

import pytest

from conftest import LESSONS, lesson_ids
from mi_tutor.course.scoring import format_table, score_cells


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_ids())
def test_solutions_execute_and_pass(lesson, solution_run):
    run = solution_run(lesson)
    assert run.result["graded"], f"{lesson.slug} could not be graded: {run.result['problems']}"
    nb = run.notebook()
    scores = score_cells(nb)
    failed = [s for s in scores if s.score is not None and s.message]
    assert not failed, f"{lesson.slug} solutions fail their own tests:\n{format_table(scores)}"
    assert any(s.score for s in scores)
    # Every code cell ran, none raised (the locked result checks under the figures carry no points).
    errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert errors == [], f"{lesson.slug}: cells {errors} raised:\n" + "\n".join(
        o.get("evalue", "") for i in errors for o in nb.cells[i].outputs if o.output_type == "error")
    # Every cell ran but the hidden tests, which the grader runs from cells of its own, after the student's code.
    unexecuted = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()
                  and c.get("execution_count") is None and "BEGIN HIDDEN TESTS" not in c.source]
    assert unexecuted == [], f"{lesson.slug}: cells {unexecuted} never ran"
    auto = sum(s.points for s in scores if s.status != "hand")
    assert run.result["score"] == pytest.approx(auto), f"nbgrader's gradebook: {run.result}"
    assert run.stored, "the run's outputs reach the executed-lesson cache the site is built from"
