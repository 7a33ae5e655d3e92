"""The coordinator: one process that farms submissions out and alone writes the gradebook.

For each assignment it checks every submission folder (bad input is reported
by name and never executed), skips those graded before with the same
checksum, scans the others for tricks, and sends one :class:`~.worker.GradingTask`
per submission to local worker processes (``jobs`` at a time) or to a Dask
cluster (``scheduler``). As each comes back it writes the grades into the
course's ``gradebook.db`` through nbgrader's API, the autograded notebook and
the feedback into the course, and a checksum record, all before the next one:
an interrupted run loses nothing already written and a rerun picks up the rest.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..execute import DEFAULT_TIMEOUT
from ..nbgrader_course import course_assignments, load_course
from . import records
from ...device import thread_share
from .limits import Limits, lesson_limits, load_factor
from .sandbox import sandbox_available
from .tricks import scan_submission
from .executor import grading_plan
from .structure import normalize
from .worker import GradingTask, kill_all, run_task

__all__ = ["SubmissionResult", "GradingRun", "grade_class", "diagnose_submission", "restore_after_review",
           "POLICIES"]

#: Bump when grading changes so that old records are regraded.
GRADER_VERSION = "4"
#: The command-line flag that chooses to grade without a sandbox.
UNSANDBOXED_FLAG = "--run-student-code-unsandboxed"
#: What tamper evidence does to the gradebook (see :func:`grade_class`).
POLICIES = ("zero", "keep")


@dataclass
class SubmissionResult:
    """The outcome of grading one student's submission of one assignment.

    Attributes:
        student: Student id.
        assignment: Assignment name.
        graded: nbgrader graded it (False: bad input, timeout, crash: scored 0).
        score: Autograded points (0 when not graded).
        max_score: Points possible.
        needs_manual_grade: Written answers or flags await the instructor.
        problems: What went wrong, in words.
        flags: What the static scan saw (``"<cell>: <reason>"``): a second opinion that lists the
            submission for review and never changes a score.
        reused: Graded by an earlier run (unchanged since).
        seconds: Wall time of its grading.
        phases: Where the grading kernel's time went (``kernel_start``, ``student_cells``,
            ``grader:<call>``, ``total``), in seconds.
        evidence: Tampering found while grading (the grader's own cells, the known-answer
            self-test of the checks); the course's policy decides what it does to the score.
        policy: What the policy did, in words (empty: nothing to apply).
    """

    student: str
    assignment: str
    graded: bool
    score: float = 0.0
    max_score: float = 0.0
    needs_manual_grade: bool = False
    problems: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    reused: bool = False
    seconds: float = 0.0
    evidence: list[str] = field(default_factory=list)
    policy: str = ""
    phases: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        if not self.graded:
            return "failed"
        return "flagged" if self.flags or self.evidence else "graded"


@dataclass
class GradingRun:
    """All results of one ``autograde`` run and what the instructor must know about the run itself."""

    results: list[SubmissionResult]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    jobs: int = 1
    interrupted: bool = False


def diagnose_submission(folder: Path, assignment: str, max_mb: float = 20.0) -> list[str]:
    """Problems that stop a submission folder from being graded, in words (empty: gradable)."""
    expected = f"{assignment}.ipynb"
    path = folder / expected
    if folder.is_symlink():
        return [f"the submission folder is a symbolic link (to {os.readlink(folder)}), not a folder: not graded"]
    notebooks = sorted(p.name for p in folder.glob("*.ipynb"))
    if not path.exists() and not path.is_symlink():
        others = f" (found {', '.join(notebooks)})" if notebooks else " (no .ipynb file at all)"
        return [f"missing notebook {expected}{others}: was it renamed?"]
    if path.is_symlink():
        return [f"{expected} is a symbolic link (to {os.readlink(path)}), not a file: not graded"]
    if not path.is_file():
        return [f"{expected} is not a regular file: not graded"]
    size = path.stat().st_size
    if size > max_mb * (1 << 20):
        return [f"{expected} is {size / (1 << 20):.0f} MB, over the {max_mb:g} MB limit for a notebook: not graded "
                "(raise max_notebook_mb in grading.json if it is genuine)"]
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return [f"{expected} is not valid notebook JSON ({err.__class__.__name__}: {err})"]
    return []


class _Store:
    """The coordinator's writes into the real course (one thread only)."""

    def __init__(self, root: Path, db_url: str):
        self.root, self.db_url = root, db_url
        self.db = Path(db_url.replace("sqlite:///", "", 1))

    def store(self, task: GradingTask, out: dict, flags: list[str]) -> None:
        """Write one outcome: its grades and comments (the policy already applied), the notebook, the feedback."""
        a, s = task.assignment, task.student
        with Gradebook(self.db_url) as gb:
            gb.update_or_create_student(s)
            kwargs = {"timestamp": task.timestamp.strip()} if task.timestamp else {}
            try:
                gb.update_or_create_submission(a, s, **kwargs)
            except Exception:  # noqa: BLE001 - an unreadable timestamp must not lose the grade
                gb.update_or_create_submission(a, s)
            sub = gb.find_submission(a, s)
            if out["success"]:
                for g in out["grades"]:
                    grade = gb.find_grade(g["name"], g["notebook"], a, s)
                    grade.auto_score = g["auto_score"]
                    grade.needs_manual_grade = (grade.manual_score is not None) or grade.auto_score is None
                for c in out["comments"]:
                    gb.find_comment(c["name"], c["notebook"], a, s).auto_comment = c["auto_comment"]
            else:  # nothing was graded: zero, and make the instructor look
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        grade.auto_score = 0.0
                        grade.needs_manual_grade = True
            for nb in sub.notebooks:
                nb.flagged = bool(flags) or bool(out.get("evidence")) or not out["success"]
            gb.db.commit()
        for folder in ("autograded", "feedback"):
            target = self.root / folder / s / a
            if target.exists():
                shutil.rmtree(target)
        for rel, data in out.get("files", {}).items():
            parts = Path(rel).parts
            if len(parts) != 4 or parts[0] not in ("autograded", "feedback") or parts[1:3] != (s, a) \
                    or ".." in parts:
                continue  # only the notebook and the feedback of this very submission
            dest = self.root.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(base64.b64decode(data))

    def has_submission(self, assignment: str, student: str) -> bool:
        with Gradebook(self.db_url) as gb:
            try:
                gb.find_submission(assignment, student)
            except MissingEntry:
                return False
            return True

    def scores(self, results: list[SubmissionResult]) -> None:
        with Gradebook(self.db_url) as gb:
            for r in results:
                try:
                    sub = gb.find_submission(r.assignment, r.student)
                except MissingEntry:
                    r.max_score = gb.find_assignment(r.assignment).max_score
                    r.score = 0.0
                    continue
                r.max_score = sub.max_score
                r.score = sub.score if r.graded else 0.0
                r.needs_manual_grade = bool(sub.needs_manual_grade) or bool(r.flags) or bool(r.evidence)


def _problems_from(out: dict) -> list[str]:
    problems = list(out.get("problems", []))
    nb_b64 = next((v for k, v in out.get("files", {}).items() if k.startswith("autograded/") and k.endswith(".ipynb")),
                  None)
    if nb_b64:  # what the cells raised (not what they printed: a student may print anything)
        try:
            cells = json.loads(base64.b64decode(nb_b64)).get("cells", [])
        except (ValueError, AttributeError):
            cells = []
        errors = [o for c in cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if any(o.get("ename") == "MemoryError" or "allocate memory" in str(o.get("evalue", "")) for o in errors):
            problems.append("ran out of memory: a cell tried to allocate more than the memory limit")
        if any(o.get("ename") == "SystemExit" for o in errors):
            problems.append("a cell called sys.exit()/exit(): later cells still ran")
    if not out.get("success") and not problems:
        tail = [line for line in (out.get("log_tail") or "").strip().splitlines() if line.strip()][-3:]
        problems.append("nbgrader could not grade it: " + " | ".join(tail))
    return problems


def _template(root: Path, db: Path, assignment: str) -> tuple[bytes, dict, dict]:
    template = records.template_gradebook(db)
    release = json.loads((root / "release" / assignment / f"{assignment}.ipynb").read_text())
    source = json.loads((root / "source" / assignment / f"{assignment}.ipynb").read_text())
    return template, release, source


def _dask_client(scheduler: str):
    try:
        from distributed import Client
    except ImportError as err:  # pragma: no cover
        raise ValueError(f"--scheduler {scheduler!r} needs Dask distributed: pip install 'mi-tutor[cluster]'") from err
    return Client(scheduler, timeout=30)


def grade_class(root: str | Path, assignment: str | None = None, jobs: int | None = None,
                scheduler: str | None = None, feedback: bool = True, force: bool = False,
                limits: dict | None = None, isolate: bool | None = None, progress: bool = False,
                policy: str = "zero") -> GradingRun:
    """Grade every submission in ``root/submitted`` (optionally of one assignment).

    Args:
        root: The nbgrader course (``mi-tutor course init``).
        assignment: One assignment (default: all).
        jobs: Submissions graded at once (default: the cores); each kernel gets cores // jobs threads.
        scheduler: Address of a Dask scheduler (``tcp://host:8786``): grade on its workers instead.
        feedback: Also write ``feedback/`` HTML.
        force: Regrade submissions graded before even when unchanged.
        limits: Run overrides of :class:`~.limits.Limits` (``{"cell_timeout": 60}``).
        isolate: Sandbox the kernels. Default (None): sandboxed, and a ValueError when bubblewrap
            cannot make a sandbox here; False is the explicit choice to run students' code
            unsandboxed (every process it starts still ends with its grading).
        progress: Show a tqdm progress bar.
        policy: What tamper evidence found while grading does in the gradebook: ``"zero"``
            (default: the autograded cells the evidence concerns score 0, see :mod:`.policy`; the
            reason is stored as the comment of their answer cells, the submission is flagged for
            review; static-scan findings never change a score) or ``"keep"``
            (scores stay, the submission is only flagged). :func:`restore_after_review` gives a
            zeroed submission its computed points back.

    Raises:
        KeyError: for an assignment the course does not have.
    """
    start = time.perf_counter()
    root = Path(root).resolve()
    api = load_course(root)
    known = course_assignments(root)
    assignments = [assignment] if assignment else known
    for a in assignments:
        if a not in known:
            raise KeyError(f"No assignment {a!r} in {root / 'source'}; assignments: {known}")
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {list(POLICIES)}, got {policy!r}")
    jobs = max(1, int(jobs or os.cpu_count() or 1))
    run = GradingRun([], jobs=jobs)
    ok, why = sandbox_available()
    if isolate is None:  # unsandboxed grading is the instructor's explicit choice, never a fallback
        if not ok:
            raise ValueError(f"no sandbox can be made here ({why}), so the students' code would run with your "
                             "rights, reading the hidden tests and the gradebook. Install bubblewrap, or choose "
                             f"it explicitly: `mi-tutor autograde ... {UNSANDBOXED_FLAG}` (isolate=False)")
        isolate = True
    if isolate and not ok:
        raise ValueError(f"isolate=True but no sandbox can be made here: {why}")
    if not isolate:
        run.warnings.append(f"UNISOLATED (chosen with {UNSANDBOXED_FLAG}): student code ran with the grader's "
                            "rights, could read the hidden tests and reach the network; only resource limits "
                            "applied and every process it started was ended with its grading")
    db_url = api.coursedir.db_url
    if not db_url.startswith("sqlite:///"):
        raise ValueError(f"only SQLite gradebooks are supported, got db_url={db_url!r}")
    store = _Store(root, db_url)
    config_text = (root / "nbgrader_config.py").read_text()
    stretch = load_factor() if scheduler is None else 1.0
    if stretch > 1.0:
        run.warnings.append(f"machine busy (load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
                            f"derived time limits stretched x{stretch:.1f}")
    course_timeout = int(api.config.Execute.timeout) if "timeout" in api.config.Execute else None
    if course_timeout == DEFAULT_TIMEOUT:  # nbgrader's setting as `course init` writes it: not a choice
        course_timeout = None
    client = _dask_client(scheduler) if scheduler else None
    threads = thread_share(jobs) if client is None else 1
    try:
        for a in assignments:
            lim = lesson_limits(a, root, limits, load_factor=stretch, course_cell_timeout=course_timeout)
            _grade_assignment(root, a, run, store, api, config_text, jobs, threads, client, feedback, force,
                              lim, isolate, progress, policy)
    finally:
        if client is not None:
            client.close()
        store.scores(run.results)
        good, msg = records.integrity_ok(store.db)
        if not good:
            run.warnings.append(f"gradebook integrity check FAILED: {msg}")
        run.seconds = time.perf_counter() - start
    return run


def _grade_assignment(root: Path, a: str, run: GradingRun, store: _Store, api, config_text: str, jobs: int,
                      threads: int, client, feedback: bool, force: bool, lim: Limits, isolate: bool,
                      progress: bool, policy: str = "zero") -> None:
    template, release, source = _template(root, store.db, a)
    plan = grading_plan(source)
    old = records.load_records(store.db, a)
    # what makes an old grade stale besides the submission itself: the grader, the assignment, the
    # sandbox (time limits are not in it: they follow the machine's load, a rerun must not regrade all)
    fingerprint = f"{GRADER_VERSION}|{isolate}|{policy}|"
    tasks: list[tuple[GradingTask, list[str], str]] = []
    for folder in sorted((root / "submitted").glob(f"*/{a}")):
        student = folder.parent.name
        checksum = records.submission_checksum(folder, fingerprint + records_hash(release))
        prev = old.get(student)
        if prev and not force and prev["checksum"] == checksum:
            kept = records.load_outcome(store.db, student, a) or {}
            run.results.append(SubmissionResult(student, a, prev["status"] != "failed", problems=prev["problems"],
                                                flags=prev["flags"], reused=True, evidence=kept.get("evidence", []),
                                                policy=_policy_words(kept)))
            continue
        problems = diagnose_submission(folder, a, lim.max_notebook_mb)
        if problems:
            if store.has_submission(a, student):  # an earlier version was graded: its grade is stale now
                store.store(GradingTask(student, a, b"", b"", "", {}), {"success": False}, [])
            records.save_record(store.db, student, a, checksum, "failed", 0.0, 0.0, problems, [])
            run.results.append(SubmissionResult(student, a, graded=False, problems=problems))
            continue
        submitted = json.loads((folder / f"{a}.ipynb").read_bytes())
        notes: list[str] = []
        if isinstance(submitted, dict):
            submitted, notes = normalize(submitted, release)
        data = json.dumps(submitted).encode()
        try:
            flags = scan_submission(submitted, release, source)
        except Exception as err:  # noqa: BLE001 - a scan failure must not stop grading
            flags = [f"could not be scanned for tricks ({err.__class__.__name__}): review by hand"]
        stamp = folder / "timestamp.txt"
        ts = stamp.read_text()[:100] if stamp.is_file() and not stamp.is_symlink() else None
        task = GradingTask(student, a, data, template, config_text, lim.as_dict(), threads, isolate, feedback, ts,
                           plan=plan, policy=policy)
        tasks.append((task, flags, checksum, notes))
    _run_tasks(tasks, run, store, jobs, client, progress, a)


def records_hash(release: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(release, sort_keys=True).encode()).hexdigest()[:16]


def _policy_words(outcome: dict, zeroed: list[str] | None = None) -> str:
    if not outcome or not outcome.get("evidence"):
        return ""
    cells = f" ({', '.join(zeroed)})" if zeroed else ""
    return {"zero": f"cells the evidence concerns scored 0 by the tamper policy{cells} (restore with "
                    "--restore-after-review)",
            "keep": "score kept (policy keep): review it",
            "restored": "points restored after review"}.get(outcome.get("policy", ""), "")


def _finish(task: GradingTask, flags: list[str], checksum: str, out: dict, run: GradingRun, store: _Store,
            notes: list[str] | None = None) -> None:
    problems = list(notes or []) + _problems_from(out)
    store.store(task, out, flags)
    evidence = list(out.get("evidence", []))
    outcome = {"evidence": evidence, "policy": task.policy}
    records.save_outcome(store.db, task.student, task.assignment, evidence, out.get("computed", []),
                         out.get("computed_comments", []), task.policy)
    result = SubmissionResult(task.student, task.assignment, bool(out["success"]), problems=problems, flags=flags,
                              seconds=float(out.get("seconds", 0.0)), evidence=evidence,
                              policy=_policy_words(outcome, sorted(out.get("untrusted") or {})),
                              phases=dict(out.get("phases") or {}))
    store.scores([result])
    records.save_record(store.db, task.student, task.assignment, checksum, result.status, result.score,
                        result.max_score, problems, flags)
    run.results.append(result)


def _run_tasks(tasks, run: GradingRun, store: _Store, jobs: int, client, progress: bool, a: str) -> None:
    if not tasks:
        return
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=f"grading {a}", unit="sub", dynamic_ncols=True)
    pending = {}
    try:
        if client is not None:
            from distributed import as_completed

            futures = {client.submit(run_task, t, pure=False, key=f"grade-{a}-{t.student}-{time.time_ns()}"):
                       (t, f, c, n) for t, f, c, n in tasks}
            pending = futures
            for fut in as_completed(list(futures)):
                t, f, c, n = futures.pop(fut)
                try:
                    out = fut.result()
                except Exception as err:  # noqa: BLE001 - a lost worker is this submission's problem only
                    out = {"success": False, "problems": [f"the Dask worker failed: {err.__class__.__name__}: {err}"]}
                _finish(t, f, c, out, run, store, n)
                if bar:
                    bar.update(1)
            return
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
        try:
            queue = list(tasks)
            while queue or pending:
                while queue and len(pending) < jobs:
                    t, f, c, n = queue.pop(0)
                    pending[pool.submit(run_task, t)] = (t, f, c, n)
                done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for fut in done:
                    t, f, c, n = pending.pop(fut)
                    try:
                        out = fut.result()
                    except Exception as err:  # noqa: BLE001
                        out = {"success": False, "problems": [f"grading crashed: {err.__class__.__name__}: {err}"]}
                    _finish(t, f, c, out, run, store, n)
                    if bar:
                        bar.update(1)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    except KeyboardInterrupt:
        run.interrupted = True
        kill_all()
        for fut in list(pending):
            fut.cancel()
        run.warnings.append(f"interrupted: {len(pending)} submission(s) of {a} were being graded and are not; "
                            "run the same command again to grade what is missing")
    finally:
        if bar:
            bar.close()


def restore_after_review(root: str | Path, assignment: str, student: str) -> SubmissionResult:
    """Give a submission the tamper policy scored 0 its computed points back (after the instructor's review).

    The grades and comments computed while grading are written back into the gradebook, the
    nbgrader flag is cleared, the feedback is regenerated and the record says so.

    Raises:
        ValueError: when the policy did not zero this submission (nothing to restore).
    """
    root = Path(root).resolve()
    api = load_course(root)
    db_url = api.coursedir.db_url
    store = _Store(root, db_url)
    outcome = records.load_outcome(store.db, student, assignment)
    if not outcome or not outcome["evidence"] or outcome["policy"] != "zero":
        state = "no record" if not outcome else ("no tamper evidence" if not outcome["evidence"]
                                                 else f"policy {outcome['policy']!r}")
        raise ValueError(f"--restore-after-review {student!r}: nothing to restore for {assignment} ({state}); "
                         "wanted a submission the tamper policy scored 0")
    with Gradebook(db_url) as gb:
        for g in outcome["computed"]:
            grade = gb.find_grade(g["name"], g["notebook"], assignment, student)
            grade.auto_score = g["auto_score"]
            grade.needs_manual_grade = bool(g["needs_manual_grade"]) or grade.manual_score is not None
        for c in outcome["comments"]:
            gb.find_comment(c["name"], c["notebook"], assignment, student).auto_comment = c["auto_comment"]
        for nb in gb.find_submission(assignment, student).notebooks:
            nb.flagged = False
        gb.db.commit()
    records.save_outcome(store.db, student, assignment, outcome["evidence"], outcome["computed"],
                         outcome["comments"], "restored")
    prev = records.load_records(store.db, assignment).get(student)
    result = SubmissionResult(student, assignment, True, evidence=outcome["evidence"],
                              policy=_policy_words({**outcome, "policy": "restored"}),
                              flags=prev["flags"] if prev else [], problems=prev["problems"] if prev else [])
    store.scores([result])
    if prev:
        records.save_record(store.db, student, assignment, prev["checksum"], result.status, result.score,
                            result.max_score, result.problems, result.flags)
    if (root / "autograded" / student / assignment).exists():
        api.generate_feedback(assignment, student, force=True)
    return result
