"""The instructor's nbgrader course: ``mi-tutor course init DIR``.

The course directory is a standard nbgrader course, so nbgrader's own
commands (``nbgrader generate_assignment``, ``autograde``, ``formgrader``...)
work in it::

    DIR/
      nbgrader_config.py   gradebook.db
      source/NN_slug/NN_slug.ipynb      instructor version (from solutions/)
      release/NN_slug/NN_slug.ipynb     student version, made by nbgrader itself
      submitted/<student>/NN_slug/NN_slug.ipynb   (you drop submissions here)
"""

from __future__ import annotations

import functools
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from .execute import DEFAULT_TIMEOUT
from .lessons import find_lessons, read_lesson, validate_lesson

__all__ = ["init_course", "load_course", "course_assignments", "new_gradebook", "CONFIG_TEMPLATE"]

CONFIG_TEMPLATE = '''\
# nbgrader configuration written by `mi-tutor course init`.
from nbgrader.preprocessors import GetGrades
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from mi_tutor.course.feedback import HideHiddenTests

c = get_config()
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = {db_url!r}
# a course-local exchange; point it at a shared folder to use nbgrader's release/collect.
c.Exchange.root = {exchange!r}
# torch lessons are slow on a laptop CPU: nbgrader's 30 s default would fail correct work.
c.Execute.timeout = {timeout}
c.Execute.interrupt_on_timeout = True
# a student who deletes a test cell gets it back (and graded) instead of a manual-grading flag.
c.OverwriteCells.add_missing_cells = True
# feedback shows which tests failed and why, never the code of hidden tests.
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
'''


def _ensure_tools_on_path() -> None:
    """nbgrader shells out to ``alembic`` when it creates a gradebook."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_course(root: str | Path) -> NbGraderAPI:
    """An ``NbGraderAPI`` for the course at ``root``, configured by its ``nbgrader_config.py``.

    Raises:
        FileNotFoundError: if ``root`` is not a course made by ``mi-tutor course init``.
    """
    root = Path(root).resolve()
    config_file = root / "nbgrader_config.py"
    if not config_file.exists():
        raise FileNotFoundError(f"{root} is not an nbgrader course (no nbgrader_config.py): "
                                "create one with `mi-tutor course init DIR`")
    _ensure_tools_on_path()
    cfg: Config = PyFileConfigLoader(config_file.name, str(root)).load_config()
    cfg.CourseDirectory.root = str(root)
    return NbGraderAPI(CourseDirectory(config=cfg), config=cfg)


def course_assignments(root: str | Path) -> list[str]:
    """The assignment names found in ``root/source``."""
    return sorted(p.name for p in (Path(root) / "source").iterdir() if p.is_dir())


@functools.cache
def _schema_revision() -> str:
    """nbgrader's gradebook schema revision (what ``alembic heads`` prints), read in this process."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import write_alembic_ini

    with tempfile.TemporaryDirectory() as folder:
        ini = os.path.join(folder, "alembic.ini")
        write_alembic_ini(ini, "sqlite:////tmp/gradebook.db")
        return ScriptDirectory.from_config(AlembicConfig(ini)).get_current_head()


def new_gradebook(db: str | Path) -> Path:
    """Create an empty nbgrader gradebook at ``db``, as nbgrader's ``Gradebook`` does for a new file.

    nbgrader stamps a new database with its schema revision by running the ``alembic`` command in
    a fresh Python process, which costs seconds each time (the imports); this reads the revision
    once per process and writes the same tables and stamp. An existing file is left alone.

    Args:
        db: The SQLite file.

    Returns:
        ``db``, as a path.

    Examples:
        >>> import tempfile, sqlite3
        >>> db = new_gradebook(Path(tempfile.mkdtemp()) / "gradebook.db")
        >>> sqlite3.connect(db).execute("SELECT count(*) FROM alembic_version").fetchone()
        (1,)
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, text

    db = Path(db)
    if db.exists():
        return db
    engine = create_engine(f"sqlite:///{db}", future=True)
    try:
        Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": _schema_revision()})
    finally:
        engine.dispose()
    return db


def init_course(root: str | Path, solutions_dir: str | Path = "solutions", only: list[str] | None = None,
                course_id: str = "mi-tutor", timeout: int = DEFAULT_TIMEOUT) -> list[Path]:
    """Create (or refresh) an nbgrader course with every lesson as an assignment.

    Each lesson's solution notebook goes to ``source/``, then nbgrader's own
    ``generate_assignment`` writes the student version to ``release/`` and the
    assignment to the gradebook.

    Returns:
        The released student notebooks.

    Raises:
        ValueError: if a lesson's metadata is invalid.
        RuntimeError: if nbgrader fails to generate an assignment (its log is quoted).
    """
    root = Path(root).resolve()
    (root / "exchange").mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(CONFIG_TEMPLATE.format(
        course_id=course_id, root=str(root), db_url=f"sqlite:///{root / 'gradebook.db'}",
        exchange=str(root / "exchange"), timeout=timeout))
    new_gradebook(root / "gradebook.db")  # nbgrader would stamp it through a slow alembic subprocess
    api = load_course(root)
    released = []
    for lesson in find_lessons(solutions_dir, only):
        nb = read_lesson(lesson.path)
        problems = validate_lesson(nb, lesson.slug)
        if problems:
            raise ValueError("Invalid lesson:\n  " + "\n  ".join(problems))
        target = root / "source" / lesson.slug / f"{lesson.slug}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        result = api.generate_assignment(lesson.slug, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not release {lesson.slug}:\n{result['error']}\n{result['log']}")
        released.append(root / "release" / lesson.slug / f"{lesson.slug}.ipynb")
    return released
