"""``mi-tutor autograde DIR [LESSON]``: grade a whole class, in parallel, sandboxed, resumably.

nbgrader does the grading; :mod:`mi_tutor.course.grading` adds what a class
needs around it: bad input reported by name and never run (invalid JSON, a
renamed notebook, a symlink, a huge file), each submission graded in its own
scratch copy with the student's kernel in a bubblewrap sandbox under memory,
CPU, file-size and process limits and lesson-sized time limits, tricks flagged
for review, several submissions at once (``--jobs``) or on a Dask cluster
(``--scheduler``), one coordinator writing the gradebook, and a rerun that
grades only what is new or changed. This module keeps the course-facing API:
the grades CSV and the summary table.
"""

from __future__ import annotations

import csv
from pathlib import Path

from .grading.coordinator import GradingRun, SubmissionResult, diagnose_submission, grade_class, restore_after_review

__all__ = ["SubmissionResult", "GradingRun", "diagnose_submission", "autograde_course", "grade_class",
           "restore_after_review", "write_grades_csv", "summary_table"]


def autograde_course(root: str | Path, assignment: str | None = None, feedback: bool = True,
                     **kwargs) -> list[SubmissionResult]:
    """Grade every submission in ``root/submitted`` (optionally of one assignment).

    Keyword arguments go to :func:`~mi_tutor.course.grading.coordinator.grade_class`
    (``jobs``, ``scheduler``, ``force``, ``limits``, ``isolate``, ``progress``, ``policy``).

    Returns:
        One :class:`SubmissionResult` per (student, assignment) submission found.
    """
    return grade_class(root, assignment, feedback=feedback, **kwargs).results


def write_grades_csv(results: list[SubmissionResult], path: str | Path) -> Path:
    """One row per submission: student, assignment, status, score, max, manual, problems, flags, evidence, policy.

    ``flags`` is what the static scan saw (review only), ``evidence`` the tampering found while
    grading and ``policy`` what the course's policy did to the score because of it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "status", "score", "max_score", "needs_manual_grade", "problems",
                    "flags", "evidence", "policy"])
        for r in sorted(results, key=lambda r: (r.assignment, r.student)):
            w.writerow([r.student, r.assignment, r.status, f"{r.score:g}", f"{r.max_score:g}",
                        r.needs_manual_grade, "; ".join(r.problems), "; ".join(r.flags), "; ".join(r.evidence),
                        r.policy])
    return path


def summary_table(results: list[SubmissionResult] | GradingRun) -> str:
    """A plain-text table of the results, problems and flags listed by student, run warnings first."""
    run = results if isinstance(results, GradingRun) else GradingRun(list(results))
    results = sorted(run.results, key=lambda r: (r.assignment, r.student))
    lines = [f"WARNING: {w}" for w in run.warnings]
    if not results:
        return "\n".join(lines + ["No submissions found (put them in "
                                  "submitted/<student>/<assignment>/<assignment>.ipynb)."])
    w = max([len(r.student) for r in results] + [len("student")]) + 2
    lines.append(f"{'student':<{w}}{'assignment':<28}{'score':>12}  status")
    for r in results:
        status = {"failed": "FAILED", "flagged": "FLAGGED for review", "graded": "graded"}[r.status]
        if r.graded and r.needs_manual_grade and not r.flags:
            status += " (+ manual)"
        if r.reused:
            status += " (unchanged since the last run)"
        details = r.problems + [f"tampering: {e}" for e in r.evidence] + [f"scan (review only): {f}" for f in r.flags]
        if r.policy:
            details.append(r.policy)
        if details:
            status += ": " + "; ".join(details)
        lines.append(f"{r.student:<{w}}{r.assignment:<28}{f'{r.score:g}/{r.max_score:g}':>12}  {status}")
    failed = [r.student for r in results if not r.graded]
    flagged = [r.student for r in results if r.flags or r.evidence]
    tail = f"{len(results)} submissions, {len(results) - len(failed)} graded"
    tail += f", failed: {', '.join(failed)}" if failed else ""
    tail += f", flagged: {', '.join(flagged)}" if flagged else ""
    if run.seconds:
        tail += f" ({run.seconds:.0f} s, {run.jobs} at a time)"
    lines.append(tail)
    return "\n".join(lines)
