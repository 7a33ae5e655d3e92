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
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .policy import tamper_comment
from .warm import WarmStarter, die_with_parent, warm_enabled

__all__ = ["GradingTask", "run_task", "grade_scratch_course", "kill_all", "apply_tamper_policy"]

_LIVE: set[subprocess.Popen] = set()
#: This module by name: what a grading process runs, cold (``python -m``) or forked warm.
_MODULE = "mi_tutor.course.grading.worker"
_FORKED: set[int] = set()  # grading processes forked by the warm starter (pids; process groups)
_LOCK = threading.Lock()


def kill_all() -> None:
    """Kill every grading process this process started that is still running (Ctrl-C)."""
    with _LOCK:
        for proc in list(_LIVE):
            _kill_group(proc)
        for pid in list(_FORKED):
            _signal_group(pid, signal.SIGKILL)

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
        plan: :func:`~.executor.grading_plan` of the instructor's notebook (the grader's cells).
        policy: What tamper evidence does to the gradebook: ``"zero"`` (the autograded cells it
            concerns score 0, see :mod:`.policy`; the reason is the comment of their answer cells)
            or ``"keep"`` (scores stay; the submission is only flagged).
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
    plan: dict = field(default_factory=dict)
    policy: str = "zero"


@dataclass
class Outcome:
    success: bool
    problems: list[str] = field(default_factory=list)
    grades: list[dict] = field(default_factory=list)
    comments: list[dict] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # relative path -> base64 bytes
    log_tail: str = ""
    seconds: float = 0.0
    evidence: list[str] = field(default_factory=list)  # tamper evidence gathered while grading
    computed: list[dict] = field(default_factory=list)  # the grades before the policy applied
    computed_comments: list[dict] = field(default_factory=list)  # and the comments
    hidden: dict = field(default_factory=dict)  # grade_id -> verdict of its hidden tests
    runtime_files: list[str] = field(default_factory=list)  # what the kernel's runtime folder held
    untrusted: dict = field(default_factory=dict)  # grade id -> evidence: the cells the policy zeroes
    phases: dict = field(default_factory=dict)  # where the grading time went (SubmissionResult.phases)


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
    (scratch / "work").mkdir()  # the kernel's working folder: empty, nothing of the course in it
    (scratch / "task.json").write_text(json.dumps({k: v for k, v in asdict(task).items()
                                                   if k not in ("notebook", "template_db", "config_text", "plan")}))
    (scratch / "plan.json").write_text(json.dumps({**task.plan, "nonce": secrets.token_hex(16),
                                                   "cwd": str(scratch / "work"),
                                                   "report": str(scratch / "report.json")}))
    return course


def run_task(task: GradingTask) -> dict:
    """Grade one submission in a fresh scratch folder; return the outcome as plain data.

    The grading process is forked from a warm starter (:mod:`.warm`) or started cold, and is
    killed (with its sandboxed kernel) after ``limits["submission_timeout"]`` seconds; that is
    reported as a problem.
    """
    start = time.perf_counter()
    limit = int(task.limits["submission_timeout"])
    with tempfile.TemporaryDirectory(prefix=f"grade-{task.student}-") as tmp:
        scratch = Path(tmp)
        _write_scratch(task, scratch)
        env = dict(os.environ, **_thread_env(task.threads), JUPYTER_RUNTIME_DIR=str(scratch / "runtime"),
                   TMPDIR=str(scratch / "runtime"),  # connection files go there: the kernel must read them
                   PYTHONDONTWRITEBYTECODE="1")
        pid = _warm_fork(scratch, env)
        if pid is not None:
            log, timed_out, status = _wait_forked(pid, scratch, limit + 30)
        else:
            log, timed_out, status = _run_cold(scratch, env, limit + 30)
        if timed_out:
            out = Outcome(False, [f"hit the submission timeout of {limit} s (an infinite loop that ignores "
                                  "interrupts?): killed, graded 0"])
            out.log_tail = log[-4000:]
            out.seconds = time.perf_counter() - start
            return asdict(out)
        result = scratch / "outcome.json"
        if result.exists():
            data = json.loads(result.read_text())
        else:
            data = asdict(Outcome(False, [f"the grading process died (exit status {status})"]))
        data["log_tail"] = (data.get("log_tail") or "") + log[-4000:]
        data["seconds"] = time.perf_counter() - start
        return data


_STARTER = None


def _warm_fork(scratch: Path, env: dict[str, str]) -> int | None:
    global _STARTER

    if not warm_enabled():
        return None
    with _LOCK:
        if _STARTER is None:
            _STARTER = WarmStarter(_MODULE)
    pid = _STARTER.fork(scratch, env)
    if pid is not None:
        with _LOCK:
            _FORKED.add(pid)
    return pid


def _wait_forked(pid: int, scratch: Path, timeout: float) -> tuple[str, bool, int | None]:
    """Wait for a forked grading process (not our child: the warm starter reaps it and writes exit.json)."""
    done, deadline, timed_out = scratch / "exit.json", time.monotonic() + timeout, False
    try:
        while not done.exists():
            if time.monotonic() > deadline:
                timed_out = True
                _signal_group(pid, signal.SIGTERM)  # the grading process ends what the submission started
                end = time.monotonic() + 10
                while not done.exists() and time.monotonic() < end:
                    time.sleep(0.1)
                _signal_group(pid, signal.SIGKILL)
                break
            if not _alive(pid):  # reaped: the starter writes exit.json next, unless it died; then read what is left
                end = time.monotonic() + 10
                while not done.exists() and time.monotonic() < end and _STARTER is not None and _STARTER.running():
                    time.sleep(0.1)
                break
            time.sleep(0.1)
    except BaseException:
        _signal_group(pid, signal.SIGKILL)
        raise
    finally:
        with _LOCK:
            _FORKED.discard(pid)
    log = scratch / "log.txt"
    text = log.read_bytes().decode(errors="replace") if log.exists() else ""
    status = json.loads(done.read_text())["status"] if done.exists() else None
    return text, timed_out, status


def _run_cold(scratch: Path, env: dict[str, str], timeout: float) -> tuple[str, bool, int | None]:
    proc = subprocess.Popen([sys.executable, "-m", _MODULE, str(scratch)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True, preexec_fn=die_with_parent)
    with _LOCK:
        _LIVE.add(proc)
    try:
        log, _ = proc.communicate(timeout=timeout)
        return (log or b"").decode(errors="replace"), False, proc.returncode
    except subprocess.TimeoutExpired:
        proc.terminate()  # the grading process ends what the submission started, then itself
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        _kill_group(proc)
        log, _ = proc.communicate()
        return (log or b"").decode(errors="replace"), True, proc.returncode
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        with _LOCK:
            _LIVE.discard(proc)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - a reused pid of another user
        return True
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _thread_env(threads: int) -> dict[str, str]:
    t = str(max(1, int(threads)))
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t, "MI_TUTOR_TORCH_THREADS": t}


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
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                        SaveAutoGrades)
    from traitlets.config.loader import PyFileConfigLoader

    from ..nbgrader_course import _ensure_tools_on_path
    from .executor import PLAN_ENV, GradingExecute
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
    # the grader's own Execute: hidden tests last, the grader's cells, tamper evidence (see .executor)
    cfg.Autograde.autograde_preprocessors = [GradingExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                                             SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    os.environ[PLAN_ENV] = str(scratch / "plan.json")
    # the kernel (student code) starts through the sandbox; ipc sockets need no network
    cfg.Execute.kernel_name = "mi-tutor-sandbox"
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(scratch / "runtime" / "kernel")
    # the kernel sees its empty working folder and the sockets, not the notebook nor the gradebook
    sandbox = SandboxConfig(
        writable=[str(scratch / "work"), str(scratch / "runtime")], memory_bytes=int(limits["memory_gb"] * (1 << 30)),
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
    clock = time.perf_counter()
    result = api.autograde(assignment, student, force=True, create=True)
    autograde_seconds = time.perf_counter() - clock
    log = (result.get("log") or "") + (result.get("error") or "")
    out = Outcome(bool(result["success"]), log_tail=log[-6000:])
    if _TIMEOUT.search(log):
        out.problems.append(f"a cell hit the {limits['cell_timeout']} s cell timeout (an infinite loop?): "
                            "it was interrupted, later cells still ran")
    if _DEAD.search(log):
        out.problems.append("the kernel died (os._exit, a crash, or the memory/CPU limit)")
    out.runtime_files = sorted(p.name for p in (scratch / "runtime").rglob("*"))
    report_file = scratch / "report.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {}
    out.evidence = list(report.get("evidence", []))
    out.hidden = dict(report.get("hidden", {}))
    out.phases = {**report.get("seconds", {}), "nbgrader_autograde": autograde_seconds}
    if report.get("grader_error"):
        out.success = False
        out.problems.append(f"the grader's own cells could not run in the kernel ({report['grader_error']}): not graded, "
                            "since hidden tests never run without the grader's protections; is mi_tutor importable "
                            "in the grading kernel? Fix the environment and grade again")
    if report.get("hidden_phase") == "kernel died":
        out.problems.append("the kernel died while the hidden tests ran: the hidden tests not yet run score 0")
    if out.success:
        with Gradebook(cfg.CourseDirectory.db_url) as gb:
            out.computed = _grades(gb, assignment, student)
            out.computed_comments = _comments(gb, assignment, student)
            out.untrusted = dict(report.get("untrusted", {}))
            if out.untrusted and task.get("policy", "zero") == "zero":
                apply_tamper_policy(gb, assignment, student, out.untrusted, report.get("answer_of", {}))
    if out.success and task["feedback"]:
        clock = time.perf_counter()
        api.generate_feedback(assignment, student, force=True)
        out.phases["nbgrader_feedback"] = time.perf_counter() - clock
    with Gradebook(cfg.CourseDirectory.db_url) as gb:
        try:
            sub = gb.find_submission(assignment, student)
        except Exception:  # noqa: BLE001 - no submission row: nothing graded
            sub = None
        if sub is not None and out.success:
            out.grades = _grades(gb, assignment, student)
            out.comments = _comments(gb, assignment, student)
    for folder in ("autograded", "feedback"):
        base = course / folder / student / assignment
        for path in sorted(base.glob("*")) if base.exists() else []:
            if path.name not in (f"{assignment}.ipynb", f"{assignment}.html", "timestamp.txt"):
                continue
            if path.is_file() and not path.is_symlink() and path.stat().st_size < (64 << 20):
                rel = str(path.relative_to(course))
                out.files[rel] = base64.b64encode(path.read_bytes()).decode()
    return out


def _grades(gb, assignment: str, student: str) -> list[dict]:
    sub = gb.find_submission(assignment, student)
    return [{"notebook": nb.name, "name": g.name, "auto_score": g.auto_score,
             "needs_manual_grade": bool(g.needs_manual_grade)} for nb in sub.notebooks for g in nb.grades]


def _comments(gb, assignment: str, student: str) -> list[dict]:
    sub = gb.find_submission(assignment, student)
    return [{"notebook": nb.name, "name": c.name, "auto_comment": c.auto_comment} for nb in sub.notebooks
            for c in nb.comments]


def apply_tamper_policy(gb, assignment: str, student: str, untrusted: dict[str, list[str]],
                        answer_of: dict[str, str]) -> None:
    """Score 0 the autograded cells tamper evidence concerns (see :mod:`.policy`); say why on their answer cells.

    Args:
        gb: The scratch gradebook (open).
        untrusted: ``{grade id of a test cell: [evidence]}``, :meth:`.policy.Ledger.untrusted`.
        answer_of: ``{grade id of a test cell: grade id of its answer cell}``, :func:`.policy.answer_cells`.
    """
    sub = gb.find_submission(assignment, student)
    by_answer: dict[str, tuple[list[str], list[str]]] = {}
    for test, reasons in untrusted.items():
        tests, why = by_answer.setdefault(answer_of.get(test, ""), ([], []))
        tests.append(test)
        why.extend(reasons)
    for nb in sub.notebooks:
        for g in nb.grades:
            if g.name in untrusted:
                if g.auto_score is not None:
                    g.auto_score = 0.0
                g.needs_manual_grade = True
        for c in nb.comments:
            tests, why = by_answer.get(c.name, ([], []))
            orphans, orphan_why = by_answer.get("", ([], []))  # tests above every answer cell
            if tests or orphans:
                c.auto_comment = tamper_comment(tests + orphans, why + orphan_why)
        nb.flagged = True
    gb.db.commit()


def become_subreaper() -> bool:
    """Make this process the reaper of every orphan below it (``PR_SET_CHILD_SUBREAPER``).

    A student's process that detaches itself (``start_new_session``, a double fork) is then
    still a descendant of the grading process, which :func:`end_descendants` ends.
    """
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        return False


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from ``/proc``), children first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text[text.rindex(")") + 2:].split()
        if fields and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            out.append(child)
            stack.append(child)
    return out


def end_descendants(rounds: int = 20) -> int:
    """SIGKILL every descendant of this process (by pid) until none is left; return how many were ended."""
    ended = 0
    for _ in range(rounds):
        pids = descendants(os.getpid())
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
                ended += 1
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.time() + 1.0
        while time.time() < deadline:  # reap them (orphans are ours now)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.02)
    return ended


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - run as a process by run_task
    """The grading process of one scratch folder (started cold with ``python -m``, or forked warm)."""
    scratch = Path((argv or sys.argv[1:])[0])
    become_subreaper()
    signal.signal(signal.SIGTERM, lambda *_: (end_descendants(), os._exit(143)))
    try:
        out = grade_scratch_course(scratch)
    except Exception as err:  # noqa: BLE001 - report any failure as data
        out = Outcome(False, [f"grading failed: {err.__class__.__name__}: {err}"])
    ended = end_descendants()  # whatever the student's code started ends with its grading
    if ended:
        out.problems.append(f"{ended} process(es) the submission started were still running after its grading: "
                            "ended")
    (scratch / "outcome.json").write_text(json.dumps(asdict(out)))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
