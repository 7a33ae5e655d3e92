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
