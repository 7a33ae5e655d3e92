"""A warm starter for grading processes: the imports paid once, one fresh fork per submission.

Starting the grading process of a submission (``python -m mi_tutor.course.grading.worker``)
costs seconds of imports (nbgrader, nbconvert, nbclient, the package and torch), the same
for every submission. :class:`WarmStarter` keeps one process that has made those imports and
does nothing else; for each submission it forks a fresh child that is the grading process:
its own session, the subreaper of whatever the submission starts, killed with the starter.
Nothing passes from one submission to the next but the imported modules: the student's code
never runs in the starter or its children (it runs in the kernel, a new process per
submission), each child exits when its submission is graded, and the starter never runs a
grading itself.

Set ``MI_TUTOR_WARM_GRADER=0`` to start every grading process cold (``bench/grading.py
--cold`` compares the two).

The starter reads one JSON request per line (``{"scratch": folder, "env": {...}}``) and
answers ``{"pid": pid}``; the child writes its output to ``folder/log.txt`` and, when it
has exited, the starter writes ``folder/exit.json`` (``{"status": exit status}``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["WarmStarter", "warm_enabled", "WARM_ENV"]

#: Environment variable: ``0`` starts every grading process cold.
WARM_ENV = "MI_TUTOR_WARM_GRADER"


def warm_enabled() -> bool:
    """Whether grading processes are forked from a warm starter (default) or started cold."""
    return os.environ.get(WARM_ENV, "1") != "0" and hasattr(os, "fork")


class WarmStarter:
    """One warm starter process, shared by the threads of this process (see the module).

    Args:
        module: The module each forked process runs (its ``main([scratch])``); the starter imports it,
            and so everything it imports, once. The grader passes its worker.
    """

    def __init__(self, module: str) -> None:
        self._module = module
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "mi_tutor.course.grading.warm", self._module], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1, preexec_fn=die_with_parent,
                                env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))

    def fork(self, scratch: Path, env: dict[str, str]) -> int | None:
        """Start the grading process of ``scratch`` with ``env``; its pid, or None when no starter runs."""
        with self._lock:
            for _ in range(2):  # a starter that died is replaced once
                if self._proc is None or self._proc.poll() is not None:
                    self._proc = self._start()
                try:
                    self._proc.stdin.write(json.dumps({"scratch": str(scratch), "env": env}) + "\n")
                    self._proc.stdin.flush()
                    line = self._proc.stdout.readline()
                    return int(json.loads(line)["pid"])
                except (OSError, ValueError, KeyError):
                    self._proc.kill()
                    self._proc.wait()
                    self._proc = None
            return None

    def running(self) -> bool:
        """Whether the starter process is alive (it writes the ``exit.json`` of the processes it forked)."""
        return self._proc is not None and self._proc.poll() is None

    def close(self) -> None:
        """End the starter (its children die with it)."""
        with self._lock:
            if self._proc is not None:
                self._proc.kill()
                self._proc.wait()
                self._proc = None


# --------------------------------------------------------------------------------------------
# the starter process


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask the kernel to kill this process when its parent dies (Linux ``PR_SET_PDEATHSIG``)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _child(main, scratch: Path, env: dict[str, str]) -> None:  # pragma: no cover - runs in the forked child
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        die_with_parent()
        fd = os.open(scratch / "log.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.environ.clear()
        os.environ.update(env)
        import tempfile

        tempfile.tempdir = None  # TMPDIR is this submission's
        status = main([str(scratch)])
    except BaseException:  # noqa: BLE001 - whatever happens, the child never returns to the loop
        status = 1
    os._exit(status or 0)


def _write_exit(folder: Path, status: int) -> None:  # pragma: no cover - runs in the starter
    """Write ``folder/exit.json`` whole or not at all: a reader polling for it never sees it half written."""
    part = folder / "exit.json.part"
    try:
        part.write_text(json.dumps({"status": status}))
        os.replace(part, folder / "exit.json")
    except OSError:  # the folder is gone (its grading was given up): nobody waits for this answer
        pass


def serve(module: str) -> None:  # pragma: no cover - the starter's loop, run as a process by WarmStarter
    """Import ``module`` (and what grading needs), then fork one process per request running its ``main``."""
    import importlib

    main = importlib.import_module(module).main  # its imports are what the children inherit
    from nbgrader.api import Gradebook  # noqa: F401
    from nbgrader.apps import NbGraderAPI  # noqa: F401
    from nbgrader.preprocessors import SaveAutoGrades  # noqa: F401

    folders: dict[int, Path] = {}
    exited: dict[int, int] = {}

    def report() -> None:
        for pid in [p for p in list(exited) if p in folders]:
            folder, status = folders.pop(pid, None), exited.pop(pid, None)
            if folder is not None and status is not None:
                _write_exit(folder, status)

    def reap(*_) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            exited[pid] = os.waitstatus_to_exitcode(status)
        report()

    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        req = json.loads(line)
        scratch = Path(req["scratch"])
        pid = os.fork()
        if pid == 0:
            _child(main, scratch, req["env"])
        folders[pid] = scratch  # before the answer: exit.json is written only once the pid is known here
        reap()
        print(json.dumps({"pid": pid}), flush=True)


if __name__ == "__main__":  # pragma: no cover
    serve(sys.argv[1])
