"""Grading a tiny lesson: resource abuse, reruns, Ctrl-C, Dask; hidden-test routes, tampering, the class report."""

from __future__ import annotations

import json
import os
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
# Limits a tiny submission meets many times over (it grades in about 5 s); the looping students wait them out.
FAST = {"cell_timeout": 30, "submission_timeout": 60}
# The tests of one graded class share it: xdist (``--dist loadgroup``) runs them on one worker, so it is graded once.
ONE_WORKER = pytest.mark.xdist_group("secret_class")


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
    # Ctrl-C as in a terminal: an xdist worker ignores SIGINT, and a child would inherit that
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
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
def test_dask_cluster_grades_like_local(course, monkeypatch):
    """The same command on a Dask cluster; its workers start each grading process cold (the local tests
    fork them from the warm starter), and grade exactly alike, tamper checks and policy included."""
    from distributed import LocalCluster

    monkeypatch.setenv("MI_TUTOR_WARM_GRADER", "0")
    root, release, solved = course
    write_submission(root, "alice", A, solved)
    write_submission(root, "erin", A, release)
    write_submission(root, "equalizer", A, _sub(solved, TAMPER["equalizer"]))
    write_submission(root, "hider", A, _sub(solved, TAMPER["hider"]))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        run = grade_class(root, A, scheduler=cluster.scheduler_address, limits=FAST)
    res = {r.student: r for r in run.results}
    assert res["alice"].score == 3 and res["erin"].score == 0
    # the tamper checks run on the cluster too: evidence, and the policy's zero in the gradebook
    assert res["equalizer"].score == 0 and any("equal to anything" in e for e in res["equalizer"].evidence)
    assert res["hider"].score == 0 and any("custom exception handler" in e for e in res["hider"].evidence)
    assert not res["alice"].evidence and not res["erin"].evidence
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "alice").score == 3
        for student in ("equalizer", "hider"):
            assert gb.find_submission(A, student).score == 0
            assert "grading policy" in gb.find_comment("ex1_1_solution", A, A, student).comment
    assert (root / "feedback" / "alice" / A / f"{A}.html").exists()


# ------------------------------------------------------------------------------------------------
# One graded class of a tiny lesson whose hidden test holds a secret: every route to it, tampering
# and its policy, duplicated cells, state between students, the class report.

SECRET = "zebra4217"
#: A second exercise (1 visible point, 1 hidden), after the first one's tests: what tampering does to the cells it concerns.
EXERCISE_2 = """
# %% [markdown]
# ### Exercise 1.2: triple it
# **Difficulty:** ★☆☆☆☆
#
# <details><summary>Hint</summary>
#
# Three times the number.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_2_solution", "locked": false, "schema_version": 3, "solution": true}
def triple(x):
    ### BEGIN SOLUTION
    return 3 * x
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex1_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
assert triple(2) == 6

# %% nbgrader={"grade": true, "grade_id": "ex1_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# negative inputs: a sign mistake shows here
assert triple(-1) == -3, "triple must handle negative numbers"
### END HIDDEN TESTS
"""
SECRET_TINY = TINY.replace('# negative inputs: a sign mistake shows here\nassert double(-3) == -6,',
                           f'# {SECRET}: negative inputs, a sign mistake shows here\nassert double(-21) == -42,')
SECRET_TINY = SECRET_TINY.replace('\n# %% [markdown] nbgrader={"grade": true, "grade_id": "written1_1"',
                                  EXERCISE_2 + '\n# %% [markdown] nbgrader={"grade": true, "grade_id": "written1_1"')
assert SECRET in SECRET_TINY and "ex1_2_visible" in SECRET_TINY
FULL = 5  # autograded points of SECRET_TINY: 1 + 2 for exercise 1.1, 1 + 1 for exercise 1.2

#: Everything a student's code can reach while it runs, captured, printed, raised and kept for later.
STASH = r'''
import sys, os, inspect, linecache
from IPython.display import display, update_display
display("placeholder", display_id="leakdisplay")  # an earlier output the hidden phase would rewrite
STASH = []
def double(x):
    ip = get_ipython()
    bits = [repr(list(ip.user_ns.get("In", []))), repr(ip.user_ns.get("_ih")), repr(dict(linecache.cache))[:50000],
            repr(ip.history_manager.input_hist_raw), repr(sorted(ip.user_ns))]
    f = sys._getframe(1)
    while f is not None:
        bits.append(repr(f.f_code.co_consts) + repr(f.f_code.co_names) + repr(list(f.f_locals.items()))[:5000])
        f = f.f_back
    try:
        bits.append(repr([fr.code_context for fr in inspect.stack()]))
    except Exception as err:
        bits.append(repr(err))
    harness = sys.modules.get("mi_tutor.course.grading.harness")
    bits.append(repr(getattr(harness, "_S", None))[:50000])
    STASH.append(" ".join(bits))
    print("PRINTED", STASH[-1])
    update_display("UPDATED " + STASH[-1], display_id="leakdisplay")
    open("stash.txt", "a").write(STASH[-1])
    if x < 0:
        raise AssertionError("RAISED " + " ".join(STASH))
    return 2 * x
'''
STASH_END = ('print("END", STASH, In, _ih)\nimport os\nprint("FILE", open("stash.txt").read() if os.path.exists('
             '"stash.txt") else "")\nprint("HARNESS", sys.modules.get("mi_tutor.course.grading.harness").__dict__)\n')
FILES = r'''
import os
FOUND = []
for base in [os.getcwd(), os.path.dirname(os.getcwd()), os.path.dirname(os.path.dirname(os.getcwd())), "/tmp",
             os.path.expanduser("~")]:
    for dirpath, dirs, files in os.walk(base):
        for name in files:
            try:
                text = open(os.path.join(dirpath, name), errors="ignore").read()
            except OSError:
                continue
            if "zebra" + "4217" in text or "double(-" + "21)" in text:
                FOUND.append(os.path.join(dirpath, name))
print("FILES", FOUND, os.getcwd(), sorted(os.listdir(".")))
def double(x):
    return 2 * x
'''
TAMPER = {
    # every later cell becomes `pass`: the tests could not fail
    "blanker": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\ndef double(x):\n    return x\n",
    # an object equal to anything passes `==`
    "equalizer": "class A:\n    def __eq__(self, other):\n        return True\ndef double(x):\n    return A()\n",
    # errors are swallowed: a failing test would look like a passing one
    "hider": "get_ipython().set_custom_exc((Exception,), lambda *a, **k: None)\ndef double(x):\n    return x\n",
}
#: Tampers with the kernel in exercise 1.2 only: exercise 1.1's visible test was graded on an intact kernel.
LATE = "import builtins\nbuiltins.abs = lambda x: x\ndef triple(x):\n    return 3 * x\n"
A_SETS = ("import builtins, os\nbuiltins.LEAK_FROM_A = 1\nos.environ['LEAK_A'] = '1'\nA_GLOBAL = 1\n"
          "open('/tmp/leak_a.txt', 'w').write('a')\ndef double(x):\n    return 2 * x\n")
B_READS = ("import builtins, os\nprint('LEAKS', hasattr(builtins, 'LEAK_FROM_A'), os.environ.get('LEAK_A'), "
           "os.path.exists('/tmp/leak_a.txt'), 'A_GLOBAL' in globals())\ndef double(x):\n    return 2 * x\n")


def _added_cell_at_end(nb, code: str):
    nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    nb.cells.append(nbformat.v4.new_code_cell(code))
    return nb


def _duplicated(nb, grade_id: str):
    nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    i = next(k for k, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[i])))
    copy["id"] = "copy-of-" + str(nb.cells[i].get("id", "x"))
    nb.cells.insert(i + 1, copy)
    return nb


@pytest.fixture(scope="module")
def secret_class(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secret")
    (tmp / "solutions").mkdir()
    (tmp / "solutions" / f"{A}.py").write_text(SECRET_TINY)
    root = tmp / "course"
    [release_path] = init_course(root, tmp / "solutions")
    release = nbformat.read(release_path, as_version=4)
    solved = solution_submission(release, read_lesson(tmp / "solutions" / f"{A}.py"))
    write_submission(root, "honest", A, solved)
    write_submission(root, "files", A, _sub(solved, FILES))
    write_submission(root, "stasher", A, _added_cell_at_end(_sub(solved, STASH), STASH_END))
    for name, code in TAMPER.items():
        write_submission(root, name, A, _sub(solved, code))
    write_submission(root, "late", A, wrong_submission(solved, {"ex1_2_solution": LATE}))
    write_submission(root, "duplicator", A, _duplicated(_duplicated(solved, "ex1_1_solution"), "ex1_1_visible"))
    write_submission(root, "aa_setter", A, _sub(solved, A_SETS))
    write_submission(root, "zz_reader", A, _sub(solved, B_READS))
    (write_submission(root, "badjson", A, solved)).write_text('{"cells": [ not json')
    run = grade_class(root, A, jobs=2, limits=FAST)
    return root, run, {r.student: r for r in run.results}


def _visible_to(root: Path, student: str) -> str:
    """What the student gets back: the feedback page, and every output of the autograded notebook."""
    fb = (root / "feedback" / student / A / f"{A}.html").read_text()
    nb = json.loads((root / "autograded" / student / A / f"{A}.ipynb").read_text())
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    return fb + outputs


@pytest.mark.slow
@ONE_WORKER
def test_no_route_carries_hidden_test_source_back(secret_class):
    root, run, res = secret_class
    assert res["honest"].score == FULL and res["honest"].status == "graded", res["honest"]
    for student in ("honest", "files", "stasher"):
        seen = _visible_to(root, student)
        assert SECRET not in seen and "double(-21)" not in seen and "== -42" not in seen, (student, seen[-3000:])
    # the routes were really tried: the student's code ran, printed, raised, kept its stash
    stasher = _visible_to(root, "stasher")
    assert "PRINTED" in stasher and "END" in stasher and "FILE" in stasher and "HARNESS" in stasher
    assert "UPDATED" in stasher  # the display was rewritten while the visible test ran, not after
    files = _visible_to(root, "files")
    assert "FILES []" in files
    # the hidden test of the stasher ran and failed; its feedback says so in the grader's words, not the student's
    assert res["stasher"].score == FULL - 2 and "RAISED [" not in stasher
    nb = json.loads((root / "autograded" / "stasher" / A / f"{A}.ipynb").read_text())
    [hidden] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_1_hidden"]
    assert [o["output_type"] for o in hidden["outputs"]] == ["error"], hidden["outputs"]
    assert hidden["outputs"][0]["evalue"] == "the hidden test raised AssertionError", hidden["outputs"]
    assert not res["stasher"].evidence and res["stasher"].problems == [
        "1 code cell(s) added or edited outside the answer cells: they ran as ordinary code (they earn no points)"]
    # a hidden test that fails on its own says the instructor's message
    nb = json.loads((root / "autograded" / "hider" / A / f"{A}.ipynb").read_text())
    [hidden] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_1_hidden"]
    assert hidden["outputs"][0]["evalue"] == "double must handle negative numbers", hidden["outputs"]


@pytest.mark.slow
@ONE_WORKER
def test_tampering_scores_zero_in_the_gradebook_with_the_reason(secret_class):
    """Evidence zeroes the cells it concerns, in nbgrader's gradebook, with the reason as a comment nbgrader
    shows: a compromised kernel every cell graded after the grader last found it intact, an object equal to
    anything its exercise's tests. The static scan's findings alone change no score."""
    root, run, res = secret_class
    gb_url = f"sqlite:///{root / 'gradebook.db'}"

    def scores(gb, student):
        return {g.name: g.score for g in gb.find_submission_notebook(A, A, student).grades if g.name != "written1_1"}

    with Gradebook(gb_url) as gb:
        # the kernel compromised in exercise 1.1 (every later cell blanked, errors hidden): nothing graded after
        compromised = {"blanker": "did not run the grader's cell as sent", "hider": "custom exception handler"}
        for student, why in compromised.items():
            r = res[student]
            assert r.status == "flagged" and r.score == 0 and any(why in e for e in r.evidence), (r.problems, r)
            assert set(scores(gb, student).values()) == {0}
            assert all(nb.flagged for nb in gb.find_submission(A, student).notebooks)
            comment = gb.find_comment("ex1_1_solution", A, A, student).comment
            assert "grading policy" in comment and why in comment and "ex1_1_visible" in comment, comment
            assert "grading policy" in gb.find_comment("ex1_2_solution", A, A, student).comment
            assert "grading policy" in (root / "feedback" / student / A / f"{A}.html").read_text()
        # exercise 1.1 returned an object equal to anything: its tests score 0, exercise 1.2 keeps its points
        eq = res["equalizer"]
        assert eq.score == 2 and any("compares equal to anything" in e for e in eq.evidence), eq
        assert scores(gb, "equalizer") == {"ex1_1_visible": 0, "ex1_1_hidden": 0, "ex1_2_visible": 1,
                                           "ex1_2_hidden": 1}
        assert "compares equal to anything" in gb.find_comment("ex1_1_solution", A, A, "equalizer").comment
        assert gb.find_comment("ex1_2_solution", A, A, "equalizer").comment is None
        # a builtin rebound in exercise 1.2: exercise 1.1's visible test ran on an intact kernel and keeps its point
        late = res["late"]
        assert late.score == 1 and any("builtin abs was rebound" in e for e in late.evidence), late
        assert scores(gb, "late") == {"ex1_1_visible": 1, "ex1_1_hidden": 0, "ex1_2_visible": 0, "ex1_2_hidden": 0}
        assert "ex1_2_visible" in gb.find_comment("ex1_2_solution", A, A, "late").comment
        assert "ex1_1_hidden" in gb.find_comment("ex1_1_solution", A, A, "late").comment
        assert "ex1_2_visible" in late.policy and "scored 0" in late.policy, late.policy
        # the scan flagged the stasher (get_ipython, frames): listed for review, its score untouched
        st = res["stasher"]
        assert st.flags and not st.evidence and st.status == "flagged" and st.score == FULL - 2, st
        assert gb.find_submission(A, "stasher").score == FULL - 2
        assert gb.find_comment("ex1_1_solution", A, A, "stasher").comment is None
        assert gb.find_submission(A, "honest").score == FULL
    # the points come back after review (the equalizer's visible test passed while grading)
    from mi_tutor.course.autograde import restore_after_review

    back = restore_after_review(root, A, "equalizer")
    assert back.score == 3 and "restored" in back.policy
    with Gradebook(gb_url) as gb:
        assert gb.find_submission(A, "equalizer").score == 3
        assert "grading policy" not in (gb.find_comment("ex1_1_solution", A, A, "equalizer").comment or "")
    with pytest.raises(ValueError, match="honest"):
        restore_after_review(root, A, "honest")


@pytest.mark.slow
@ONE_WORKER
def test_duplicated_cells_are_graded_and_said(secret_class):
    _, _, res = secret_class
    r = res["duplicator"]
    assert r.graded and r.score == FULL, r
    assert any("ex1_1_solution appears 2 times" in p and "last copy is graded" in p for p in r.problems), r.problems
    assert any("ex1_1_visible appears 2 times" in p for p in r.problems), r.problems


@pytest.mark.slow
@ONE_WORKER
def test_one_students_state_never_reaches_another(secret_class):
    from mi_tutor.course.grading import worker

    root, _, res = secret_class
    assert worker._STARTER is not None  # both were forked from the same warm starter
    assert res["aa_setter"].score == FULL and res["zz_reader"].score == FULL
    nb = json.loads((root / "autograded" / "zz_reader" / A / f"{A}.ipynb").read_text())
    printed = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    assert "LEAKS False None False False\n" in printed, printed


@pytest.mark.slow
@ONE_WORKER
def test_each_submission_says_where_its_grading_time_went(secret_class):
    _, _, res = secret_class
    phases = res["honest"].phases
    wanted = {"kernel_start", "student_cells", "grader:install", "grader:keep", "grader:audit", "grader:hidden",
              "grader:selftest", "grader:canaries", "total", "nbgrader_autograde", "nbgrader_feedback"}
    assert wanted <= set(phases), sorted(wanted - set(phases))
    assert all(v > 0 for v in phases.values()), phases
    in_kernel = sum(v for k, v in phases.items() if k.startswith("grader:")) + phases["student_cells"]
    assert in_kernel <= phases["total"] <= phases["nbgrader_autograde"] <= res["honest"].seconds, phases


@pytest.mark.slow
@ONE_WORKER
def test_class_report_from_the_graded_class(secret_class, tmp_path):
    import csv

    from mi_tutor.course.grading.report import write_class_report

    root, run, res = secret_class
    html_path, csv_path = write_class_report(root, run.results, tmp_path / "r.html", tmp_path / "r.csv")
    page = html_path.read_text()
    assert "data:image/png;base64," in page and "ex1_1" in page
    assert "badjson" in page and "not valid notebook JSON" in page
    assert "equalizer" in page and "compares equal to anything" in page
    rows = list(csv.DictReader(csv_path.open()))
    failures = [r for r in rows if r["section"] == "failure" and r["item"] == "ex1_1_hidden"]
    assert failures and sum(int(r["count"]) for r in failures) >= 4, failures
    assert {r["item"] for r in rows if r["section"] == "flagged"} >= set(TAMPER)
    assert [r["item"] for r in rows if r["section"] == "failed"] == ["badjson"]
    scores = [r for r in rows if r["section"] == "score" and r["item"] == "ex1_1"]
    assert len(scores) == len([r for r in run.results if r.graded])


#: Unsandboxed, what is per process must still not pass between students (files outside the kernel's own
#: empty working folder can: unsandboxed code runs with the grader's rights, as the guide says).
A_SETS_UNSANDBOXED = ("import builtins, os\nbuiltins.LEAK_FROM_A = 1\nos.environ['LEAK_A'] = '1'\nA_GLOBAL = 1\n"
                      "open('leak_a.txt', 'w').write('a')\ndef double(x):\n    return 2 * x\n")
B_READS_UNSANDBOXED = B_READS.replace("'/tmp/leak_a.txt'", "'leak_a.txt'")


def _path_without_bwrap(folder: Path) -> str:
    """A PATH with every tool of this one except bubblewrap: a machine where it is not installed."""
    folder.mkdir()
    for d in os.environ["PATH"].split(os.pathsep):
        for tool in sorted(Path(d).glob("*")) if Path(d).is_dir() else []:
            if tool.name != "bwrap" and not (folder / tool.name).exists():
                (folder / tool.name).symlink_to(tool)
    return str(folder)


@pytest.mark.slow
def test_unsandboxed_is_an_explicit_choice_and_ends_every_process(course, tmp_path):
    """The real command on a PATH without bwrap: the sandbox's own detection finds none, grading refuses
    without the flag; with it, every process a submission started (detached too) ends with its grading and
    no student's state reaches the next one."""
    root, release, solved = course
    spawner = ("import subprocess\nfor _ in range(20):\n    subprocess.Popen(['sleep', '4321'], start_new_session=True)\n"
               "subprocess.Popen(['sh', '-c', '(setsid sleep 4321 &) ; exit 0'])\ndef double(x):\n    return 2 * x\n")
    write_submission(root, "spawner", A, _sub(solved, spawner))
    write_submission(root, "aa_setter", A, _sub(solved, A_SETS_UNSANDBOXED))
    write_submission(root, "zz_reader", A, _sub(solved, B_READS_UNSANDBOXED))
    env = dict(os.environ, PATH=_path_without_bwrap(tmp_path / "bin"))
    cmd = [sys.executable, "-m", "mi_tutor.course.cli", "autograde", str(root), A, "--jobs", "1", "--no-progress",
           "--no-feedback", "--cell-timeout", "60"]
    refused = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode != 0 and "bubblewrap (bwrap) is not installed" in refused.stderr, refused
    assert "--run-student-code-unsandboxed" in refused.stderr and not (root / "autograded").exists()
    graded = subprocess.run(cmd + ["--run-student-code-unsandboxed"], capture_output=True, text=True, env=env,
                            timeout=600)
    assert graded.returncode == 0 and "UNISOLATED" in graded.stdout, graded.stdout + graded.stderr
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert [gb.find_submission(A, s).score for s in ("spawner", "aa_setter", "zz_reader")] == [3, 3, 3]
    time.sleep(1)
    left = [p for p in Path("/proc").glob("[0-9]*/cmdline") if p.exists() and _cmd(p) == b"sleep\x004321\x00"]
    assert not left, f"{len(left)} processes outlived the grading of their submission"
    assert "process(es) the submission started were still running after its grading: ended" in graded.stdout
    nb = json.loads((root / "autograded" / "zz_reader" / A / f"{A}.ipynb").read_text())
    printed = ["".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])]
    assert "LEAKS False None False False\n" in printed, printed


def _cmd(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError:
        return b""
