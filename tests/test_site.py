"""The course site builds strictly, shows every lesson with its figures, and leaks nothing."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from conftest import LESSONS, ROOT
from mi_tutor.course.site import leaked_lines


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@pytest.fixture(scope="module")
def built_site(tmp_path_factory, executed_cache):
    """Build a copy of the site (the repo's site/ stays untouched) with the session's executed lessons."""
    project = tmp_path_factory.mktemp("siteproject")
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    shutil.copytree(ROOT / "site", project / "site",
                    ignore=shutil.ignore_patterns("lessons", "notebooks"))
    for name in ("solutions", "mi_tutor"):
        (project / name).symlink_to(ROOT / name)
    env = dict(os.environ, MI_TUTOR_CACHE=str(executed_cache), NO_MKDOCS_2_WARNING="1")
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=3000)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return project / "build" / "site"


@pytest.mark.slow
def test_static_pages_and_api_reference(built_site):
    for page in ("index.html", "syllabus/index.html", "student-guide/index.html", "instructor-guide/index.html"):
        assert (built_site / page).exists(), page
    api = (built_site / "api" / "core" / "index.html").read_text()
    assert "run_with_cache" in api and "Example" in api


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_lesson_page(built_site, lesson):
    page = (built_site / "lessons" / lesson.slug / "index.html").read_text()
    assert page.count("data:image/png") >= 2, "a lesson page shows its figures"
    text = _text(page)
    assert "raise NotImplementedError()" in text, "exercises appear as the student sees them"
    assert leaked_lines(lesson.path, text) == []
    index = json.loads((built_site / "search" / "search_index.json").read_text())
    lesson_text = " ".join(d["text"] for d in index["docs"] if d["location"].startswith(f"lessons/{lesson.slug}"))
    assert lesson_text and leaked_lines(lesson.path, html.unescape(lesson_text)) == []
    download = built_site / "notebooks" / f"{lesson.slug}.ipynb"
    nb = nbformat.read(download, as_version=4)
    assert leaked_lines(lesson.path, nbformat.writes(nb)) == []
    assert any("NotImplementedError" in c.source for c in nb.cells)
