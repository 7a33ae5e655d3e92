"""mkdocs hooks (``hooks:`` in ``mkdocs.yml``): lesson pages, API pages, navigation, offline assets.

``mkdocs build`` alone builds the whole site. Before mkdocs collects its files
this hook executes the lessons (in parallel, or reuses the cache) and builds
the navigation from what exists: every ``solutions/NN_slug.py`` becomes a
lesson page and every module of the ``mi_tutor`` package appears on an API
page generated here (one page per subpackage, one for the top-level modules),
so adding a lesson or a module needs no edit of ``mkdocs.yml`` or ``site/``.
The lesson spec page (``api/lesson_spec.md``) is generated too, from the spec in the
docstring of :mod:`mi_tutor.course.lessons`, so the page and the rules ``mi-tutor release``
enforces are one text. Hand-written pages in ``site/api/`` (guides such as the TransformerLens
names) follow the generated ones.

The site loads nothing from outside itself: MathJax and plotly.js are copied
from their installed Python packages (with their licences) into ``vendor/``.
On lesson pages the long setup cell is folded into a ``<details>`` block. The home page's
``<!-- course-map -->`` becomes the map of the course, drawn from the lessons' opening cells.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from mkdocs.structure.files import File

from mi_tutor.course import lessons as _lessons
from mi_tutor.course.lessons import find_lessons
from mi_tutor.course.site import SETUP_CELL_ID, course_map, prepare_site

__all__ = ["api_pages", "lesson_spec_page", "vendored_assets", "fold_setup_cell", "MAP_MARKER", "on_config", "on_files",
           "on_page_markdown", "on_page_content"]

#: Where the home page (``site/index.md``) gets the map of the course (:func:`~mi_tutor.course.site.course_map`).
MAP_MARKER = "<!-- course-map -->"

STATIC_PAGES = [
    ("Home", "index.md"),
    ("Syllabus", "syllabus.md"),
    ("Student guide", "student-guide.md"),
    ("Instructor guide", "instructor-guide.md"),
]
PACKAGE = Path(__file__).resolve().parents[1]  # mi_tutor/


def _title(md: Path) -> str:
    for line in md.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return md.stem.replace("_", " ").capitalize()


def _docstring(path: Path) -> str:
    try:
        return ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError:
        return ""


def _modules(folder: Path, dotted: str) -> list[str]:
    """Public modules under ``folder`` (recursively), as dotted names, in file order."""
    names = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(("_", ".")):
            continue
        if path.suffix == ".py":
            names.append(f"{dotted}.{path.stem}")
        elif path.is_dir() and (path / "__init__.py").exists():
            names += _modules(path, f"{dotted}.{path.name}") or [f"{dotted}.{path.name}"]
    return names


_SPEC_HEADING = "The lesson spec\n---------------\n"
_ROLE = re.compile(r":(?:func|data|mod|class|meth):`(~?)([\w.]+)`")


def lesson_spec_page(doc: str | None = None) -> str:
    """The lesson spec page: the "The lesson spec" section of :mod:`mi_tutor.course.lessons`'s docstring.

    Sphinx roles become code spans (``:func:`~a.b``` -> `` `b` ``) and double backticks single ones;
    fenced code blocks are kept as they are.

    Examples:
        >>> print(lesson_spec_page("Intro.\\n\\nThe lesson spec\\n---------------\\nUse ``x`` and :func:`~a.b`."))
        # Lesson spec
        <BLANKLINE>
        Use `x` and `b`.
        <BLANKLINE>
    """
    doc = _lessons.__doc__ if doc is None else doc
    if _SPEC_HEADING not in doc:
        raise ValueError("mi_tutor.course.lessons has no 'The lesson spec' section in its docstring")
    spec = doc.split(_SPEC_HEADING, 1)[1].strip()
    parts = re.split(r"(^```.*?^```)", spec, flags=re.S | re.M)  # odd parts: fenced code, kept verbatim
    for i in range(0, len(parts), 2):
        text = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", parts[i])
        parts[i] = re.sub(r"``(.+?)``", r"`\1`", text)
    return "# Lesson spec\n\n" + "".join(parts) + "\n"


def api_pages(package: Path = PACKAGE) -> dict[str, tuple[str, str]]:
    """The generated API reference: ``{"api/NAME.md": (nav title, markdown)}``.

    One page for the package's top-level modules (``api/core.md``) and one per
    subpackage, each opening with the subpackage's docstring and listing every
    public module with a mkdocstrings ``:::`` directive; then the lesson spec
    (:func:`lesson_spec_page`).
    """
    name = package.name
    pages: dict[str, tuple[str, str]] = {}
    top = [f"{name}.{p.stem}" for p in sorted(package.glob("*.py")) if not p.name.startswith("_")]
    if top:
        body = "\n\n".join(f"::: {m}" for m in top)
        pages["api/core.md"] = ("Core: hooks", f"# Core: hooks, devices, validation\n\n"
                                f"The top-level modules of `{name}`.\n\n{body}\n")
    for sub in sorted(p for p in package.iterdir() if p.is_dir() and (p / "__init__.py").exists()
                      and not p.name.startswith(("_", "."))):
        doc = _docstring(sub / "__init__.py")
        modules = _modules(sub, f"{name}.{sub.name}") or [f"{name}.{sub.name}"]
        body = "\n\n".join(f"::: {m}" for m in modules)
        pages[f"api/{sub.name}.md"] = (sub.name, f"# `{name}.{sub.name}`\n\n{doc}\n\n{body}\n")
    pages["api/lesson_spec.md"] = ("Lesson spec", lesson_spec_page())
    return pages


def vendored_assets() -> dict[str, Path]:
    """Site path -> installed file of every asset the site serves itself (MathJax, plotly.js).

    Raises:
        ModuleNotFoundError: when the package that ships an asset is missing.
    """
    import mathjax  # django-static-mathjax: MathJax 3 as files
    import plotly

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    # TeX input only: with the MathML input as well (tex-mml-chtml.js), a second typesetting pass (the
    # page's document$ handler) typesets the hidden assistive MathML of every formula again.
    assets = {"vendor/mathjax/tex-chtml.js": es5 / "tex-chtml.js",
              "vendor/mathjax/LICENSE": es5.parent / "LICENSE"}
    for sub in ("output/chtml/fonts/woff-v2", "input/tex/extensions"):
        for path in sorted((es5 / sub).glob("*")):
            assets[f"vendor/mathjax/{sub}/{path.name}"] = path
    plotly_dir = Path(plotly.__file__).parent
    assets["vendor/plotly/plotly.min.js"] = plotly_dir / "package_data" / "plotly.min.js"
    licence = next(iter(sorted(plotly_dir.parent.glob("plotly-*.dist-info/licenses/LICENSE*"))), None)
    if licence:
        assets["vendor/plotly/LICENSE.txt"] = licence
    return assets


def _div_end(html: str, start: int) -> int:
    """Index just after the ``</div>`` closing the ``<div`` that starts at ``start``."""
    depth = 0
    for m in re.compile(r"<div\b|</div>").finditer(html, start):
        depth += 1 if m.group() != "</div>" else -1
        if depth == 0:
            return m.end()
    raise ValueError("unbalanced <div> in a lesson page")


def fold_setup_cell(html: str, summary: str = "Setup: imports, seeds and models (click to show)") -> str:
    """Wrap the lesson's setup cell (id :data:`~mi_tutor.course.site.SETUP_CELL_ID`) in ``<details>``.

    Examples:
        >>> fold_setup_cell('<p>a</p><div id="cell-id=mi-setup"><div>x</div></div><p>b</p>')
        '<p>a</p><details class="mi-fold"><summary>Setup: imports, seeds and models (click to show)</summary><div id="cell-id=mi-setup"><div>x</div></div></details><p>b</p>'
    """
    m = re.search(rf'<div\b[^>]*\bid="cell-id={SETUP_CELL_ID}"', html)
    if m is None:
        return html
    start = m.start()
    end = _div_end(html, start)
    return (html[:start] + f'<details class="mi-fold"><summary>{summary}</summary>' + html[start:end]
            + "</details>" + html[end:])


# nbconvert's MathJax 2 block (an empty <script src=""> and a v2 config): the site loads MathJax 3 itself.
_NB_MATHJAX = re.compile(r'<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.S)


def on_config(config, **kwargs):
    docs = Path(config["docs_dir"])
    root = Path(config["config_file_path"]).parent
    solutions = root / "solutions"
    prepare_site(docs, solutions)
    lessons = [{f"{l.number}. {l.title.split(':', 1)[-1].strip()}": f"lessons/{l.slug}.ipynb"}
               for l in find_lessons(solutions)]
    generated = api_pages()
    api = [{title: path} for path, (title, _) in generated.items()]
    api += [{_title(p): f"api/{p.name}"} for p in sorted((docs / "api").glob("*.md"))
            if f"api/{p.name}" not in generated]
    config["nav"] = [{t: p} for t, p in STATIC_PAGES] + [{"Lessons": lessons}, {"API reference": api}]
    return config


def on_files(files, config, **kwargs):
    for path, (_, markdown) in api_pages().items():
        if files.get_file_from_path(path) is None:
            files.append(File.generated(config, path, content=markdown))
    for path, source in vendored_assets().items():
        files.append(File.generated(config, path, abs_src_path=str(source)))
    return files


def on_page_markdown(markdown, page, config, files, **kwargs):
    if page.file.src_uri == "index.md" and MAP_MARKER in markdown:
        solutions = Path(config["config_file_path"]).parent / "solutions"
        markdown = markdown.replace(MAP_MARKER, course_map(find_lessons(solutions)))
    return markdown


def on_page_content(html, page, config, files, **kwargs):
    if page.file.src_uri.startswith("lessons/"):
        html = fold_setup_cell(_NB_MATHJAX.sub("", html))
    return html
