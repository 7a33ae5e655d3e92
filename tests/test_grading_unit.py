"""Fast checks of the grading machinery: trick scanner, limits, bad input, records, the sandbox itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import LESSONS, ROOT
from mi_tutor.course.feedback import HideHiddenTests
from mi_tutor.course.grading import records
from mi_tutor.course.grading.coordinator import diagnose_submission
from mi_tutor.course.grading.limits import LESSON_SECONDS, lesson_limits, lesson_seconds
from mi_tutor.device import thread_share
from mi_tutor.course.grading.sandbox import SandboxConfig, sandbox_available, sandbox_prefix
from mi_tutor.course.grading.tricks import reference_names, scan_cell, scan_submission
from mi_tutor.course.lessons import read_lesson, student_version

IMPORTED = {"checks", "torch", "nn", "np", "run_with_cache", "run_with_hooks", "plt"}
REFS = reference_names("mi_tutor.checks.lesson01")

TRICKS = {
    "patch a check": "checks.check_capture_activations = lambda *a, **k: None",
    "patch a comparison helper": "import mi_tutor.checks.core as core\ncore.expect_close = lambda *a, **k: None",
    "patch numpy": "np.allclose = lambda *a, **k: True",
    "rebind AssertionError": "AssertionError = type('Nope', (Exception,), {})",
    "patch builtins": "import builtins\nbuiltins.isinstance = lambda *a: True",
    "input transformer": "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])",
    "hide errors": "ip = get_ipython()\nip.set_custom_exc((Exception,), lambda *a, **k: None)",
    "sys.exit": "import sys\nsys.exit(0)",
    "os._exit": "import os\nos._exit(0)",
    "read the gradebook": "data = open('../../../gradebook.db', 'rb').read()",
    "read the hidden tests from the stack": "import inspect\ndef f(x):\n    return inspect.stack()[1].code_context",
    "frames": "import sys\ndef f(x):\n    return sys._getframe(1).f_globals",
    "equal to anything": "class A:\n    def __eq__(self, other):\n        return True",
    "exec": "exec('checks.x = 1')",
    "shell": "!cat /etc/passwd",
    "subprocess": "import subprocess\nsubprocess.Popen(['sleep', '100'])",
    "delegate by import": "from mi_tutor.patching import channel_logit_drops as ref\n"
                          "def channel_importance(model, images, labels, layer):\n"
                          "    return ref(model, images, labels, layer)",
    "delegate to an imported reference": "def capture_activations(model, x, names):\n"
                                         "    return run_with_cache(model, x, names)[1]",
    "rebind the checks": "checks = None",
    "patch with setattr": "setattr(checks, 'check_capture_activations', print)",
    "gc referrers": "import gc\nx = gc.get_referrers(checks)",
}


@pytest.mark.parametrize("name", list(TRICKS))
def test_every_trick_is_flagged(name):
    assert scan_cell(TRICKS[name], IMPORTED, REFS), name


def test_honest_code_is_not_flagged():
    honest = [
        "def double(x):\n    return 2 * x",
        "def f(model, x):\n    out = torch.stack([model(x)])\n    activation = x.clone()\n"
        "    activation[:, 0] = 0.0\n    return out, activation",
        "def zero_channel_hook(c):\n    def hook_fn(a, hook):\n        a = a.clone()\n        a[:, c] = 0\n"
        "        return a\n    return hook_fn",
        "%timeit 1 + 1\nx = sorted([3, 1])",
        "def table(model):\n    return [(n, sum(p.numel() for p in m.parameters())) for n, m in model.named_modules()]",
    ]
    for code in honest:
        assert scan_cell(code, IMPORTED, REFS) == [], code


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_reference_solutions_are_never_flagged(lesson):
    """Every instructor solution, typed into the student notebook, scans clean."""
    from mi_tutor.course.cohort import solution_submission

    source = read_lesson(lesson.path)
    release = student_version(source)
    solved = solution_submission(release, source)
    as_json = [json.loads(nbformat.writes(nb)) for nb in (solved, release, source)]
    assert scan_submission(*as_json) == []


def test_reference_names_are_what_the_checks_compare_against():
    assert REFS["channel_logit_drops"] == "mi_tutor.patching.channels" and REFS["run_with_cache"] == "mi_tutor.hooks"
    assert "expect_close" not in REFS and "ConvNet" not in REFS


def test_limits_follow_the_lesson_and_overrides(tmp_path):
    bench = tmp_path / "lessons.json"
    bench.write_text(json.dumps({"latest": {"lessons": [{"lesson": "01_x", "seconds": 50.0}]}}))
    lim = lesson_limits("01_x", bench_file=bench)
    assert lim.cell_timeout == 200 and lim.submission_timeout == 400 + 200 and lim.reference_seconds == 50
    assert lesson_limits("01_x", bench_file=bench, load_factor=2).cell_timeout == 400
    (tmp_path / "grading.json").write_text(json.dumps({"memory_gb": 2, "lessons": {"01_x": {"cell_timeout": 30}}}))
    lim = lesson_limits("01_x", tmp_path, bench_file=bench)
    assert lim.cell_timeout == 30 and lim.memory_gb == 2
    assert lesson_limits("01_x", tmp_path, {"cell_timeout": 7}, bench_file=bench).cell_timeout == 7
    with pytest.raises(ValueError, match="cell_timeot"):
        lesson_limits("01_x", overrides={"cell_timeot": 3}, bench_file=bench)
    with pytest.raises(ValueError, match="memory_gb"):
        lesson_limits("01_x", overrides={"memory_gb": -1}, bench_file=bench)
    assert thread_share(2, cores=2) == 1 and thread_share(1, cores=2) == 2 and thread_share(3, cores=2) == 1


def test_bad_input_is_named(tmp_path):
    a = "01_x"
    good = tmp_path / "good" / a
    good.mkdir(parents=True)
    (good / f"{a}.ipynb").write_text(json.dumps({"cells": []}))
    assert diagnose_submission(good, a) == []
    cases = {}
    for name in ("json", "renamed", "symlink", "huge"):
        (tmp_path / name / a).mkdir(parents=True)
        cases[name] = tmp_path / name / a
    (cases["json"] / f"{a}.ipynb").write_text("{not json")
    (cases["renamed"] / f"{a}-Copy1.ipynb").write_text("{}")
    (cases["symlink"] / f"{a}.ipynb").symlink_to(good / f"{a}.ipynb")
    with (cases["huge"] / f"{a}.ipynb").open("wb") as f:
        f.truncate(100 << 20)  # a sparse 100 MB file: never read
    assert "not valid notebook JSON" in diagnose_submission(cases["json"], a)[0]
    assert "01_x-Copy1.ipynb" in diagnose_submission(cases["renamed"], a)[0]
    assert "symbolic link" in diagnose_submission(cases["symlink"], a)[0]
    assert "100 MB" in diagnose_submission(cases["huge"], a)[0]


def test_records_and_checksums(tmp_path):
    db = tmp_path / "g.db"
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.ipynb").write_text("1")
    c1 = records.submission_checksum(folder)
    (folder / "a.ipynb").write_text("2")
    assert records.submission_checksum(folder) != c1
    records.save_record(db, "bob", "a", c1, "graded", 3.0, 4.0, ["p"], ["f"])
    assert records.load_records(db, "a")["bob"]["flags"] == ["f"]
    assert records.integrity_ok(db) == (True, "ok")


def test_feedback_never_shows_hidden_test_text():
    cell = nbformat.v4.new_code_cell("### BEGIN HIDDEN TESTS\n# probes a secret case\n"
                                     "checks.check_thing(f, seed=12345)\n### END HIDDEN TESTS\n")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="captured: checks.check_thing(f, seed=12345)"),
                    nbformat.v4.new_output("error", ename="CheckFailure",
                                           evalue="wrong\nI saw (f, seed=12345)", traceback=["tb seed=12345"])]
    out, _ = HideHiddenTests().preprocess_cell(cell, {}, 0)
    text = json.dumps(out)
    assert "12345" not in text and "wrong" in text and "not shown" in text


@pytest.mark.skipif(not sandbox_available()[0], reason="bubblewrap cannot run here: " + sandbox_available()[1])
def test_sandbox_confines_a_process(tmp_path):
    """Inside: no course files, no home, no network, read-only package, unprivileged, limited; nothing outlives."""
    work = tmp_path / "work"
    work.mkdir()
    os.chmod(work, 0o777)
    secret = tmp_path / "gradebook.db"
    secret.write_text("secret")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    probe = f"""
import os, socket, resource, subprocess
print("uid", os.getuid())
for p in [{str(secret)!r}, {str(ROOT / 'solutions')!r}, "/root", {str(Path.home())!r}]:
    print(p, os.path.exists(p) and bool(os.listdir(p) if os.path.isdir(p) else True))
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2); print("net open")
except OSError:
    print("net closed")
try:
    open({str(Path(__file__).resolve().parents[1] / 'mi_tutor' / '__init__.py')!r}, "a"); print("package writable")
except OSError:
    print("package read-only")
open("out.txt", "w").write("ok")
print("as", resource.getrlimit(resource.RLIMIT_AS)[0])
subprocess.Popen(["sleep", "4243"], start_new_session=True)
"""
    cfg = SandboxConfig(writable=[str(work)], memory_bytes=3 << 30)
    out = subprocess.run(sandbox_prefix(cfg) + [sys.executable, "-c", probe], cwd=work, capture_output=True,
                         text=True, timeout=120)
    server.close()
    text = out.stdout
    assert out.returncode == 0, out.stderr
    assert "uid 0" not in text if os.geteuid() == 0 else True
    assert f"{secret} False" in text and f"{ROOT / 'solutions'} False" in text, text
    assert "net closed" in text and "package read-only" in text and f"as {3 << 30}" in text, text
    assert (work / "out.txt").read_text() == "ok"
    assert not _running("sleep 4243"), "a process outlived its sandbox"


def _running(cmdline: str) -> bool:
    for p in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if p.read_bytes().replace(b"\0", b" ").strip().decode(errors="replace") == cmdline:
                return True
        except OSError:
            continue
    return False


def test_delegation_is_flagged_even_where_the_exercise_has_the_same_name():
    """The instructor's cell defines channel_importance; that does not allow importing the package's reference."""
    allowed = {"torch", "run_with_hooks", "capture_activations", "zero_channel_hook", "stack", "no_grad"}
    flags = scan_cell(TRICKS["delegate by import"], IMPORTED, REFS, allowed)
    assert any("reference implementation" in f for f in flags), flags
    assert any("expect_close" in f for f in scan_cell(TRICKS["patch a comparison helper"], IMPORTED, REFS)), REFS


#: Everyday habits of honest students: none may get a submission flagged.
HONEST_HABITS = {
    "import os to make a folder": "import os\nos.makedirs('figures', exist_ok=True)",
    "reload a module after editing it": "import importlib\nimport math\nimportlib.reload(math)",
    "write notes with open()": "with open('notes.txt', 'w') as f:\n    f.write('remember: hooks')",
    "read own notes": "import os\nif os.path.exists('notes.txt'):\n    print(open('notes.txt').read())",
    "vars() to inspect an object": "print(vars(torch.nn.Linear(2, 2)).keys())",
    "globals() to check a name": "print('model' in globals())",
    "sys.version": "import sys\nprint(sys.version_info[:2])",
    "pathlib": "from pathlib import Path\nPath('out').mkdir(exist_ok=True)",
    "timing": "import time\nt0 = time.perf_counter()\nprint(time.perf_counter() - t0)",
    "inspect.signature": "import inspect\nprint(inspect.signature(sorted))",
    "pickle results": "import pickle\nblob = pickle.dumps({'a': 1})",
    "gc.collect": "import gc\ngc.collect()",
    "copy a model": "import copy\nm2 = copy.deepcopy(torch.nn.Linear(2, 2))",
    "random seed": "import random\nrandom.seed(0)",
    "warnings": "import warnings\nwarnings.filterwarnings('ignore')",
    "logging": "import logging\nlogging.getLogger('x').setLevel(logging.INFO)",
    "functools": "from functools import lru_cache\n@lru_cache\ndef f(n):\n    return n",
    "traceback on error": "import traceback\ntry:\n    1 / 0\nexcept ZeroDivisionError:\n    traceback.print_exc(limit=1)",
    "a variable named max": "max_items = 3\nmax = 5\nsum_ = 0",
    "a variable named id or type": "id = 3\ntype_ = 'disk'",
    "setattr on own object": "class Box:\n    pass\nb = Box()\nsetattr(b, 'x', 1)",
    "magics": "%timeit sorted([3, 1, 2])\n%matplotlib inline",
    "tempfile": "import tempfile\nd = tempfile.mkdtemp()",
    "json dump": "import json\njson.dumps({'a': 1})",
    "threading.Lock": "import threading\nlock = threading.Lock()",
    "glob": "import glob\nprint(glob.glob('*.ipynb'))",
}


def test_the_scan_flags_no_honest_habit():
    """False positives of the static scan on a class of honest lesson-1 submissions, one habit each: 0."""
    from mi_tutor.course.cohort import solution_submission

    lesson = next(lesson for lesson in LESSONS if lesson.slug == "01_hooks")
    source = read_lesson(lesson.path)
    release = student_version(source)
    flagged = {}
    for name, habit in HONEST_HABITS.items():
        solved = solution_submission(release, source)
        for c in solved.cells:
            if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_2_solution":
                c.source = habit + "\n" + c.source
        solved.cells.append(nbformat.v4.new_code_cell(habit))  # and the same habit in a cell of their own
        as_json = [json.loads(nbformat.writes(nb)) for nb in (solved, release, source)]
        flags = scan_submission(*as_json)
        if flags:
            flagged[name] = flags
    assert flagged == {}, f"{len(flagged)} of {len(HONEST_HABITS)} honest habits flagged: {flagged}"


def test_structure_reordered_added_deleted_cells_are_said_in_words():
    from mi_tutor.course.grading.structure import normalize

    def cell(gid=None, src="", kind="code"):
        md = {"nbgrader": {"grade_id": gid}} if gid else {}
        return {"cell_type": kind, "source": src, "metadata": md}

    release = {"cells": [cell("setup", "import x"), cell("a", "def f(): ..."), cell("a_test", "check(f)"),
                         cell(None, "story()"), cell("b", "def g(): ..."), cell("b_test", "check(g)")]}
    reordered = {"cells": [release["cells"][0], release["cells"][4], release["cells"][5], release["cells"][1],
                           release["cells"][2], release["cells"][3]]}
    _, notes = normalize(reordered, release)
    assert any("another order" in n and "first moved: b" in n for n in notes), notes
    deleted = {"cells": [c for c in release["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "b_test"]}
    _, notes = normalize(deleted, release)
    assert any("deleted cell(s) b_test" in n and "puts graded cells back" in n for n in notes), notes
    added = {"cells": release["cells"] + [cell(None, "print('mine')")]}
    _, notes = normalize(added, release)
    assert any("1 code cell(s) added" in n for n in notes), notes
    retyped = {"cells": [dict(c, cell_type="markdown") if c["metadata"].get("nbgrader", {}).get("grade_id") == "a"
                         else c for c in release["cells"]]}
    _, notes = normalize(retyped, release)
    assert any("cell a was changed from code to markdown" in n for n in notes), notes
    broken = {"cells": release["cells"] + [{"cell_type": "code", "source": "1", "metadata": {"nbgrader": {"x": 1}}}]}
    nb, notes = normalize(broken, release)
    assert "nbgrader" not in nb["cells"][-1]["metadata"] and any("broken grading metadata" in n for n in notes)
    assert normalize(release, release)[1] == []


def test_grading_plan_self_tests_only_pure_check_calls():
    from mi_tutor.course.grading.executor import grading_plan

    lesson = next(lesson for lesson in LESSONS if lesson.slug == "01_hooks")
    source = json.loads(nbformat.writes(read_lesson(lesson.path)))
    plan = grading_plan(source)
    assert plan["aliases"] == {"checks": "mi_tutor.checks.lesson01"}
    assert [t["grade_id"] for t in plan["selftest"]] == [f"ex1_{k}_visible" for k in range(1, 6)]
    assert plan["selftest"][0]["names"] == ["capture_activations"]
    assert all("BEGIN SOLUTION" not in r and "HIDDEN" not in r for r in plan["references"])


def _harness_lines(capsys, nonce="N0NCE"):
    out = capsys.readouterr().out
    return [json.loads(line[len(nonce):]) for line in out.splitlines() if line.startswith(nonce)]


def test_harness_self_test_audit_and_sanitised_verdicts(capsys):
    """In one IPython shell: the known-answer self-test and the audit catch a patched check; what the
    student's code raises inside a check reaches the verdict as its type only."""
    import types as _types

    from IPython.core.interactiveshell import InteractiveShell

    from mi_tutor.course.grading import harness
    from mi_tutor.checks.core import call_student, expect

    mod = _types.ModuleType("mi_tutor_fake_checks")
    mod.__file__ = __file__

    def check_double(fn, x=2):
        got = call_student("double", fn, x)
        expect(got == 2 * x, f"`double({x})` returned {got!r}, expected {2 * x}")

    mod.check_double = check_double
    sys.modules["mi_tutor_fake_checks"] = mod
    ip = InteractiveShell.instance()
    try:
        harness.install("N0NCE", ["mi_tutor_fake_checks"], {"checks": "mi_tutor_fake_checks"})
        ip.user_ns["checks"] = mod
        test = {"grade_id": "ex_visible", "code": "checks.check_double(double)\n", "names": ["double"]}
        harness.selftest("", ["def double(x):\n    return 2 * x"], [test])
        [clean] = _harness_lines(capsys)
        assert clean["data"]["evidence"] == []
        # the student's function leaks what it sees into its exception: only the type comes back
        ip.user_ns["double"] = eval("lambda x: (_ for _ in ()).throw(ValueError('SECRET seed=7'))")
        harness.keep("ex_hidden", ["double", "checks"])
        harness.run_hidden("ex_hidden", "checks.check_double(double, x=-7)  # SECRET\n")
        ip.user_ns["double"] = eval("lambda x: x")
        harness.keep("ex_hidden", ["double", "checks"])
        harness.run_hidden("ex_hidden", "checks.check_double(double, x=-7)\n")
        raised, own = _harness_lines(capsys)
        assert raised["data"]["passed"] is False and "SECRET" not in json.dumps(raised), raised
        assert "raised ValueError" in raised["data"]["message"], raised
        assert own["data"]["message"] == "`double(-7)` returned -7, expected -14", own  # the check's own message
        # a check patched to pass everything: the audit names it, the self-test says it no longer tells apart
        mod.check_double = lambda fn, x=2: None
        harness.audit("after")
        harness.selftest("", ["def double(x):\n    return 2 * x"], [test])
        audit, selftest = _harness_lines(capsys)
        assert any("check_double was replaced" in e for e in audit["data"]["evidence"]), audit
        assert any("known-wrong answer" in e for e in selftest["data"]["evidence"]), selftest
    finally:
        sys.modules.pop("mi_tutor_fake_checks", None)
        InteractiveShell.clear_instance()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.slug for lesson in LESSONS])
def test_every_check_tells_the_reference_from_a_perturbed_answer(lesson):
    """What the known-answer self-test relies on, on every lesson, without a kernel: in a clean
    namespace each visible test passes the instructor's answer and fails the perturbed one."""
    import types as _types

    from mi_tutor.course.grading.executor import grading_plan
    from mi_tutor.course.grading.harness import _wrong_version

    plan = grading_plan(json.loads(nbformat.writes(read_lesson(lesson.path))))
    ns: dict = {}
    exec(plan["setup_imports"], ns)  # noqa: S102 - the instructor's code
    for ref in plan["references"]:
        exec(ref, ns)  # noqa: S102
    assert plan["selftest"], lesson.slug
    for t in plan["selftest"]:
        exec(t["code"], dict(ns))  # noqa: S102 - must not raise
        wrong = dict(ns)
        for name in t["names"]:
            wrong[name] = _wrong_version(ns[name]) if isinstance(ns[name], _types.FunctionType) else None
        with pytest.raises(BaseException):
            exec(t["code"], wrong)  # noqa: S102


def _two_exercises() -> list[dict]:
    cells = [("setup", False, False), ("ex1_solution", True, False), ("ex1_visible", False, True),
             ("ex1_hidden", False, True), ("ex2_solution", True, False), ("ex2_visible", False, True),
             ("ex2_hidden", False, True)]
    return [{"cell_type": "code", "metadata": {"nbgrader": {"grade_id": g, "solution": s, "grade": t}}}
            for g, s, t in cells]


def test_policy_zeroes_only_the_cells_the_evidence_concerns():
    """The rule of :mod:`.policy`: evidence about one exercise zeroes its tests; evidence about the
    kernel zeroes every cell graded after the last audit that found it intact; a clean run zeroes none."""
    from mi_tutor.course.grading.policy import Ledger, answer_cells

    answer_of = answer_cells(_two_exercises())
    assert answer_of == {"ex1_visible": "ex1_solution", "ex1_hidden": "ex1_solution",
                         "ex2_visible": "ex2_solution", "ex2_hidden": "ex2_solution"}

    def run(found_after: dict[str, list[str]]) -> dict:
        ledger = Ledger(answer_of)
        for gid in ("ex1_visible", "ex2_visible"):  # the notebook, an audit after each autograded test
            ledger.graded(gid)
            if not ledger.compromised:
                ledger.checkpoint(found_after.get(gid, []))
        ledger.checkpoint(found_after.get("notebook", []))
        for gid in ("ex1_hidden", "ex2_hidden"):  # the hidden phase
            ledger.graded(gid)
        ledger.checkpoint(found_after.get("hidden", []))
        return ledger.untrusted()

    assert run({}) == {}
    # the kernel tampered with in exercise 2: exercise 1's visible test was graded on an intact kernel
    late = run({"ex2_visible": ["the builtin isinstance was rebound"]})
    assert sorted(late) == ["ex1_hidden", "ex2_hidden", "ex2_visible"]
    assert late["ex2_visible"] == ["the builtin isinstance was rebound"]
    # tampered with at once: nothing was graded on an intact kernel
    assert sorted(run({"ex1_visible": ["IPython's input_transformers_post were changed"]})) == sorted(answer_of)
    # found only at the end of the notebook (the canaries): the hidden tests
    assert sorted(run({"notebook": ["after the notebook: the kernel did not run the grader's cell as sent"]})) == [
        "ex1_hidden", "ex2_hidden"]
    # evidence about one exercise (the self-test, an object equal to anything): that exercise's tests only
    one = run({"hidden": ["ex2_visible: the check passed a known-wrong answer",
                          "ex2_hidden: `f` returned an object that compares equal to anything"]})
    assert sorted(one) == ["ex2_hidden", "ex2_visible"] and len(one["ex2_hidden"]) == 2


def test_policy_in_the_gradebook_scores_zero_and_comments_only_the_concerned_cells(tmp_path):
    """``apply_tamper_policy`` on a real nbgrader gradebook: the concerned grades are 0 and need a manual
    look, their answer cell's comment says why; the other exercise keeps its score and has no comment."""
    from nbgrader.api import Gradebook

    from mi_tutor.course.grading.worker import apply_tamper_policy

    with Gradebook(f"sqlite:///{tmp_path / 'gb.db'}") as gb:
        gb.add_assignment("a")
        gb.add_notebook("a", "a")
        for cell in _two_exercises():
            m = cell["metadata"]["nbgrader"]
            if m["grade"]:
                gb.add_grade_cell(m["grade_id"], "a", "a", max_score=1, cell_type="code")
            if m["solution"]:
                gb.add_solution_cell(m["grade_id"], "a", "a")
        gb.add_student("s")
        gb.add_submission("a", "s")
        for g in gb.find_submission_notebook("a", "a", "s").grades:
            g.auto_score = 1.0
        gb.db.commit()
        before = {g.name: bool(g.needs_manual_grade) for g in gb.find_submission_notebook("a", "a", "s").grades}
        apply_tamper_policy(gb, "a", "s", {"ex2_visible": ["the builtin len was rebound"],
                                           "ex2_hidden": ["the builtin len was rebound"]},
                            {"ex1_visible": "ex1_solution", "ex1_hidden": "ex1_solution",
                             "ex2_visible": "ex2_solution", "ex2_hidden": "ex2_solution"})
        nb = gb.find_submission_notebook("a", "a", "s")
        scores = {g.name: (g.auto_score, bool(g.needs_manual_grade)) for g in nb.grades}
        assert scores == {"ex1_visible": (1.0, before["ex1_visible"]), "ex1_hidden": (1.0, before["ex1_hidden"]),
                          "ex2_visible": (0.0, True), "ex2_hidden": (0.0, True)}, scores
        comments = {c.name: c.comment for c in nb.comments}
        assert comments["ex1_solution"] is None, comments
        assert "grading policy" in comments["ex2_solution"] and "len was rebound" in comments["ex2_solution"]
        assert "ex2_visible, ex2_hidden" in comments["ex2_solution"] and nb.flagged
        assert gb.find_submission("a", "s").score == 2


def test_grading_fails_closed_when_the_graders_cells_cannot_run(tmp_path, monkeypatch):
    """No grading without the grader's protections: plain nbgrader would run the hidden tests where
    student code can read them. A grading kernel that cannot import the harness (as where mi_tutor is not
    installed in the kernel's environment) stops the grading of the submission, with the reason."""
    import nbformat

    from mi_tutor.course.grading import executor
    from mi_tutor.course.grading.executor import PLAN_ENV, GradingExecute

    missing = "mi_tutor.course.grading.no_such_harness"
    monkeypatch.setattr(executor, "_HARNESS", missing)
    monkeypatch.setattr(executor, "_H", f"__import__('sys').modules[{missing!r}]")

    report = tmp_path / "report.json"
    (tmp_path / "cwd").mkdir()
    plan = {"nonce": "n0nce", "check_modules": [], "aliases": {},
            "setup_imports": "", "references": [], "selftest": [], "report": str(report), "cwd": str(tmp_path / "cwd")}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    monkeypatch.setenv(PLAN_ENV, str(tmp_path / "plan.json"))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("open('ran.txt', 'w').write('student code ran')")])
    with pytest.raises(RuntimeError, match="grader's own cells could not run.*no_such_harness"):
        GradingExecute(timeout=60).preprocess(nb, {"metadata": {"path": str(tmp_path / "cwd")}})
    said = json.loads(report.read_text())
    assert "no_such_harness" in said["grader_error"] and said["hidden_phase"].startswith("skipped")
    assert not (tmp_path / "cwd" / "ran.txt").exists(), "no cell may run once the grader's cells failed"


def test_lesson_times_ship_inside_the_package():
    """The grader's per-lesson time limits come from a file inside the package (an installed package
    keeps them), the same numbers as the lessons benchmark's latest run."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    assert LESSON_SECONDS.parent == root / "mi_tutor" / "course" / "grading"
    data = re.search(r"^mi_tutor = \[(.*)\]$", (root / "pyproject.toml").read_text(), re.M)  # [tool.setuptools.package-data]
    patterns = re.findall(r'"([^"]+)"', data.group(1))
    assert any(LESSON_SECONDS.relative_to(root / "mi_tutor").match(p) for p in patterns), patterns
    bench = json.loads((root / "bench" / "results" / "lessons.json").read_text())["latest"]["lessons"]
    assert {r["lesson"]: r["seconds"] for r in bench if "seconds" in r} == json.loads(LESSON_SECONDS.read_text())
    slugs = sorted(p.stem for p in (root / "solutions").glob("[0-9][0-9]_*.py"))
    assert all(lesson_seconds(s) for s in slugs), [s for s in slugs if not lesson_seconds(s)]


def test_new_gradebook_is_the_one_nbgrader_makes(tmp_path):
    # nbgrader stamps a new gradebook through an `alembic heads` subprocess; ours reads the same revision in
    # process and writes the same tables, and nbgrader opens it as one of its own (no second stamp).
    import sqlite3

    from nbgrader.api import Gradebook, get_alembic_version

    from mi_tutor.course.nbgrader_course import new_gradebook

    ours = new_gradebook(tmp_path / "ours.db")
    with Gradebook(f"sqlite:///{tmp_path / 'theirs.db'}"):
        pass
    schema = {}
    for name in ("ours", "theirs"):
        con = sqlite3.connect(tmp_path / f"{name}.db")
        schema[name] = (sorted(con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'").fetchall()),
                        con.execute("SELECT version_num FROM alembic_version").fetchall())
        con.close()
    assert schema["ours"] == schema["theirs"] and schema["ours"][1] == [(get_alembic_version(),)]
    with Gradebook(f"sqlite:///{ours}", course_id="c") as gb:
        gb.add_student("ada")
    assert new_gradebook(ours) == ours and len(sqlite3.connect(ours).execute("SELECT * FROM student").fetchall()) == 1


def test_exit_file_is_written_whole_or_not_at_all(tmp_path):
    """The warm starter's exit.json is polled by the grading thread while it is written: it appears whole
    (a half-written one read as JSON crashed a grading under load), and a folder already given up is no error."""
    from mi_tutor.course.grading.warm import _write_exit

    _write_exit(tmp_path, 3)
    assert json.loads((tmp_path / "exit.json").read_text()) == {"status": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exit.json"]
    _write_exit(tmp_path / "gone", 0)  # no exception: nobody waits for it
    assert not (tmp_path / "gone").exists()
