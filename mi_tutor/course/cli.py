"""The ``mi-tutor`` command line.

    mi-tutor build                     everything: student lessons, instructor course, executed site
    mi-tutor release                   write lessons/ from solutions/
    mi-tutor course init DIR           an nbgrader course with every lesson as an assignment
    mi-tutor autograde DIR [LESSON]    grade submitted/ (--jobs N, --scheduler ADDR), grades.csv, feedback
    mi-tutor check NOTEBOOK            run your notebook like the grader, with the visible tests
    mi-tutor site                      prepare the lesson pages and build the site (mkdocs, strict)
    mi-tutor zoo list | train NAME     the model zoo
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .execute import DEFAULT_TIMEOUT

__all__ = ["main"]


def _release(args) -> int:
    from .lessons import release_lessons

    for path in release_lessons(args.root / "solutions", args.root / "lessons", args.lessons or None):
        print(f"wrote {path}")
    return 0


def _course_init(args) -> int:
    from .nbgrader_course import init_course

    released = init_course(args.dir, args.root / "solutions", args.lessons or None, timeout=args.timeout)
    print(f"nbgrader course at {Path(args.dir).resolve()} with {len(released)} assignments:")
    for path in released:
        print(f"  {path}")
    print("Put submissions in submitted/<student>/<lesson>/<lesson>.ipynb, then run `mi-tutor autograde DIR`.")
    return 0


def _autograde(args) -> int:
    from .autograde import grade_class, restore_after_review, summary_table, write_grades_csv
    from .grading.report import write_class_report

    limits = {"cell_timeout": args.cell_timeout, "submission_timeout": args.submission_timeout,
              "memory_gb": args.memory_gb}
    if args.restore_after_review and not args.lesson:
        raise ValueError(f"--restore-after-review {args.restore_after_review[0]!r} needs the LESSON argument "
                         "(which assignment to restore)")
    restored = [restore_after_review(args.dir, args.lesson, s) for s in args.restore_after_review or []]
    for r in restored:
        print(f"{r.student}: {r.policy} ({r.score:g}/{r.max_score:g})")
    try:
        run = grade_class(args.dir, args.lesson, jobs=args.jobs, scheduler=args.scheduler,
                          feedback=not args.no_feedback, force=args.force, limits=limits,
                          isolate=False if args.run_student_code_unsandboxed else None,
                          progress=not args.no_progress, policy=args.policy)
    except KeyboardInterrupt:  # between submissions: what was written is kept
        print("interrupted: the grades written so far are kept; run the same command to grade the rest",
              file=sys.stderr)
        return 130
    csv_path = write_grades_csv(run.results, args.csv or Path(args.dir) / "grades.csv")
    html, data = write_class_report(args.dir, run.results)
    print(summary_table(run))
    print(f"grades: {csv_path}\nclass report: {html} (data: {data})\nfeedback: {Path(args.dir).resolve() / 'feedback'}")
    if run.interrupted:
        return 130
    return 0 if all(r.graded for r in run.results) else 1


def _check(args) -> int:
    from .scoring import format_table
    from .selfcheck import check_notebook

    print(f"Running {args.notebook} as the grader would (visible tests only) ...", flush=True)
    report = check_notebook(args.notebook, timeout=args.timeout)
    print(format_table(report.scores))
    if report.story:
        print("\nCells of the lesson's story that raised (no points, but the figures and numbers from there on are"
              " wrong or missing):")
        for where, error in report.story:
            print(f"  {where}: {error}")
    return 0 if all(s.score is None or not s.message for s in report.scores) and not report.story else 1


def _mkdocs_build(root: Path, site_dir: Path | None = None) -> int:
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(root / "mkdocs.yml")]
    if site_dir:
        cmd += ["--site-dir", str(site_dir)]
    # NO_MKDOCS_2_WARNING: Material's documented switch for its end-of-life banner.
    return subprocess.call(cmd, cwd=root, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))


def _execute(args) -> list:
    """Execute the lessons the cache lacks, in parallel; print failures in full."""
    from .build import execute_lessons, failure_report
    from .lessons import find_lessons
    from .site import default_cache_dir

    runs = execute_lessons(find_lessons(args.root / "solutions"), default_cache_dir(args.root), cwd=args.root.resolve(),
                           jobs=args.jobs, timeout=args.timeout)
    report = failure_report(runs)
    if report:
        print(report, file=sys.stderr, flush=True)
    return runs


def _site(args) -> int:
    start = time.perf_counter()
    runs = _execute(args)
    failed = [r.slug for r in runs if r.state == "failed"]
    rc = 1 if failed else _mkdocs_build(args.root, args.site_dir)
    from .build import format_summary

    print(format_summary(runs, time.perf_counter() - start))
    if rc == 0:
        print(f"site: {(args.site_dir or args.root / 'build' / 'site').resolve() / 'index.html'}")
    else:
        print("site: not built" + (f" ({', '.join(failed)} failed, see above)" if failed else " (see above)"))
    return rc


def _tool_versions(*names: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    def one(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "-"
    return " ".join(f"{n}={one(n)}" for n in names)


def _build(args) -> int:
    """Student lessons, instructor course, executed site; a step whose inputs did not change is skipped."""
    from .build import Stamp, format_summary, tree_fingerprint
    from .lessons import release_lessons
    from .nbgrader_course import init_course

    start = time.perf_counter()
    root, stamps = args.root, args.root / "build" / "stamps"
    lessons = release_lessons(root / "solutions", root / "lessons")
    package = tree_fingerprint([Path(__file__).resolve().parents[1]])  # mi_tutor/: code, weights, templates
    course_dir = root / "build" / "course"
    course = Stamp(stamps / "course", tree_fingerprint([root / "solutions"], extra=package + _tool_versions("nbgrader")))
    if course.fresh(course_dir / "gradebook.db") and not args.force:
        released = sorted((course_dir / "release").glob("*/*.ipynb"))
        course_note = " (unchanged, not rebuilt)"
    else:
        released, course_note = init_course(course_dir, root / "solutions"), ""
        course.write()
    runs = _execute(args)
    failed = [r.slug for r in runs if r.state == "failed"]
    site_index = root / "build" / "site" / "index.html"
    site = Stamp(stamps / "site", tree_fingerprint(
        [root / "mkdocs.yml", root / "site", root / "solutions"], skip=("lessons", "notebooks"),
        extra=package + _tool_versions("mkdocs", "mkdocs-material", "mkdocs-jupyter", "mkdocstrings-python")))
    site_note = ""
    if failed:
        rc = 1
    elif site.fresh(site_index) and not args.force:
        rc, site_note = 0, " (unchanged, not rebuilt)"
    else:
        rc = _mkdocs_build(root)
        if rc == 0:
            site.write()
    print("\n== mi-tutor build ==")
    print(format_summary(runs, time.perf_counter() - start))
    print(f"student lessons ({len(lessons)}): {(root / 'lessons').resolve()}")
    print(f"instructor course ({len(released)} assignments): {course_dir.resolve()}{course_note}")
    if failed:
        print(f"executed site: not built ({', '.join(failed)} failed, errors above)")
    else:
        print(f"executed site: {site_index.resolve()}{site_note}" + ("" if rc == 0 else "  (FAILED, see above)"))
    return rc


def _zoo(args) -> int:
    from .. import zoo

    if args.zoo_command == "list":
        for name, line in zoo.available().items():
            print(f"{name:<28}{line}")
        return 0
    zoo.train(args.name, save=True, progress=True)
    print(f"saved {zoo.weights_path(args.name)}")
    return 0


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--jobs must be a whole number of at least 1, got {text!r}")
    return int(text)


def _execution_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("-j", "--jobs", type=_jobs, default=None,
                   help="lessons executed at once (default: the number of cores); each kernel gets its "
                        "share of the torch threads")
    s.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="per-cell timeout in seconds")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mi-tutor", description="Course tooling for mi-tutor.")
    p.add_argument("--root", type=Path, default=Path("."), help="repository root (default: .)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("build", help="build student lessons, the instructor course and the executed site")
    _execution_options(s)
    s.add_argument("--force", action="store_true",
                   help="rebuild the course and the site even when their inputs did not change")
    s.set_defaults(fn=_build)
    s = sub.add_parser("release", help="write lessons/ (student versions) from solutions/")
    s.add_argument("lessons", nargs="*", help="lesson slugs or numbers (default: all)")
    s.set_defaults(fn=_release)

    s = sub.add_parser("course", help="instructor course")
    csub = s.add_subparsers(dest="course_command", required=True)
    c = csub.add_parser("init", help="create an nbgrader course directory")
    c.add_argument("dir", type=Path)
    c.add_argument("lessons", nargs="*", help="lesson slugs or numbers (default: all)")
    c.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="per-cell timeout in seconds")
    c.set_defaults(fn=_course_init)

    s = sub.add_parser("autograde", help="grade every submission of a course")
    s.add_argument("dir", type=Path)
    s.add_argument("lesson", nargs="?", help="one assignment (default: all)")
    s.add_argument("--csv", type=Path, help="grades file (default: DIR/grades.csv)")
    s.add_argument("--no-feedback", action="store_true", help="skip the feedback HTML")
    s.add_argument("--jobs", "-j", type=int, default=None,
                   help="submissions graded at once (default: the number of cores)")
    s.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask cluster (tcp://host:8786)")
    s.add_argument("--force", action="store_true", help="regrade submissions graded before, even unchanged")
    s.add_argument("--cell-timeout", type=int, help="seconds per cell (default: from the lesson's reference run)")
    s.add_argument("--submission-timeout", type=int, help="seconds per submission (default: from the lesson)")
    s.add_argument("--memory-gb", type=float, help="memory limit of a student's kernel (default 8)")
    s.add_argument("--run-student-code-unsandboxed", action="store_true",
                   help="grade without bubblewrap: students' code runs with your rights and can read the hidden "
                        "tests (only resource limits apply; every process it starts is still ended)")
    s.add_argument("--policy", choices=["zero", "keep"], default="zero",
                   help="what tamper evidence found while grading does: zero = the autograded cells it concerns "
                        "(that exercise's tests, or every cell graded after the kernel was last seen intact) "
                        "score 0 in the gradebook, with the reason as a comment (default); keep = flag only. "
                        "The static scan never changes a score")
    s.add_argument("--restore-after-review", action="append", metavar="STUDENT",
                   help="give STUDENT's submission of LESSON, scored 0 by the policy, its points back (repeatable)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(fn=_autograde)

    s = sub.add_parser("check", help="run a notebook like the autograder, with its visible tests")
    s.add_argument("notebook", type=Path)
    s.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT)
    s.set_defaults(fn=_check)

    s = sub.add_parser("site", help="build the executed course site (mkdocs --strict)")
    s.add_argument("--site-dir", type=Path)
    _execution_options(s)
    s.set_defaults(fn=_site)

    s = sub.add_parser("zoo", help="the model zoo")
    zsub = s.add_subparsers(dest="zoo_command", required=True)
    zsub.add_parser("list", help="list the shipped models")
    z = zsub.add_parser("train", help="re-train a model from its recipe and save its weights")
    z.add_argument("name")
    s.set_defaults(fn=_zoo)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``mi-tutor`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except (FileNotFoundError, KeyError, ValueError) as err:
        print(f"mi-tutor: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
