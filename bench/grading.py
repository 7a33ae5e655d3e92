"""Benchmark: grading a class of one lesson serially and in parallel, in the same run.

Builds a course for one lesson and a class of N submissions: honest ones (the
reference answers), plus broken ones mixed in (untouched release, plausible
wrong answers, invalid JSON, a renamed notebook, a kernel that exits). Grades
the class with ``--jobs 1`` and then with ``--jobs CORES`` (each in a fresh
copy of the course), and records both as submissions per hour and as a ratio
to the machine's limit: the lesson's own execution time x executed
submissions / cores (1.0 = no grading overhead at all; the goal is <= 1.2).
The lesson's execution time is measured in the same run, just before and just
after grading (plain nbclient, no grading; the mean is the limit's lesson time),
next to the quiet reference in ``bench/results/lessons.json``.
The 1-minute load average is recorded before and after each phase: on a
shared machine other work slows everything down.

    python bench/grading.py --lesson 01_hooks --students 40 --skip-serial   # the issue-25 measurement
    python bench/grading.py --lesson 01_hooks --students 40 --skip-serial --cold --output /tmp/cold.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from run_lessons import machine  # noqa: E402


def _wrong(slug: str) -> dict:
    path = ROOT / "tests" / "wrong_answers" / f"{slug}.py"
    spec = importlib.util.spec_from_file_location("wrong", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.REPLACEMENTS


def _class(course: Path, slug: str, n: int, release, solved) -> dict[str, str]:
    from mi_tutor.course.cohort import wrong_submission, write_submission

    first_solution = next(c.metadata["nbgrader"]["grade_id"] for c in solved.cells
                          if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code")
    broken = {
        "untouched": ("release", lambda: write_submission(course, "untouched", slug, release)),
        "wrong": ("executed", lambda: write_submission(course, "wrong", slug, wrong_submission(solved, _wrong(slug)))),
        "badjson": ("not executed", lambda: (write_submission(course, "badjson", slug, solved)
                                             .write_text('{"cells": [ not json'))),
        "renamed": ("not executed", lambda: write_submission(course, "renamed", slug, solved, name=f"{slug}-Copy1")),
        "exits": ("executed until it exits", lambda: write_submission(
            course, "exits", slug, wrong_submission(solved, {first_solution: "import os\nos._exit(1)\n"}))),
    }
    kinds = {}
    for name, (kind, make) in broken.items():
        make()
        kinds[name] = kind
    for i in range(n - len(broken)):
        write_submission(course, f"student{i:03d}", slug, solved)
        kinds[f"student{i:03d}"] = "honest"
    return kinds


def _phase(template: Path, tmp: Path, slug: str, jobs: int) -> dict:
    from mi_tutor.course.autograde import grade_class

    course = tmp / f"course_jobs{jobs}"
    shutil.copytree(template, course, symlinks=True)
    config = course / "nbgrader_config.py"  # it names the template's absolute paths (gradebook!)
    config.write_text(config.read_text().replace(str(template), str(course)))
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    run = grade_class(course, slug, jobs=jobs, progress=True)
    seconds = time.perf_counter() - start
    honest = [r for r in run.results if r.student.startswith("student") and r.phases]
    phases = {k: round(sum(r.phases.get(k, 0.0) for r in honest) / len(honest), 2)
              for k in sorted({k for r in honest for k in r.phases})} if honest else {}
    return {"jobs": jobs, "seconds_per_honest_submission": round(sum(r.seconds for r in honest) / max(1, len(honest)), 1),
            "phase_seconds_per_honest_submission": phases, "seconds": round(seconds, 1), "load_before": round(load_before, 2),
            "load_after": round(os.getloadavg()[0], 2), "warnings": run.warnings,
            "results": {r.student: {"status": r.status, "score": r.score, "problems": r.problems} for r in run.results}}


def main() -> int:
    from mi_tutor.course.cohort import solution_submission
    from mi_tutor.course.execute import execute_notebook
    from mi_tutor.course.grading.limits import lesson_seconds
    from mi_tutor.course.lessons import find_lessons, read_lesson
    from mi_tutor.course.nbgrader_course import init_course

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lesson", default="01_hooks")
    p.add_argument("--students", type=int, default=40, help="class size, 5 broken ones included")
    p.add_argument("--jobs", type=int, default=os.cpu_count(), help="jobs of the parallel phase")
    p.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "grading.json")
    p.add_argument("--skip-serial", action="store_true", help="parallel phase only (no ratio serial/parallel)")
    p.add_argument("--cold", action="store_true",
                   help="start every grading process cold (MI_TUTOR_WARM_GRADER=0) instead of forking it warm")
    args = p.parse_args()
    if args.cold:
        os.environ["MI_TUTOR_WARM_GRADER"] = "0"
    if args.students < 6:
        p.error(f"--students must be >= 6 (5 broken + honest ones), got {args.students}")

    [lesson] = find_lessons(ROOT / "solutions", [args.lesson])
    record = {"machine": machine(), "lesson": lesson.slug, "submissions": args.students,
              "grading_processes": "cold" if args.cold else "forked from a warm starter"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        template = tmp / "template"
        [release_path] = init_course(template, ROOT / "solutions", only=[lesson.slug])
        release = nbformat.read(release_path, as_version=4)
        solved = solution_submission(release, read_lesson(lesson.path))
        kinds = _class(template, lesson.slug, args.students, release, solved)
        # the lesson's own execution time, on this machine, just before and just after grading (no
        # grading, no sandbox, 1 kernel): on a shared machine the load changes, the mean is the fair limit
        def lesson_run() -> tuple[float, float]:
            load = os.getloadavg()[0]
            t0 = time.perf_counter()
            execute_notebook(read_lesson(lesson.path), cwd=ROOT, allow_errors=True)
            return time.perf_counter() - t0, load

        before, load0 = lesson_run()
        phases = ([] if args.skip_serial else [_phase(template, tmp, lesson.slug, 1)]) \
            + [_phase(template, tmp, lesson.slug, args.jobs)]
        after, load1 = lesson_run()
        lesson_now = (before + after) / 2
    executed = sum(1 for k in kinds.values() if k != "not executed")
    cores = os.cpu_count() or 1
    quiet = lesson_seconds(lesson.slug)
    record.update({
        "class": kinds,
        "executed_submissions": executed,
        "lesson_seconds_this_run": round(lesson_now, 1),
        "lesson_seconds_before_after": [round(before, 1), round(after, 1)],
        "lesson_seconds_this_run_load": [round(load0, 2), round(load1, 2)],
        "lesson_seconds_quiet_reference": quiet,
        "machine_limit_seconds_this_run": round(lesson_now * executed / cores, 1),
        "machine_limit_seconds_quiet": round(quiet * executed / cores, 1) if quiet else None,
    })
    for ph in phases:
        ph["submissions_per_hour"] = round(3600 * args.students / ph["seconds"])
        ph["ratio_to_limit_this_run"] = round(ph["seconds"] / record["machine_limit_seconds_this_run"], 2)
        if quiet:
            ph["ratio_to_limit_quiet"] = round(ph["seconds"] / record["machine_limit_seconds_quiet"], 2)
    record["parallel"] = phases[-1]
    if not args.skip_serial:
        record["serial"] = phases[0]
        record["speedup"] = round(phases[0]["seconds"] / phases[1]["seconds"], 2)
    honest = [s for s, k in kinds.items() if k == "honest"]
    record["all_honest_full_marks"] = all(
        ph["results"][s]["status"] == "graded" and ph["results"][s]["score"] == phases[0]["results"][honest[0]]["score"]
        for ph in phases for s in honest)
    record["note"] = ("shared 2-core machine: other engineers' jobs ran at the same time; "
                      "load averages are recorded with each phase")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: v for k, v in record.items() if k not in ("class",)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
