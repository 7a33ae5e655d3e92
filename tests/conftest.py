"""Shared fixtures: the repository, its lessons, one graded run of each lesson, the built site.

The expensive thing in this suite is executing a lesson. Each lesson's reference answers are
executed once per test session, and that one run serves three tests: it is submitted to
nbgrader and autograded as the cohort's *solution* student (:func:`solution_run`), its
scores are what ``test_lessons_run`` checks, and its outputs are the executed notebook the
site is built from. With pytest-xdist (on by default, see ``pyproject.toml``) the workers
share these through a folder of the session's base temp, each lesson behind a file lock, so
whichever worker asks first does the work and the others wait for it and read it.

Each xdist worker is pinned to its own share of the cores (one core when there are as many workers
as cores) and runs one torch thread per core of its share, so the lesson kernels and grading kernels
it starts (they inherit the pinning) never fight over the cores; without xdist the suite takes half
the cores.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import torch
from filelock import FileLock

from mi_tutor.course.lessons import Lesson, find_lessons, read_lesson

ROOT = Path(__file__).resolve().parents[1]
LESSONS = find_lessons(ROOT / "solutions")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ... under xdist; "" otherwise


def grading_options() -> dict:
    """How the suite grades its own fake students: sandboxed where bubblewrap works (CI installs it).

    Elsewhere (a laptop without root or bwrap) the suite chooses unsandboxed grading explicitly: these
    submissions are the course's own reference answers and fake students, not untrusted code.
    """
    from mi_tutor.course.grading.sandbox import sandbox_available

    return {"jobs": 1, "isolate": None if sandbox_available()[0] else False}


def _pin_worker() -> None:
    """Under xdist, give each worker one core of this process's set (round robin)."""
    if not WORKER or not hasattr(os, "sched_setaffinity"):
        return
    cores = sorted(os.sched_getaffinity(0))
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if count <= len(cores):
        mine = int(WORKER.removeprefix("gw"))
        share = len(cores) // count
        os.sched_setaffinity(0, set(cores[mine * share:(mine + 1) * share]))


_pin_worker()
# The thread policy of `mi-tutor build` (cores split evenly between the parallel jobs); pinned, a worker has 1.
from mi_tutor.course.build import default_jobs  # noqa: E402

torch.set_num_threads(max(1, default_jobs() if WORKER else default_jobs() // 2))


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker per core, but no more than memory allows (a lesson kernel needs up to 3 GB)."""
    cores = default_jobs()
    try:
        memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return cores
    return max(1, min(cores, int(memory_gb // 6)))


def _lesson_seconds() -> dict[str, float]:
    """Each lesson's execution time in the latest measured build (``bench/build.py``), else ``bench/run_lessons.py``'s."""
    try:
        runs = json.loads((ROOT / "bench" / "results" / "build.json").read_text())["latest"]["runs"]
        seconds = next(r["lesson_s"] for r in runs if r["run"] == "parallel")
        if seconds:
            return {slug: float(s) for slug, s in seconds.items()}
    except (OSError, KeyError, ValueError, StopIteration):
        pass
    try:
        data = json.loads((ROOT / "bench" / "results" / "lessons.json").read_text())
        return {r["lesson"]: float(r["seconds"]) for r in data["latest"]["lessons"]}
    except (OSError, KeyError, ValueError):
        return {}


def _rank(item, seconds: dict[str, float]) -> tuple:
    """Longest work first, so that xdist's workers finish together; what a test waits for comes before it."""
    path = item.nodeid.split("::")[0]
    slug = getattr(item, "callspec", None) and item.callspec.params.get("lesson")
    slug = getattr(slug, "slug", None)
    longest_first = -seconds.get(slug, 0.0) if slug else 0.0
    if path.endswith("test_lessons_run.py"):  # one graded run per lesson: what the cohort and the site read
        return (0, longest_first)
    if path.endswith("test_cohort.py"):
        return (1, longest_first)
    if "built_site" in getattr(item, "fixturenames", ()):
        # The first site test builds the site while the other workers go on; the rest read it after the slow
        # tests (it is long built by then), and the many quick tests come last, so the workers end together.
        return (2,) if item.nodeid.endswith("test_static_pages_and_api_reference") else (4,)
    if "slow" in item.keywords:
        return (3,)
    return (5,)


def pytest_collection_modifyitems(config, items):
    seconds = _lesson_seconds()
    items.sort(key=lambda item: _rank(item, seconds))  # stable: collection order within a rank
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="no CUDA device on this machine")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    """A folder that every xdist worker of this test session sees (the session's base temp)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if WORKER else base


@pytest.fixture(scope="session")
def executed_cache(shared_dir) -> Path:
    """Executed lessons, shared by the session's workers (the site is built from them)."""
    path = Path(os.environ.get("MI_TUTOR_TEST_CACHE") or shared_dir / "executed")
    path.mkdir(parents=True, exist_ok=True)
    return path


def lesson_ids():
    return [l.slug for l in LESSONS]


@dataclass
class SolutionRun:
    """A lesson's reference answers typed into its release, autograded by nbgrader.

    Attributes:
        lesson: The lesson.
        course: The nbgrader course it was graded in (``mi-tutor course init``).
        release: The released student notebook.
        result: The grader's :class:`~mi_tutor.course.grading.coordinator.SubmissionResult`, as a dict.
        stored: The executed notebook was put into the executed-lesson cache for the site.
    """

    lesson: Lesson
    course: Path
    release: Path
    result: dict
    stored: bool

    @property
    def graded_path(self) -> Path:
        slug = self.lesson.slug
        return self.course / "autograded" / "solution" / slug / f"{slug}.ipynb"

    def notebook(self) -> nbformat.NotebookNode:
        return nbformat.read(self.graded_path, as_version=4)


def _grade_solution(lesson: Lesson, folder: Path, cache: Path) -> dict:
    from mi_tutor.course.autograde import autograde_course
    from mi_tutor.course.cohort import solution_submission, write_submission
    from mi_tutor.course.execute import outputs_from, store_executed
    from mi_tutor.course.nbgrader_course import init_course

    course = folder / "course"
    if course.exists():  # an earlier attempt died half way
        shutil.rmtree(course)
    [release_path] = init_course(course, ROOT / "solutions", only=[lesson.slug])
    source = read_lesson(lesson.path)
    release = nbformat.read(release_path, as_version=4)
    write_submission(course, "solution", lesson.slug, solution_submission(release, source))
    [result] = autograde_course(course, lesson.slug, **grading_options())
    graded = course / "autograded" / "solution" / lesson.slug / f"{lesson.slug}.ipynb"
    stored = False
    if result.graded and graded.exists():
        store_executed(lesson.path, outputs_from(nbformat.read(graded, as_version=4), source), cache)
        stored = True
    return {"release": str(release_path), "result": dataclasses.asdict(result), "stored": stored}


@pytest.fixture(scope="session")
def solution_run(shared_dir, executed_cache):
    """``solution_run(lesson)``: the lesson's graded solution run, made once per test session."""
    folder = shared_dir / "solution-runs"
    folder.mkdir(exist_ok=True)

    def get(lesson: Lesson) -> SolutionRun:
        record = folder / f"{lesson.slug}.json"
        with FileLock(str(folder / f"{lesson.slug}.lock")):
            if not record.exists():
                record.write_text(json.dumps(_grade_solution(lesson, folder / lesson.slug, executed_cache)))
        data = json.loads(record.read_text())
        return SolutionRun(lesson, folder / lesson.slug / "course", Path(data["release"]), data["result"],
                           data["stored"])

    return get


@pytest.fixture(scope="session")
def built_site(shared_dir, executed_cache, solution_run) -> Path:
    """The course site, built strictly once per session from the lessons' graded runs.

    A copy of the project is built (the repo's ``site/`` stays untouched). Every lesson's
    solution run is made (or waited for) first, so the build executes nothing itself.
    """
    for lesson in LESSONS:
        solution_run(lesson)
    folder = shared_dir / "site-build"
    record = shared_dir / "site-build.json"
    with FileLock(str(shared_dir / "site-build.lock")):
        if not record.exists():
            if folder.exists():
                shutil.rmtree(folder)
            folder.mkdir()
            shutil.copy(ROOT / "mkdocs.yml", folder / "mkdocs.yml")
            shutil.copytree(ROOT / "site", folder / "site", ignore=shutil.ignore_patterns("lessons", "notebooks"))
            for name in ("solutions", "mi_tutor"):
                (folder / name).symlink_to(ROOT / name)
            env = dict(os.environ, MI_TUTOR_CACHE=str(executed_cache), NO_MKDOCS_2_WARNING="1")
            proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=folder, env=env,
                                  capture_output=True, text=True, timeout=3000)
            record.write_text(json.dumps({"returncode": proc.returncode,
                                          "log": proc.stdout[-3000:] + proc.stderr[-5000:]}))
    built = json.loads(record.read_text())
    assert built["returncode"] == 0, built["log"]
    return folder / "build" / "site"
