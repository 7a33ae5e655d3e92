"""Every lesson's solutions execute end to end and pass all their own tests."""

from __future__ import annotations

import pytest

from conftest import LESSONS, ROOT, lesson_ids
from mi_tutor.course.execute import execute_lesson
from mi_tutor.course.scoring import format_table, score_cells


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=lesson_ids())
def test_solutions_execute_and_pass(lesson, executed_cache):
    result = execute_lesson(lesson.path, cache_dir=executed_cache, cwd=ROOT)
    scores = score_cells(result.notebook)
    failed = [s for s in scores if s.score is not None and s.message]
    assert not failed, f"{lesson.slug} solutions fail their own tests:\n{format_table(scores)}"
    assert any(s.score for s in scores)
    print(f"{lesson.slug}: executed in {result.seconds:.1f} s (cached={result.cached})")
