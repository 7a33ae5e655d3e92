"""Executing lessons with nbclient, with a content-addressed cache.

Executing a lesson is the expensive step of building the site and of testing;
:func:`execute_lesson` caches the executed notebook under a key made of the
lesson's text and the source of the ``mi_tutor`` package, so an unchanged
lesson is executed once however many tools ask for it.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from .lessons import read_lesson

__all__ = ["ExecutionResult", "execute_notebook", "execute_lesson", "package_fingerprint", "DEFAULT_TIMEOUT"]

#: Per-cell timeout in seconds: generous, torch cells on a slow CPU take a while.
DEFAULT_TIMEOUT = 600


@dataclass
class ExecutionResult:
    """An executed notebook and how long it took (0 when it came from the cache)."""

    notebook: nbformat.NotebookNode
    seconds: float
    cached: bool


def package_fingerprint() -> str:
    """A hash of the code and shipped weights of ``mi_tutor`` (changes when either changes)."""
    root = Path(__file__).resolve().parents[1]
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.suffix in (".py", ".pt")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def execute_notebook(nb: nbformat.NotebookNode, cwd: str | Path = ".", timeout: int = DEFAULT_TIMEOUT,
                     allow_errors: bool = False) -> nbformat.NotebookNode:
    """Execute ``nb`` in a fresh python3 kernel started in ``cwd``; return it with outputs.

    Raises:
        nbclient.exceptions.CellExecutionError: when a cell fails and ``allow_errors`` is False.
    """
    env = dict(os.environ, TQDM_DISABLE="1", MPLBACKEND="module://matplotlib_inline.backend_inline")
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def execute_lesson(path: str | Path, cache_dir: str | Path | None = None, cwd: str | Path = ".",
                   timeout: int = DEFAULT_TIMEOUT) -> ExecutionResult:
    """Execute the solution notebook of a lesson, reusing the cache when it is fresh.

    Args:
        path: ``solutions/NN_slug.py``.
        cache_dir: Folder of cached executed notebooks (``None``: no cache).
        cwd: Working directory of the kernel.
        timeout: Per-cell timeout in seconds.
    """
    path = Path(path)
    text = path.read_text()
    key = hashlib.sha256((text + package_fingerprint()).encode()).hexdigest()[:16]
    cached = Path(cache_dir) / f"{path.stem}.{key}.ipynb" if cache_dir else None
    if cached and cached.exists():
        return ExecutionResult(nbformat.read(cached, as_version=4), 0.0, True)
    start = time.perf_counter()
    nb = execute_notebook(read_lesson(path), cwd=cwd, timeout=timeout)
    seconds = time.perf_counter() - start
    if cached:
        cached.parent.mkdir(parents=True, exist_ok=True)
        for old in cached.parent.glob(f"{path.stem}.*.ipynb"):
            old.unlink()
        nbformat.write(nb, cached)
    return ExecutionResult(nb, seconds, False)
