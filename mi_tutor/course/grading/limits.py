"""How long, how much memory, how many threads a submission may use.

Time limits follow the lesson: each lesson's measured reference run
(:data:`LESSON_SECONDS`, shipped in the package and written by ``bench/run_lessons.py``) times a
generous multiple, never below a floor. A course overrides any of it in
``DIR/grading.json``, a run on the command line::

    {"cell_timeout": 120, "memory_gb": 6, "lessons": {"06_dictionary_learning": {"cell_timeout": 400}}}
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

__all__ = ["Limits", "lesson_seconds", "lesson_limits", "load_factor", "COURSE_FILE", "LESSON_SECONDS"]

#: The per-course overrides file in the course directory.
COURSE_FILE = "grading.json"
#: Each lesson's measured reference run in seconds, shipped inside the package (an installed package
#: keeps its time limits); ``bench/run_lessons.py`` writes it with ``bench/results/lessons.json``.
LESSON_SECONDS = Path(__file__).resolve().parent / "lesson_seconds.json"


@dataclass
class Limits:
    """The limits of grading one submission.

    Attributes:
        cell_timeout: Seconds one cell may run (nbgrader interrupts it, later cells still run).
        submission_timeout: Seconds the whole grading of a submission may take (then it is killed).
        memory_gb: Address-space limit of the student's kernel (GiB).
        cpu_seconds: CPU time of the kernel (all its threads together).
        file_mb: Largest file the kernel may write (MiB).
        processes: Processes and threads the kernel's user may run.
        max_notebook_mb: Larger submitted notebooks are refused unread.
        reference_seconds: The measured reference run the time limits came from (None: unknown).
    """

    cell_timeout: int = 120
    submission_timeout: int = 300
    memory_gb: float = 8.0
    cpu_seconds: int = 900
    file_mb: int = 200
    processes: int = 512
    max_notebook_mb: float = 20.0
    reference_seconds: float | None = None

    def as_dict(self) -> dict:
        return asdict(self)


_FLOOR_CELL, _MULT_CELL = 90, 4.0      # a cell may take 4x the whole reference lesson, at least 90 s
_FLOOR_TOTAL, _MULT_TOTAL = 240, 8.0   # a submission 8x the lesson + one timed-out cell, at least 240 s


def lesson_seconds(lesson: str, bench_file: str | Path | None = None) -> float | None:
    """The lesson's measured execution time in seconds, or None when it was never measured.

    Args:
        lesson: ``NN_slug``.
        bench_file: ``{lesson: seconds}`` JSON (default :data:`LESSON_SECONDS`), or a
            ``bench/results/lessons.json`` (``{"latest": {"lessons": [...]}}``).

    Examples:
        >>> lesson_seconds("01_hooks") > 0, lesson_seconds("99_unknown")
        (True, None)
    """
    try:
        data = json.loads(Path(bench_file or LESSON_SECONDS).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if "latest" in data:
        data = {row.get("lesson"): row.get("seconds") for row in data["latest"].get("lessons", [])}
    seconds = data.get(lesson)
    return None if seconds is None else float(seconds)


def _course_overrides(course_root: str | Path | None, lesson: str) -> dict:
    if course_root is None or not (Path(course_root) / COURSE_FILE).exists():
        return {}
    path = Path(course_root) / COURSE_FILE
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from err
    per_lesson = data.pop("lessons", {}) or {}
    return {**data, **per_lesson.get(lesson, {})}


def lesson_limits(lesson: str, course_root: str | Path | None = None, overrides: dict | None = None,
                  bench_file: str | Path | None = None, load_factor: float = 1.0,
                  course_cell_timeout: int | None = None) -> Limits:
    """The limits of grading ``lesson``: derived from its reference run, then course, then run overrides.

    Args:
        lesson: Assignment name (``NN_slug``).
        course_root: Course folder whose ``grading.json`` overrides the derived limits.
        overrides: This run's overrides (same names as :class:`Limits`).
        bench_file: The lessons' measured times (default :data:`LESSON_SECONDS`).
        load_factor: Derived time limits are stretched by this (a busy machine runs
            everything slower: :func:`load_factor`); overrides are taken literally.

    Examples:
        >>> lim = lesson_limits("01_hooks", bench_file="/nonexistent.json")
        >>> lim.cell_timeout, lim.submission_timeout
        (120, 300)
        >>> lesson_limits("x", bench_file="/none", load_factor=2.0).cell_timeout
        240
        >>> lesson_limits("x", overrides={"cell_timeout": 5}, bench_file="/none").cell_timeout
        5

    Raises:
        ValueError: on an unknown setting name or a non-positive value.
    """
    ref = lesson_seconds(lesson, bench_file)
    lim = Limits(reference_seconds=ref)
    if ref is not None:
        cell = max(_FLOOR_CELL, round(_MULT_CELL * ref))
        lim = replace(lim, cell_timeout=cell, submission_timeout=max(_FLOOR_TOTAL, round(_MULT_TOTAL * ref)) + cell)
    lim = replace(lim, cell_timeout=round(lim.cell_timeout * load_factor),
                  submission_timeout=round(lim.submission_timeout * load_factor))
    names = {f.name for f in fields(Limits)} - {"reference_seconds"}
    course = _course_overrides(course_root, lesson)
    if course_cell_timeout and "cell_timeout" not in course:
        course["cell_timeout"] = course_cell_timeout
    for source in (course, overrides or {}):
        for key, value in source.items():
            if value is None:
                continue
            if key not in names:
                raise ValueError(f"unknown grading limit {key!r} (value {value!r}); known: {sorted(names)}")
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"grading limit {key} must be a positive number, got {value!r}")
            lim = replace(lim, **{key: value})
            if key == "cell_timeout" and "submission_timeout" not in source:
                lim = replace(lim, submission_timeout=max(lim.submission_timeout, 2 * int(value) + 60))
    lim.cpu_seconds = max(lim.cpu_seconds, 2 * lim.submission_timeout)
    return lim


def load_factor(cores: int | None = None, cap: float = 3.0) -> float:
    """How much slower than quiet the machine runs now: 1-minute load average / cores, in [1, cap]."""
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover
        return 1.0
    return min(cap, max(1.0, load / (cores or os.cpu_count() or 1)))


