"""mkdocs hooks (``hooks:`` in ``mkdocs.yml``): lesson pages and navigation.

``mkdocs build`` alone builds the whole site: this hook executes the lessons
(or reuses the cache) before mkdocs collects its files, and builds the
navigation from what exists, so adding a lesson or an API page needs no edit of
``mkdocs.yml``.
"""

from __future__ import annotations

from pathlib import Path

from mi_tutor.course.lessons import find_lessons
from mi_tutor.course.site import prepare_site

STATIC_PAGES = [
    ("Home", "index.md"),
    ("Syllabus", "syllabus.md"),
    ("Student guide", "student-guide.md"),
    ("Instructor guide", "instructor-guide.md"),
]


def _title(md: Path) -> str:
    for line in md.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return md.stem.replace("_", " ").capitalize()


def on_config(config, **kwargs):
    docs = Path(config["docs_dir"])
    root = Path(config["config_file_path"]).parent
    solutions = root / "solutions"
    prepare_site(docs, solutions)
    lessons = [{f"{l.number}. {l.title.split(':', 1)[-1].strip()}": f"lessons/{l.slug}.ipynb"}
               for l in find_lessons(solutions)]
    api = [{_title(p): f"api/{p.name}"} for p in sorted((docs / "api").glob("*.md"))]
    config["nav"] = [{t: p} for t, p in STATIC_PAGES] + [{"Lessons": lessons}, {"API reference": api}]
    return config
