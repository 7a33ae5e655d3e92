"""Grading a tiny lesson: resource abuse by name, resumable reruns, Ctrl-C, and a Dask cluster."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from mi_tutor.course.autograde import grade_class
from mi_tutor.course.cohort import solution_submission, wrong_submission, write_submission
from mi_tutor.course.grading.records import integrity_ok
from mi_tutor.course.lessons import read_lesson
from mi_tutor.course.nbgrader_course import init_course
from test_autograde import TINY

A = "01_tiny"
FAST = {"cell_timeout": 60, "submission_timeout": 150}


@pytest.fixture
def course(tmp_path):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{A}.py").write_text(TINY)
    root = tmp_path / "course"
    [release_path] = init_course(root, tmp_path / "solutions")
    release = nbformat.read(release_path, as_version=4)
    solved = solution_submission(release, read_lesson(tmp_path / "solutions" / f"{A}.py"))
    return root, release, solved


def _sub(solved, code: str):
    return wrong_submission(solved, {"ex1_1_solution": code})


@pytest.mark.slow
def test_resource_abuse_is_reported_by_name_and_others_graded(course):
    root, release, solved = course
    write_submission(root, "alice", A, solved)
    write_submission(root, "stubborn", A, _sub(solved, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                                       "while True:\n    pass\n"))
    write_submission(root, "greedy", A, _sub(solved, "big = bytearray(10 * 2**30)\ndef double(x):\n    return 2 * x\n"))
    write_submission(root, "quitter", A, _sub(solved, "import os\nos._exit(3)\n"))
    huge = write_submission(root, "huge", A, solved)
    nb = json.loads(huge.read_text())
    nb["metadata"]["padding"] = "x" * (100 << 20)
    huge.write_text(json.dumps(nb))
    link = root / "submitted" / "linker" / A
    link.mkdir(parents=True)
    (link / f"{A}.ipynb").symlink_to(root / "source" / A / f"{A}.ipynb")  # would be the solutions
    run = grade_class(root, A, jobs=2, limits=FAST)
    res = {r.student: r for r in run.results}
    assert res["alice"].score == 3 and res["alice"].graded
    # the interrupt is ignored: nbgrader gives up on it (or the submission limit kills it)
    assert not res["stubborn"].graded and res["stubborn"].score == 0 and "timeout" in res["stubborn"].problems[0]
    assert res["greedy"].score == 0 and any("memory" in p for p in res["greedy"].problems), res["greedy"]
    assert res["quitter"].score == 0 and any("kernel died" in p for p in res["quitter"].problems)
    assert "100 MB" in res["huge"].problems[0] and not res["huge"].graded
    assert "symbolic link" in res["linker"].problems[0] and not res["linker"].graded
    assert integrity_ok(root / "gradebook.db") == (True, "ok")


@pytest.mark.slow
def test_rerun_grades_only_what_changed_and_survives_ctrl_c(course):
    root, release, solved = course
    for s in ("s1", "s2", "s3"):
        write_submission(root, s, A, solved)
    cmd = [sys.executable, "-m", "mi_tutor.course.cli", "autograde", str(root), A, "--jobs", "1", "--no-progress",
           "--no-feedback", "--cell-timeout", "60"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    db = root / "gradebook.db"
    deadline = time.time() + 300
    while time.time() < deadline and _recorded(db) < 1:
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)  # Ctrl-C after the first submission is written
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, out
    first = _recorded(db)
    assert 1 <= first < 3 and integrity_ok(db) == (True, "ok")

    run = grade_class(root, A, jobs=2, limits=FAST, feedback=False)
    res = {r.student: r for r in run.results}
    assert sum(r.reused for r in run.results) == first and all(r.score == 3 for r in res.values())
    # change one submission: only it is regraded
    write_submission(root, "s2", A, release)
    again = {r.student: r for r in grade_class(root, A, jobs=2, limits=FAST, feedback=False).results}
    assert [s for s, r in again.items() if not r.reused] == ["s2"] and again["s2"].score == 0
    assert again["s1"].score == 3
    assert integrity_ok(db) == (True, "ok")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    listed = subprocess.run([str(nbgrader), "db", "student", "list"], cwd=root, capture_output=True, text=True)
    assert listed.returncode == 0 and "s3" in listed.stdout + listed.stderr


def _recorded(db: Path) -> int:
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM mi_tutor_grading").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_dask_cluster_grades_like_local(course):
    from distributed import LocalCluster

    root, release, solved = course
    write_submission(root, "alice", A, solved)
    write_submission(root, "erin", A, release)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = grade_class(root, A, scheduler=cluster.scheduler_address, limits=FAST)
    res = {r.student: r for r in run.results}
    assert res["alice"].score == 3 and res["erin"].score == 0
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "alice").score == 3
    assert (root / "feedback" / "alice" / A / f"{A}.html").exists()
