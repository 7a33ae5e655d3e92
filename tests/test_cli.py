"""The mi-tutor command line: listing, releasing, clear errors."""

from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import ROOT
from mi_tutor.course.cli import main


def test_zoo_list(capsys):
    assert main(["zoo", "list"]) == 0
    assert "convnet_shapes_s0" in capsys.readouterr().out


def test_release_writes_student_versions(tmp_path, capsys):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    assert main(["--root", str(tmp_path), "release", "01"]) == 0
    text = (tmp_path / "lessons" / "01_hooks.py").read_text()
    assert text == (ROOT / "lessons" / "01_hooks.py").read_text()


def test_errors_are_one_clear_line(tmp_path, capsys):
    assert main(["check", str(tmp_path / "nope.ipynb")]) == 2
    assert "No notebook at" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "release"]) == 2
    assert "No lesson folder" in capsys.readouterr().err
    assert main(["autograde", str(tmp_path)]) == 2
    assert "not an nbgrader course" in capsys.readouterr().err


def test_console_script_is_installed():
    out = subprocess.run([sys.executable, "-m", "mi_tutor.course.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "autograde" in out.stdout


def test_check_lists_story_cells_that_raised(tmp_path, monkeypatch, capsys):
    # Full marks on the visible tests, but a locked result check under a figure failed: the student hears of it.
    from mi_tutor.course import selfcheck
    from mi_tutor.course.scoring import CellScore

    scores = [CellScore("ex1_1_visible", 1.0, 1.0), CellScore("ex1_1_hidden", 2.0, None, "graded later", "later")]
    report = selfcheck.CheckReport(scores, [("fig1_importance", "CheckFailure: the top channel should cost 1.76")])
    monkeypatch.setattr(selfcheck, "check_notebook", lambda path, timeout: report)
    assert main(["check", str(tmp_path / "lesson.ipynb")]) == 1
    out = capsys.readouterr().out
    assert "fig1_importance: CheckFailure: the top channel should cost 1.76" in out and "1/1" in out
    monkeypatch.setattr(selfcheck, "check_notebook", lambda path, timeout: selfcheck.CheckReport(scores))
    assert main(["check", str(tmp_path / "lesson.ipynb")]) == 0
    assert "story that raised" not in capsys.readouterr().out
