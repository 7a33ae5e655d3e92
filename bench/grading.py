"""Benchmark: autograding throughput of a class (submissions per minute).

Builds a course for one lesson, drops N copies of the solved notebook into
``submitted/`` (plus one untouched submission) and times ``autograde_course``.
Results go to ``bench/results/grading.json``.

    python bench/grading.py --lesson 01_hooks --students 10
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from run_lessons import machine  # noqa: E402


def main() -> int:
    from mi_tutor.course.autograde import autograde_course
    from mi_tutor.course.cohort import solution_submission, write_submission
    from mi_tutor.course.lessons import find_lessons, read_lesson
    from mi_tutor.course.nbgrader_course import init_course

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lesson", default="01_hooks")
    p.add_argument("--students", type=int, default=10)
    p.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "grading.json")
    args = p.parse_args()

    [lesson] = find_lessons(ROOT / "solutions", [args.lesson])
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        [release_path] = init_course(course, ROOT / "solutions", only=[lesson.slug])
        release = nbformat.read(release_path, as_version=4)
        solved = solution_submission(release, read_lesson(lesson.path))
        for i in range(args.students):
            write_submission(course, f"student{i:03d}", lesson.slug, solved)
        write_submission(course, "untouched", lesson.slug, release)
        start = time.perf_counter()
        results = autograde_course(course, lesson.slug)
        seconds = time.perf_counter() - start
    n = len(results)
    record = {
        "machine": machine(),
        "lesson": lesson.slug,
        "submissions": n,
        "graded": sum(r.graded for r in results),
        "seconds": round(seconds, 1),
        "seconds_per_submission": round(seconds / n, 1),
        "submissions_per_hour": round(3600 * n / seconds),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
