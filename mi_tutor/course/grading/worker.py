"""Grading one submission in a scratch course of its own.

:func:`run_task` is what the coordinator (or a Dask worker on another
machine) calls: it writes a scratch course holding only what grading the
submission needs (the course config, a gradebook with the assignment's
definition and no students, the submitted notebook), then runs this module
as a separate process, killed with everything it started when the
submission's time is up. That process runs nbgrader's autograde with the
student's kernel in the sandbox (:mod:`.sandbox`) and reports the grades,
the autograded notebook and the feedback; nothing of the real course is
touched here: the coordinator writes the real gradebook.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["GradingTask", "run_task", "grade_scratch_course", "kill_all"]

_LIVE: set[subprocess.Popen] = set()
_LOCK = threading.Lock()


def kill_all() -> None:
    """Kill every grading process this process started that is still running (Ctrl-C)."""
    with _LOCK:
        for proc in list(_LIVE):
            _kill_group(proc)

_TIMEOUT = re.compile(r"timed out|CellTimeoutError|Timeout waiting", re.I)
_DEAD = re.compile(r"DeadKernelError|Kernel died|kernel died", re.I)


@dataclass
class GradingTask:
    """Everything needed to grade one submission, anywhere (plain data: it travels to Dask workers).

    Attributes:
        student: Student id.
        assignment: Assignment (= notebook) name.
        notebook: The submitted notebook's bytes.
        template_db: A gradebook holding the assignment's definition and no student.
        config_text: The course's ``nbgrader_config.py``.
        limits: :class:`~.limits.Limits` as a dict.
        threads: Torch/OpenMP threads of the kernel.
        isolate: Run the kernel in bubblewrap.
        feedback: Also write the feedback HTML.
        timestamp: ``timestamp.txt`` of the submission, if any.
    """

    student: str
    assignment: str
    notebook: bytes
    template_db: bytes
    config_text: str
    limits: dict
    threads: int = 1
    isolate: bool = True
    feedback: bool = True
    timestamp: str | None = None


@dataclass
class Outcome:
    success: bool
    problems: list[str] = field(default_factory=list)
    grades: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> base64 bytes
    log_tail: str = ""
    seconds: float = 0.0


def _write_scratch(task: GradingTask, scratch: Path) -> Path:
    course = scratch / "course"
    sub = course / "submitted" / task.student / task.assignment
    sub.mkdir(parents=True)
    (course / "source" / task.assignment).mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(task.config_text)
    (course / "gradebook.db").write_bytes(task.template_db)
    (sub / f"{task.assignment}.ipynb").write_bytes(task.notebook)
    if task.timestamp:
        (sub / "timestamp.txt").write_text(task.timestamp)
    (scratch / "runtime").mkdir()
    (scratch / "task.json").write_text(json.dumps({k: v for k, v in asdict(task).items()
                                                   if k not in ("notebook", "template_db", "config_text")}))
    return course


def run_task(task: GradingTask) -> dict:
    """Grade one submission in a fresh scratch folder; return the outcome as plain data.

    The grading process is killed (with its sandboxed kernel) after
    ``limits["submission_timeout"]`` seconds; that is reported as a problem.
    """
    start = time.perf_counter()
    limit = int(task.limits["submission_timeout"])
    with tempfile.TemporaryDirectory(prefix=f"grade-{task.student}-") as tmp:
        scratch = Path(tmp)
        _write_scratch(task, scratch)
        env = dict(os.environ, **_thread_env(task.threads), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
                   TMPDIR=str(scratch / "runtime"),
                   PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.Popen([sys.executable, "-m", "mi_tutor.course.grading.worker", str(scratch)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, preexec_fn=_die_with_parent)
        with _LOCK:
            _LIVE.add(proc)
        try:
            log, _ = proc.communicate(timeout=limit + 30)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            log, _ = proc.communicate()
            out = Outcome(False, [f"hit the submission timeout of {limit} s (an infinite loop that ignores "
                                  "interrupts?): killed, graded 0"])
            out.log_tail = (log or b"").decode(errors="replace")[-4000:]
            out.seconds = time.perf_counter() - start
            return asdict(out)
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            with _LOCK:
                _LIVE.discard(proc)
        result = scratch / "outcome.json"
        if result.exists():
            data = json.loads(result.read_text())
        else:
            data = asdict(Outcome(False, [f"the grading process died (exit status {proc.returncode})"]))
        data["log_tail"] = (data.get("log_tail") or "") + (log or b"").decode(errors="replace")[-4000:]
        data["seconds"] = time.perf_counter() - start
        return data


def _thread_env(threads: int) -> dict[str, str]:
    t = str(max(1, int(threads)))
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MI_TUTOR_TORCH_THREADS": t}


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------------------------
# inside the grading process


def grade_scratch_course(scratch: Path) -> Outcome:
    """Run nbgrader's autograde (and feedback) on the scratch course; read back its grades."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    from ..nbgrader_course import _ensure_tools_on_path
    from .sandbox import SandboxConfig, kernel_argv

    task = json.loads((scratch / "task.json").read_text())
    student, assignment, limits = task["student"], task["assignment"], task["limits"]
    course = scratch / "course"
    _ensure_tools_on_path()
    cfg = PyFileConfigLoader("nbgrader_config.py", str(course)).load_config()
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    cfg.Exchange.root = str(scratch / "exchange")
    cfg.Execute.timeout = int(limits["cell_timeout"])
    cfg.Execute.interrupt_on_timeout = True
    cfg.Execute.iopub_timeout = 30  # a loaded machine delivers outputs late: not the student's fault
    cfg.Execute.startup_timeout = 180
    # the kernel (student code) starts through the sandbox; ipc sockets need no network
    cfg.Execute.kernel_name = "mi-tutor-sandbox"
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(scratch / "runtime" / "kernel")
    workdir = course / "autograded" / student / assignment
    sandbox = SandboxConfig(
        writable=[str(workdir), str(scratch / "runtime")], memory_bytes=int(limits["memory_gb"] * (1 << 30)),
        cpu_seconds=int(limits["cpu_seconds"]), file_bytes=int(limits["file_mb"]) << 20,
        processes=int(limits["processes"]), isolate=bool(task["isolate"]),
        env={**_thread_env(task["threads"]), "TQDM_DISABLE": "1", "NBGRADER_EXECUTION": "autograde",
             "HF_HUB_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"})
    (scratch / "sandbox.json").write_text(sandbox.to_json())
    spec = scratch / "jupyter" / "kernels" / "mi-tutor-sandbox"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": kernel_argv(scratch / "sandbox.json"),
                                                  "display_name": "Python 3 (grading sandbox)",
                                                  "language": "python",
                                                  # signals would reach bwrap, not the kernel inside
                                                  "interrupt_mode": "message"}))
    os.environ["JUPYTER_PATH"] = str(scratch / "jupyter")
    api = NbGraderAPI(CourseDirectory(config=cfg), config=cfg)
    result = api.autograde(assignment, student, force=True, create=True)
    log = (result.get("log") or "") + (result.get("error") or "")
    out = Outcome(bool(result["success"]), log_tail=log[-6000:])
    if _TIMEOUT.search(log):
        out.problems.append(f"a cell hit the {limits['cell_timeout']} s cell timeout (an infinite loop?): "
                            "it was interrupted, later cells still ran")
    if _DEAD.search(log):
        out.problems.append("the kernel died (os._exit, a crash, or the memory/CPU limit)")
    if out.success and task["feedback"]:
        api.generate_feedback(assignment, student, force=True)
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except Exception:  # noqa: BLE001 - no submission row: nothing graded
            sub = None
        if sub is not None and out.success:
            for nb in sub.notebooks:
                for g in nb.grades:
                    out.grades.append({"notebook": nb.name, "name": g.name, "auto_score": g.auto_score,
                                       "needs_manual_grade": bool(g.needs_manual_grade)})
                for c in nb.comments:
                    out.comments.append({"notebook": nb.name, "name": c.name, "auto_comment": c.auto_comment})
    for folder in ("autograded", "feedback"):
        base = course / folder / student / assignment
        for path in sorted(base.glob("*")) if base.exists() else []:
            if path.name not in (f"{assignment}.ipynb", f"{assignment}.html", "timestamp.txt"):
                continue  # what the student's code left in its folder stays in the scratch
            if path.is_file() and not path.is_symlink() and path.stat().st_size < (64 << 20):
                rel = str(path.relative_to(course))
                out.files[rel] = base64.b64encode(path.read_bytes()).decode()
    return out


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - run as a process by run_task
    scratch = Path((argv or sys.argv[1:])[0])
    try:
        out = grade_scratch_course(scratch)
    except Exception as err:  # noqa: BLE001 - report any failure as data
        out = Outcome(False, [f"grading failed: {err.__class__.__name__}: {err}"])
    (scratch / "outcome.json").write_text(json.dumps(asdict(out)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
