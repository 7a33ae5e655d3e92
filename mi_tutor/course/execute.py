"""Executing lessons with nbclient, with a content-addressed cache.

Executing a lesson is the expensive step of building the site and of testing;
:func:`execute_lesson` caches the executed notebook under a key made of the
lesson's text and the source of the ``mi_tutor`` package, so an unchanged
lesson is executed once however many tools ask for it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from traitlets.config import Config

from .lessons import read_lesson

__all__ = ["ExecutionResult", "execute_notebook", "execute_lesson", "package_fingerprint", "kernel_env",
           "cache_path", "store_executed", "outputs_from", "DEFAULT_TIMEOUT"]

#: Environment variables that cap the threads of torch, OpenMP and the BLAS libraries in a kernel.
THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")

#: Per-cell timeout in seconds: generous, torch cells on a slow CPU take a while.
DEFAULT_TIMEOUT = 600


@dataclass
class ExecutionResult:
    """An executed notebook and how long it took (0 when it came from the cache)."""

    notebook: nbformat.NotebookNode
    seconds: float
    cached: bool


#: The course tooling's modules that lesson kernels import (the rest of ``course/``, the build, the
#: site, the grader, is tooling: editing it keeps the cache). A test checks that lessons and the
#: library import no other ``mi_tutor.course`` module.
IN_KERNEL = frozenset({"course/__init__.py", "course/setup.py", "course/results.py"})


def package_fingerprint() -> str:
    """A hash of the code and shipped weights of ``mi_tutor`` (changes when either changes).

    Of ``course/`` only the modules in :data:`IN_KERNEL` count: the tooling does not change what a
    lesson computes. The hash is computed once per state of the files: while no file's path, size
    or modification time changes, a call only reads the file list (a build asks once per lesson).

    Examples:
        >>> package_fingerprint() == package_fingerprint()
        True
    """
    root = Path(__file__).resolve().parents[1]
    files = []
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".pt")):
        rel = path.relative_to(root).as_posix()
        if not (rel.startswith("course/") and rel not in IN_KERNEL):
            stat = path.stat()
            files.append((rel, stat.st_size, stat.st_mtime_ns))
    return _hash_files(root, tuple(files))


@functools.lru_cache(maxsize=8)
def _hash_files(root: Path, files: tuple[tuple[str, int, int], ...]) -> str:
    h = hashlib.sha256()
    for rel, _, _ in files:
        h.update(rel.encode())
        h.update((root / rel).read_bytes())
    return h.hexdigest()[:16]


def kernel_env(threads: int | None = None) -> dict[str, str]:
    """The environment of a lesson kernel: quiet progress bars, inline figures, capped threads.

    Args:
        threads: torch/OpenMP/BLAS threads of the kernel (``None``: leave the caller's setting).

    Examples:
        >>> kernel_env(threads=1)["OMP_NUM_THREADS"]
        '1'
    """
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="module://matplotlib_inline.backend_inline")
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        env.update({name: str(threads) for name in THREAD_VARS})
    return env


def _kernel_config(socket_dir: str) -> Config:
    # IPC (Unix sockets in a private folder) instead of TCP on localhost: the kernel has nothing
    # to warn about ("Kernel is running over TCP without encryption"), no port is opened, and
    # kernels running side by side never share a socket.
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = os.path.join(socket_dir, "kernel")
    return config


def execute_notebook(nb: nbformat.NotebookNode, cwd: str | Path = ".", timeout: int = DEFAULT_TIMEOUT,
                     allow_errors: bool = False, threads: int | None = None) -> nbformat.NotebookNode:
    """Execute ``nb`` in a fresh python3 kernel started in ``cwd``; return it with outputs.

    Args:
        nb: The notebook (changed in place).
        cwd: Working directory of the kernel.
        timeout: Per-cell timeout in seconds.
        allow_errors: Keep going after a failing cell.
        threads: torch threads of the kernel (see :func:`kernel_env`).

    Raises:
        nbclient.exceptions.CellExecutionError: when a cell fails and ``allow_errors`` is False.
    """
    with tempfile.TemporaryDirectory(prefix="mi-tutor-kernel-") as socket_dir:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                                resources={"metadata": {"path": str(cwd)}}, config=_kernel_config(socket_dir))
        client.execute(env=kernel_env(threads))
    return nb


def cache_path(path: str | Path, cache_dir: str | Path) -> Path:
    """Where the executed notebook of lesson ``path`` is cached: its name carries the content key."""
    path = Path(path)
    key = hashlib.sha256((path.read_text() + package_fingerprint()).encode()).hexdigest()[:16]
    return Path(cache_dir) / f"{path.stem}.{key}.ipynb"


def execute_lesson(path: str | Path, cache_dir: str | Path | None = None, cwd: str | Path = ".",
                   timeout: int = DEFAULT_TIMEOUT, threads: int | None = None) -> ExecutionResult:
    """Execute the solution notebook of a lesson, reusing the cache when it is fresh.

    Args:
        path: ``solutions/NN_slug.py``.
        cache_dir: Folder of cached executed notebooks (``None``: no cache).
        cwd: Working directory of the kernel.
        timeout: Per-cell timeout in seconds.
        threads: torch threads of the kernel (``None``: the caller's environment decides).
    """
    path = Path(path)
    cached = cache_path(path, cache_dir) if cache_dir else None
    if cached and cached.exists():
        return ExecutionResult(nbformat.read(cached, as_version=4), 0.0, True)
    start = time.perf_counter()
    nb = execute_notebook(read_lesson(path), cwd=cwd, timeout=timeout, threads=threads)
    seconds = time.perf_counter() - start
    if cache_dir:
        store_executed(path, nb, cache_dir)
    return ExecutionResult(nb, seconds, False)


def store_executed(path: str | Path, nb: nbformat.NotebookNode, cache_dir: str | Path) -> Path:
    """Put the executed notebook ``nb`` of lesson ``path`` into the cache (replacing older versions).

    The file is written aside and renamed, so a parallel reader never sees half of it.
    """
    path = Path(path)
    cached = cache_path(path, cache_dir)
    cached.parent.mkdir(parents=True, exist_ok=True)
    for old in cached.parent.glob(f"{path.stem}.*.ipynb"):
        old.unlink(missing_ok=True)
    partial = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
    nbformat.write(nb, partial)
    partial.replace(cached)
    return cached


_MARKER = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)\s*$")


def _code_lines(source: str) -> list[str]:
    return [line.rstrip() for line in source.splitlines() if line.strip() and not _MARKER.match(line)]


def outputs_from(run: nbformat.NotebookNode, lesson: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The lesson notebook with the outputs of ``run``, another execution of the same cells.

    ``run`` is, for example, the nbgrader-autograded solution submission of the lesson: the
    same code cells (the nbgrader markers aside), executed by the grader. Copying its outputs
    makes it serve as the lesson's executed notebook, so a lesson is executed once for both.

    Args:
        run: The executed notebook (outputs are read from it).
        lesson: The lesson as :func:`~mi_tutor.course.lessons.read_lesson` reads it (not changed).

    Raises:
        ValueError: when the two do not hold the same cells, naming the first that differs.
    """
    if len(run.cells) != len(lesson.cells):
        raise ValueError(f"run has {len(run.cells)} cells, the lesson {len(lesson.cells)}")
    out = copy.deepcopy(lesson)
    for i, (ran, cell) in enumerate(zip(run.cells, out.cells)):
        if ran.cell_type != cell.cell_type:
            raise ValueError(f"cell {i} is {ran.cell_type} in the run and {cell.cell_type} in the lesson")
        if cell.cell_type != "code":
            continue
        if _code_lines(ran.source) != _code_lines(cell.source):
            raise ValueError(f"code cell {i} differs between the run and the lesson:\n{ran.source[:300]}\n---\n"
                             f"{cell.source[:300]}")
        cell.outputs = copy.deepcopy(ran.outputs)
        cell.execution_count = ran.get("execution_count")
    return out
