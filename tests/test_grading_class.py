"""A lesson-1 class of honest and hostile students, graded two at a time in the sandbox.

Hostile cases (several tricks batched per student to keep this one graded class):
patching the checks and the comparison helpers, rebinding ``AssertionError``,
an input transformer that blanks every later cell, ``os._exit``, reading the
course files and the gradebook, the network, a background process, and
delegating an exercise to the package's reference implementation. The honest
student writes with everyday habits (``import os``, ``importlib.reload``, notes
written with ``open()``, ``vars()``): never flagged, full marks.
"""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from conftest import ROOT
from mi_tutor.course.autograde import grade_class, summary_table, write_grades_csv
from mi_tutor.course.cohort import solution_submission, wrong_submission, write_submission
from mi_tutor.course.grading.records import integrity_ok
from mi_tutor.course.grading.sandbox import sandbox_available
from mi_tutor.course.lessons import read_lesson
from mi_tutor.course.nbgrader_course import init_course

SLUG = "01_hooks"
WRONG_CAPTURE = "def capture_activations(model, x, names):\n    return {}\n"
#: Everyday habits an honest student has (none of them may get the submission flagged).
HABITS = ("import os, sys, importlib, math, inspect, gc\nimportlib.reload(math)\nos.makedirs('notes', exist_ok=True)\n"
          "with open('notes/ex1.txt', 'w') as f:\n    f.write('hooks: remove them in finally')\n"
          "print(sorted(vars(math))[:3], sys.version_info[:2], 'model' in globals())\ngc.collect()\n"
          "max_batch = 8  # a name shadowing nothing the tests use\n")


def _hostile(course: Path, port: int) -> dict[str, dict[str, str]]:
    src = (course / "source" / SLUG / f"{SLUG}.ipynb").resolve()
    db = (course / "gradebook.db").resolve()
    return {
        # wrong answer + patched check and comparison helper: the tests would pass
        "patcher": {"ex1_1_solution": WRONG_CAPTURE + "checks.check_capture_activations = lambda *a, **k: None\n"
                                                      "import mi_tutor.checks.core as core\n"
                                                      "core.expect_close = lambda *a, **k: None\n"
                                                      "AssertionError = Exception\n"},
        # every later cell becomes `pass`: no test can fail
        "blanker": {"ex1_1_solution": WRONG_CAPTURE + "get_ipython().input_transformers_post.append("
                                                      "lambda lines: ['pass\\n'])\n"},
        # kills its kernel in the middle
        "exiter": {"ex1_2_solution": "import os\nos._exit(0)\n"},
        # honest answers, plus snooping on the course, the network and a process left behind
        "snooper": {"ex1_3_solution": (
            "import os, socket, subprocess\n"
            "for p in [%r, %r, %r]:\n"
            "    try:\n        open(p, 'rb').read(10); print('READ', p)\n"
            "    except OSError as e:\n        print('DENIED', p, type(e).__name__)\n"
            "try:\n    socket.create_connection(('127.0.0.1', %d), timeout=2); print('NET OPEN')\n"
            "except OSError:\n    print('NET CLOSED')\n"
            "subprocess.Popen(['sleep', '4244'], start_new_session=True)\n"
            "def zero_channel_hook(channel):\n    def hook_fn(activation, hook):\n"
            "        activation = activation.clone()\n        activation[:, channel] = 0.0\n"
            "        return activation\n    return hook_fn\n") % (str(src), str(db), str(ROOT / "solutions"), port)},
        # does exercise 1.5 by calling the package's reference implementation
        "delegator": {"ex1_5_solution": "from mi_tutor.patching import channel_logit_drops as _ref\n"
                                        "def channel_importance(model, images, labels, layer):\n"
                                        "    return _ref(model, images, labels, layer)\n"},
    }


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(str(p).encode() + p.read_bytes())
    return h.hexdigest()


@pytest.mark.slow
@pytest.mark.skipif(not sandbox_available()[0], reason="needs bubblewrap: " + sandbox_available()[1])
def test_hostile_class_is_flagged_or_zeroed_and_honest_gets_full_marks(tmp_path):
    course = tmp_path / "course"
    [release_path] = init_course(course, ROOT / "solutions", only=[SLUG])
    release = nbformat.read(release_path, as_version=4)
    source = read_lesson(ROOT / "solutions" / f"{SLUG}.py")
    solved = solution_submission(release, source)
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    honest = next(c for c in solved.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "ex1_1_solution")
    write_submission(course, "honest", SLUG, wrong_submission(solved, {"ex1_1_solution": HABITS + honest.source}))
    for student, cells in _hostile(course, server.getsockname()[1]).items():
        write_submission(course, student, SLUG, wrong_submission(solved, cells))
    source_hash = _tree_hash(course / "source")

    run = grade_class(course, SLUG, jobs=2)
    server.close()
    res = {r.student: r for r in run.results}
    table = summary_table(run)
    assert not run.warnings or "busy" in " ".join(run.warnings), run.warnings  # sandboxed, not unisolated

    full = sum(c.metadata["nbgrader"]["points"] for c in source.cells
               if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade"))
    h = res["honest"]
    assert h.score == full and not h.flags and not h.evidence and h.status == "graded", table
    # tampering found while grading: scored 0 in the gradebook by the policy, with the reason
    assert any("check_capture_activations was replaced" in e for e in res["patcher"].evidence), table
    assert any("expect_close was replaced" in e for e in res["patcher"].evidence), table
    assert any("did not run the grader's cell as sent" in e for e in res["blanker"].evidence), table
    for student in ("patcher", "blanker"):
        assert res[student].score == 0 and res[student].status == "flagged" and res[student].needs_manual_grade
    # the static scan names what it saw, as a second opinion: it lists for review, never changes a score
    assert any("check_capture_activations" in f for f in res["patcher"].flags), table
    assert any("AssertionError" in f for f in res["patcher"].flags), table
    assert any("input_transformers_post" in f for f in res["blanker"].flags), table
    assert res["exiter"].score == 0 and (not res["exiter"].graded or res["exiter"].flags), table
    assert any("kernel died" in p for p in res["exiter"].problems) or res["exiter"].flags, table
    d = res["delegator"]
    assert any("channel_logit_drops" in f and "reference" in f for f in d.flags) and not d.evidence, table
    assert d.score == full and d.status == "flagged" and d.needs_manual_grade, table
    assert any("imports subprocess" in f or "imports socket" in f for f in res["snooper"].flags), table
    assert not res["snooper"].evidence and res["snooper"].score == full, table
    # the snooper saw nothing of the course and no network; nothing it started is still running
    nb = json.loads((course / "autograded" / "snooper" / SLUG / f"{SLUG}.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", [])
                      if c["metadata"].get("nbgrader", {}).get("grade_id") == "ex1_3_solution")
    assert "READ" not in printed and printed.count("DENIED") == 3 and "NET CLOSED" in printed, printed
    assert not any(p.read_bytes().startswith(b"sleep\x004244") for p in Path("/proc").glob("[0-9]*/cmdline")
                   if p.exists()), "a process outlived its submission"
    # the real course is intact: source unchanged, gradebook consistent and complete
    assert _tree_hash(course / "source") == source_hash
    assert integrity_ok(course / "gradebook.db") == (True, "ok")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_submission(SLUG, "honest").score == full
        assert gb.find_submission_notebook(SLUG, SLUG, "patcher").flagged
        assert gb.find_submission(SLUG, "patcher").score == 0
        assert "grading policy" in gb.find_comment("ex1_1_solution", SLUG, SLUG, "patcher").comment
        assert gb.find_submission(SLUG, "delegator").score == full  # flagged by the scan only: score kept
    rows = {r["student"]: r for r in _csv(write_grades_csv(run.results, tmp_path / "g.csv"))}
    assert rows["delegator"]["status"] == "flagged" and "reference" in rows["delegator"]["flags"]
    # feedback never shows hidden-test code
    fb = (course / "feedback" / "honest" / SLUG / f"{SLUG}.html").read_text()
    assert "seed=123, batch=1" not in fb


def _csv(path):
    import csv

    return list(csv.DictReader(path.open()))
