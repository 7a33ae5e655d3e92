"""`mi-tutor build`'s lesson execution: parallel, thread-capped, quiet, and loud about failures."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import nbformat
import pytest

from mi_tutor.course.build import execute_lessons, failure_report, format_summary
from mi_tutor.device import thread_share
from mi_tutor.course.cli import main
from mi_tutor.course.execute import cache_path, kernel_env
from mi_tutor.course.lessons import find_lessons

GOOD = """\
# %% [markdown]
# # Lesson {n}: a tiny lesson

# %%
import os
print("threads", os.environ.get("OMP_NUM_THREADS"), "mkl", os.environ.get("MKL_NUM_THREADS"))
"""

BAD = """\
# %% [markdown]
# # Lesson {n}: a broken lesson

# %%
def helper():
    return 1 / 0

# %%
value = helper()  # the line that fails
"""


def _lessons(tmp_path, bodies):
    folder = tmp_path / "solutions"
    folder.mkdir()
    for i, body in enumerate(bodies, start=1):
        (folder / f"{i:02d}_tiny{i}.py").write_text(textwrap.dedent(body.format(n=i)))
    return find_lessons(folder)


def test_thread_share_splits_the_cores():
    assert thread_share(1, cores=2) == 2 and thread_share(2, cores=2) == 1 and thread_share(4, cores=2) == 1
    with pytest.raises(ValueError, match="jobs must be at least 1, got 0"):
        thread_share(0)
    with pytest.raises(ValueError, match="threads"):
        kernel_env(threads=0)


def test_parallel_run_caches_caps_threads_and_reports_failures_in_full(tmp_path, capfd):
    lessons = _lessons(tmp_path, [GOOD, GOOD, BAD])
    cache = tmp_path / "cache"
    log = io.StringIO()
    runs = execute_lessons(lessons, cache, cwd=tmp_path, jobs=2, file=log)
    assert [r.state for r in runs] == ["done", "done", "failed"]
    # each of the 2 parallel kernels got its share of the cores, through the environment
    nb = nbformat.read(cache_path(lessons[0].path, cache), as_version=4)
    expected = thread_share(2)
    assert nb.cells[1].outputs[0]["text"].strip() == f"threads {expected} mkl {expected}"
    # the failure carries the failing cell, the exception and the frame inside the helper
    report = failure_report(runs)
    assert "03_tiny3 FAILED" in report and "ZeroDivisionError" in report
    assert "value = helper()  # the line that fails" in report and "return 1 / 0" in report
    text = log.getvalue()
    assert "01_tiny1" in text and "done in" in text and "FAILED after" in text
    assert "2 at a time" in text
    # the kernels ran on IPC sockets: no "running over TCP without encryption" warning anywhere
    captured = capfd.readouterr()
    assert "without encryption" not in captured.err + captured.out + text

    again = execute_lessons(lessons, cache, cwd=tmp_path, jobs=2, file=io.StringIO())
    assert [r.state for r in again] == ["cached", "cached", "failed"]
    assert format_summary(again).startswith("lessons: 3 (1 executed, 2 cached, 1 failed)")


def test_cli_site_exits_nonzero_and_prints_the_error(tmp_path, capsys, monkeypatch):
    _lessons(tmp_path, [BAD])
    monkeypatch.setenv("MI_TUTOR_CACHE", str(tmp_path / "cache"))
    rc = main(["--root", str(tmp_path), "site", "--jobs", "1"])
    out = capsys.readouterr()
    assert rc == 1
    assert "ZeroDivisionError" in out.err and "value = helper()" in out.err
    assert "site: not built (01_tiny1 failed" in out.out
    assert "lessons: 1 (1 executed, 0 cached, 1 failed)" in out.out


def test_jobs_must_be_a_positive_number(capsys):
    with pytest.raises(SystemExit):
        main(["build", "--jobs", "0"])
    assert "--jobs must be a whole number of at least 1, got '0'" in capsys.readouterr().err


def test_a_second_build_with_nothing_changed_skips_the_course_and_the_site(tmp_path, capsys, monkeypatch):
    """`mi-tutor build` rebuilds the course and the site only when their inputs changed (or with --force)."""
    import mi_tutor.course.cli as cli
    import mi_tutor.course.lessons as lessons_module
    import mi_tutor.course.nbgrader_course as nbgrader_course

    calls = {"course": 0, "site": 0}

    def fake_course(root, solutions):
        calls["course"] += 1
        (Path(root) / "gradebook.db").parent.mkdir(parents=True, exist_ok=True)
        (Path(root) / "gradebook.db").write_text("")
        return []

    def fake_site(root, site_dir=None):
        calls["site"] += 1
        (root / "build" / "site").mkdir(parents=True, exist_ok=True)
        (root / "build" / "site" / "index.html").write_text("<html></html>")
        return 0

    monkeypatch.setattr(nbgrader_course, "init_course", fake_course)
    monkeypatch.setattr(cli, "_mkdocs_build", fake_site)
    monkeypatch.setattr(cli, "_execute", lambda args: [])
    monkeypatch.setattr(lessons_module, "release_lessons", lambda solutions, lessons: [])
    _lessons(tmp_path, [GOOD])
    (tmp_path / "mkdocs.yml").write_text("site_name: x\n")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.md").write_text("# home\n")
    build = ["--root", str(tmp_path), "build"]

    assert main(build) == 0 and calls == {"course": 1, "site": 1}
    assert main(build) == 0 and calls == {"course": 1, "site": 1}, "nothing changed: nothing rebuilt"
    assert "(unchanged, not rebuilt)" in capsys.readouterr().out
    (tmp_path / "site" / "index.md").write_text("# home, edited\n")
    assert main(build) == 0 and calls == {"course": 1, "site": 2}, "a page changed: the site is rebuilt"
    (tmp_path / "solutions" / "01_tiny1.py").write_text(GOOD.format(n=1) + "\n# %%\nx = 2\n")
    assert main(build) == 0 and calls == {"course": 2, "site": 3}, "a lesson changed: course and site"
    (tmp_path / "site" / "lessons").mkdir()
    (tmp_path / "site" / "lessons" / "01_tiny1.ipynb").write_text("{}")  # what the site build generates
    assert main(build) == 0 and calls == {"course": 2, "site": 3}, "generated pages are outputs, not inputs"
    (tmp_path / "build" / "site" / "index.html").unlink()
    assert main(build) == 0 and calls == {"course": 2, "site": 4}, "a missing site is rebuilt"
    assert main(build + ["--force"]) == 0 and calls == {"course": 3, "site": 5}


def test_lesson_kernels_import_only_the_course_modules_the_cache_key_covers():
    """The executed-lesson cache ignores the tooling in course/; lessons and the library must not import it."""
    import re

    from mi_tutor.course.execute import IN_KERNEL

    root = Path(__file__).resolve().parents[1]
    package = root / "mi_tutor"
    absolute = re.compile(r"^\s*(?:from|import) mi_tutor\.course\.(\w+)", re.M)
    relative = re.compile(r"^\s*from (\.+)course(?:\.(\w+))? import", re.M)
    used: dict[str, str] = {}
    for path in sorted(root.glob("solutions/*.py")) + sorted(package.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith("mi_tutor/course/") or rel == "mi_tutor/__main__.py":  # tooling; the command's entry
            continue
        text = path.read_text()
        for name in absolute.findall(text):
            used[f"course/{name}.py"] = rel
        for _, name in relative.findall(text):
            if name:
                used[f"course/{name}.py"] = rel
    for module in sorted(IN_KERNEL):  # what those modules import from course/ runs in the kernel too
        for name in re.findall(r"^\s*from \.(\w+) import", (package / module).read_text(), re.M):
            used[f"course/{name}.py"] = module
    assert "course/setup.py" in used, "the scan finds the setup import every lesson makes"
    missing = {m: where for m, where in used.items() if m not in IN_KERNEL}
    assert missing == {}, f"add these to execute.IN_KERNEL (imported by lesson code): {missing}"


def test_package_fingerprint_follows_the_files_it_covers(tmp_path, monkeypatch):
    """Cached per state of the files, the fingerprint still changes with the code and weights, not the tooling."""
    from mi_tutor.course import execute

    package = tmp_path / "pkg"
    (package / "course").mkdir(parents=True)
    (package / "model.py").write_text("x = 1\n")
    (package / "weights.pt").write_bytes(b"\x00" * 8)
    (package / "course" / "cli.py").write_text("tool = 1\n")
    monkeypatch.setattr(execute, "__file__", str(package / "course" / "execute.py"))
    first = execute.package_fingerprint()
    assert execute.package_fingerprint() == first
    (package / "course" / "cli.py").write_text("tool = 22\n")  # the tooling does not count
    assert execute.package_fingerprint() == first
    (package / "model.py").write_text("x = 22\n")
    edited = execute.package_fingerprint()
    (package / "weights.pt").write_bytes(b"\x01" * 9)
    assert len({first, edited, execute.package_fingerprint()}) == 3
