"""Executing every lesson in parallel, with one progress bar and a summary.

:func:`execute_lessons` runs the lessons that the cache lacks in ``jobs`` worker
processes (each drives one kernel, capped at its share of the CPU threads),
shows one progress bar whose line says which lessons are running, writes one
line per lesson as it ends (cached, done in N s, failed) and returns what
happened. The executed notebooks land in the content-addressed cache of
:mod:`mi_tutor.course.execute`, so the site build that follows only reads them.
"""

from __future__ import annotations

import hashlib
import re
import sys
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm

from ..device import cpu_cores, thread_share
from .execute import DEFAULT_TIMEOUT, cache_path, execute_lesson
from .lessons import Lesson

__all__ = ["LessonRun", "default_jobs", "execute_lessons", "format_summary", "failure_report",
           "tree_fingerprint", "Stamp"]


@dataclass
class LessonRun:
    """What happened to one lesson in a build.

    Attributes:
        slug: ``NN_slug``.
        state: ``"cached"``, ``"done"`` or ``"failed"``.
        seconds: Execution time (0 for a cached lesson).
        error: The full error (the failing cell and its traceback) of a failed lesson.
    """

    slug: str
    state: str
    seconds: float = 0.0
    error: str = ""


def default_jobs() -> int:
    """The default of ``--jobs``: one lesson per core this process may use."""
    return cpu_cores()


_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # IPython colours tracebacks; logs read better without


def _run_one(path: str, cache_dir: str, cwd: str, timeout: int, threads: int) -> tuple[float, str]:
    """Worker thread: execute one lesson into the cache; return (seconds, error text or "")."""
    start = time.perf_counter()
    try:
        execute_lesson(path, cache_dir=cache_dir, cwd=cwd, timeout=timeout, threads=threads)
        return time.perf_counter() - start, ""
    except Exception as err:  # a failing cell (CellExecutionError carries cell and traceback) or a dead kernel
        text = str(err) if type(err).__name__ == "CellExecutionError" else traceback.format_exc()
        return time.perf_counter() - start, _ANSI.sub("", text)


def _status(running: dict[str, float]) -> str:
    now = time.perf_counter()
    return ", ".join(f"{slug[:2]} running {now - t:.0f} s" for slug, t in running.items()) or "-"


def execute_lessons(lessons: list[Lesson], cache_dir: str | Path, cwd: str | Path = ".",
                    jobs: int | None = None, timeout: int = DEFAULT_TIMEOUT,
                    file: TextIO | None = None) -> list[LessonRun]:
    """Execute the lessons the cache lacks, ``jobs`` at a time, showing progress on ``file``.

    Args:
        lessons: From :func:`~mi_tutor.course.lessons.find_lessons`.
        cache_dir: The executed-lesson cache (read and filled).
        cwd: Working directory of the kernels (the repository root).
        jobs: Lessons executed at once (default: the number of cores). Each kernel gets
            ``cores // jobs`` torch threads (at least 1).
        timeout: Per-cell timeout in seconds.
        file: Where the progress bar and the per-lesson lines go (default: stderr).

    Returns:
        One :class:`LessonRun` per lesson, in lesson order.
    """
    jobs = jobs or default_jobs()
    threads = thread_share(jobs)
    file = file or sys.stderr
    runs: dict[str, LessonRun] = {}
    todo = []
    for lesson in lessons:
        if cache_path(lesson.path, cache_dir).exists():
            runs[lesson.slug] = LessonRun(lesson.slug, "cached")
        else:
            todo.append(lesson)
    live = bool(getattr(file, "isatty", lambda: False)())  # a terminal: redraw every second; a log: lines only
    bar = tqdm(total=len(lessons), desc="lessons", unit="lesson", file=file, dynamic_ncols=True,
               mininterval=1.0 if live else 3600.0,
               bar_format="{desc} {n_fmt}/{total_fmt} |{bar:20}| {elapsed} {postfix}")
    for slug in runs:
        bar.write(f"  {slug:<32} cached", file=file)
        bar.update(1)
    if todo:
        bar.write(f"  executing {len(todo)} lesson(s), {min(jobs, len(todo))} at a time, "
                  f"{threads} torch thread(s) each", file=file)
        running: dict[str, float] = {}
        workers = min(jobs, len(todo))
        queue = list(todo)
        # Threads suffice: each only relays messages of its own kernel process (own socket folder).
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lesson") as pool:
            futures: dict[Future, Lesson] = {}
            while queue or futures:
                # Submit only as many as there are workers, so "running" means a kernel is busy with it.
                while queue and len(futures) < workers:
                    lesson = queue.pop(0)
                    fut = pool.submit(_run_one, str(lesson.path), str(cache_dir), str(cwd), timeout, threads)
                    futures[fut] = lesson
                    running[lesson.slug] = time.perf_counter()
                    if not live:
                        bar.write(f"  {lesson.slug:<32} running", file=file)
                bar.set_postfix_str(_status(running), refresh=live)
                done, _ = wait(futures, timeout=1.0, return_when=FIRST_COMPLETED)
                for fut in done:
                    lesson = futures.pop(fut)
                    running.pop(lesson.slug, None)
                    try:
                        seconds, error = fut.result()
                    except Exception:  # the kernel could not even be started
                        seconds, error = 0.0, traceback.format_exc()
                    state = "failed" if error else "done"
                    runs[lesson.slug] = LessonRun(lesson.slug, state, seconds, error)
                    bar.write(f"  {lesson.slug:<32} {'FAILED after' if error else 'done in'} {seconds:.0f} s",
                              file=file)
                    bar.update(1)
    bar.set_postfix_str("")
    bar.close()
    return [runs[l.slug] for l in lessons]


def format_summary(runs: list[LessonRun], wall: float | None = None) -> str:
    """A short summary of a build's lessons.

    Examples:
        >>> print(format_summary([LessonRun("01_hooks", "cached"), LessonRun("02_x", "done", 31.4)], wall=33))
        lessons: 2 (1 executed, 1 cached, 0 failed) in 33 s; executing took 31 s of kernel time
    """
    count = {s: sum(r.state == s for r in runs) for s in ("done", "cached", "failed")}
    line = (f"lessons: {len(runs)} ({count['done'] + count['failed']} executed, {count['cached']} cached, "
            f"{count['failed']} failed)")
    if wall is not None:
        line += f" in {wall:.0f} s"
    kernel = sum(r.seconds for r in runs)
    if kernel:
        line += f"; executing took {kernel:.0f} s of kernel time"
    return line


def failure_report(runs: list[LessonRun]) -> str:
    """The full error of every failed lesson (empty when none failed)."""
    parts = [f"\n==== {r.slug} FAILED ====\n{r.error.rstrip()}\n" for r in runs if r.state == "failed"]
    return "".join(parts)


def tree_fingerprint(paths: Iterable[str | Path], skip: Iterable[str] = (), extra: str = "") -> str:
    """A hash of the names and bytes of every file under ``paths`` (files or folders).

    Args:
        paths: Files and folders to hash; a missing one counts as empty.
        skip: Folder names left out wherever they appear (generated outputs, caches).
        extra: More text to fold in (tool versions, options).

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "a.txt").write_text("x")
        >>> before = tree_fingerprint([d])
        >>> _ = (d / "a.txt").write_text("y")
        >>> before == tree_fingerprint([d]), before == tree_fingerprint([d / "missing"])
        (False, False)
    """
    skipped = {"__pycache__", ".ipynb_checkpoints", *skip}
    h = hashlib.sha256(extra.encode())
    for base in map(Path, paths):
        files = [base] if base.is_file() else sorted(
            p for p in base.rglob("*") if p.is_file() and not skipped & set(p.relative_to(base).parts))
        for f in files:
            h.update(f"\0{f.as_posix()}\0".encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


@dataclass
class Stamp:
    """A record that a build step's outputs were made from inputs with fingerprint ``key``.

    A step whose stamp is fresh (same key, outputs present) has nothing to do; a step writes its
    stamp only after it succeeded, so a failed or interrupted step runs again next time.

    Examples:
        >>> import tempfile
        >>> stamp = Stamp(Path(tempfile.mkdtemp()) / "site.stamp", "abc")
        >>> stamp.fresh(), (stamp.write(), stamp.fresh())[1], Stamp(stamp.path, "abd").fresh()
        (False, True, False)
    """

    path: Path
    key: str

    def fresh(self, *outputs: Path) -> bool:
        """The outputs exist and were made from these very inputs."""
        try:
            return self.path.read_text() == self.key and all(Path(o).exists() for o in outputs)
        except OSError:
            return False

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.key)
