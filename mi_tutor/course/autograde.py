"""``mi-tutor autograde DIR [LESSON]``: grade a whole class, robustly.

nbgrader does the grading; this module adds what a course needs around it:
it diagnoses broken submissions up front (invalid JSON, a renamed or missing
notebook) and reports them by name, notices cells that hit the timeout, keeps
going when one submission fails, writes per-student feedback without hidden
tests, a grades CSV and a summary table. nbgrader's gradebook transactions are
per submission, so a failure never damages other students' grades.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from .nbgrader_course import course_assignments, load_course

__all__ = ["SubmissionResult", "diagnose_submission", "autograde_course", "write_grades_csv", "summary_table"]

_TIMEOUT = re.compile(r"timed out|CellTimeoutError|Timeout waiting", re.I)


@dataclass
class SubmissionResult:
    """The outcome of grading one student's submission of one assignment."""

    student: str
    assignment: str
    graded: bool
    score: float = 0.0
    max_score: float = 0.0
    needs_manual_grade: bool = False
    problems: list[str] = field(default_factory=list)


def diagnose_submission(folder: Path, assignment: str) -> list[str]:
    """Problems that will stop nbgrader from grading a submission folder, in words."""
    expected = f"{assignment}.ipynb"
    notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
    problems = []
    if expected not in notebooks:
        others = f" (found {', '.join(notebooks)})" if notebooks else " (no .ipynb file at all)"
        problems.append(f"missing notebook {expected}{others}: was it renamed?")
    else:
        try:
            json.loads((folder / expected).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            problems.append(f"{expected} is not valid notebook JSON ({err.__class__.__name__}: {err})")
    return problems


def _timeouts(log: str) -> list[str]:
    return ["a cell hit the execution timeout (an infinite loop?)"] if _TIMEOUT.search(log or "") else []


def autograde_course(root: str | Path, assignment: str | None = None,
                     feedback: bool = True) -> list[SubmissionResult]:
    """Grade every submission in ``root/submitted`` (optionally of one assignment).

    Returns:
        One :class:`SubmissionResult` per (student, assignment) submission found.
    """
    root = Path(root).resolve()
    api = load_course(root)
    assignments = [assignment] if assignment else course_assignments(root)
    known = course_assignments(root)
    for a in assignments:
        if a not in known:
            raise KeyError(f"No assignment {a!r} in {root / 'source'}; assignments: {known}")
    results = []
    for a in assignments:
        for folder in sorted((root / "submitted").glob(f"*/{a}")):
            student = folder.parent.name
            problems = diagnose_submission(folder, a)
            outcome = api.autograde(a, student, force=True, create=True)
            problems += _timeouts(outcome.get("log", ""))
            if not outcome["success"]:
                if not problems:
                    tail = (outcome.get("error") or outcome.get("log") or "").strip().splitlines()[-3:]
                    problems.append("nbgrader could not grade it: " + " | ".join(tail))
                results.append(SubmissionResult(student, a, graded=False, problems=problems))
                continue
            if feedback:
                api.generate_feedback(a, student, force=True)
            results.append(SubmissionResult(student, a, graded=True, problems=problems))
    _fill_scores(api.coursedir.db_url, results)
    return results


def _fill_scores(db_url: str, results: list[SubmissionResult]) -> None:
    with Gradebook(db_url) as gb:
        for r in results:
            try:
                sub = gb.find_submission(r.assignment, r.student)
            except MissingEntry:
                r.max_score = gb.find_assignment(r.assignment).max_score
                continue
            r.score, r.max_score = sub.score, sub.max_score
            r.needs_manual_grade = sub.needs_manual_grade
            if not r.graded:
                r.score = 0.0


def write_grades_csv(results: list[SubmissionResult], path: str | Path) -> Path:
    """Write one row per submission: student, assignment, status, score, max, problems."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "status", "score", "max_score", "needs_manual_grade", "problems"])
        for r in results:
            status = "graded" if r.graded else "failed"
            w.writerow([r.student, r.assignment, status, f"{r.score:g}", f"{r.max_score:g}",
                        r.needs_manual_grade, "; ".join(r.problems)])
    return path


def summary_table(results: list[SubmissionResult]) -> str:
    """A plain-text table of the results, problems listed by student."""
    if not results:
        return "No submissions found (put them in submitted/<student>/<assignment>/<assignment>.ipynb)."
    w = max(len(r.student) for r in results) + 2
    lines = [f"{'student':<{w}}{'assignment':<28}{'score':>12}  status"]
    for r in results:
        status = "graded" + (" (+ manual)" if r.needs_manual_grade else "") if r.graded else "FAILED"
        if r.problems:
            status += ": " + "; ".join(r.problems)
        lines.append(f"{r.student:<{w}}{r.assignment:<28}{f'{r.score:g}/{r.max_score:g}':>12}  {status}")
    failed = [r.student for r in results if not r.graded]
    lines.append(f"{len(results)} submissions, {len(results) - len(failed)} graded"
                 + (f", failed: {', '.join(failed)}" if failed else ""))
    return "\n".join(lines)
