"""The course site builds strictly, shows every lesson with its figures, leaks nothing, works offline.

The browser test opens a built lesson page in headless Chromium (Debian's ``chromium``; .ci/run
installs it) with the network switched off through the DevTools protocol, spoken over a pipe
(``--remote-debugging-pipe``: no port, no driver library).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from conftest import LESSONS, ROOT
from mi_tutor.course.lessons import find_lessons
from mi_tutor.course.mkdocs_hooks import api_pages, fold_setup_cell
from mi_tutor.course.site import leaked_lines


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


# `built_site` (conftest.py): the site, built once per session from the lessons' graded runs.


@pytest.mark.slow
def test_static_pages_and_api_reference(built_site):
    for page in ("index.html", "syllabus/index.html", "student-guide/index.html", "instructor-guide/index.html"):
        assert (built_site / page).exists(), page
    api = (built_site / "api" / "core" / "index.html").read_text()
    assert "run_with_cache" in api and "Example" in api
    for path in api_pages():  # every generated API page was built, in module order
        assert (built_site / path.removesuffix(".md") / "index.html").exists(), path
    checks = (built_site / "api" / "checks" / "index.html").read_text()
    order = [checks.find(f"mi_tutor.checks.lesson{l.number:02d}") for l in LESSONS
             if (ROOT / "mi_tutor" / "checks" / f"lesson{l.number:02d}.py").exists()]
    assert order and -1 not in order and order == sorted(order), "checks of every lesson, in lesson order"


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


# --- pieces that need no build -------------------------------------------------------------------

def test_api_pages_cover_every_module():
    pages = api_pages()
    text = "\n".join(md for _, md in pages.values())
    package = ROOT / "mi_tutor"
    modules = [p for p in package.rglob("*.py") if not any(part.startswith("_") for part in
                                                             p.relative_to(package).parts)]
    for path in modules:
        dotted = "mi_tutor." + ".".join(path.relative_to(package).with_suffix("").parts)
        assert f"::: {dotted}\n" in text, f"{dotted} has no API page"
    for sub in (p for p in package.iterdir() if (p / "__init__.py").exists() and not p.name.startswith("_")):
        assert f"api/{sub.name}.md" in pages, sub.name


def test_lesson_spec_page_is_the_docstring_of_the_rules():
    import mi_tutor.course.lessons as lessons_module
    from mi_tutor.course.lessons import RULES

    assert not (ROOT / "site" / "api" / "lesson_spec.md").exists(), "the spec page is generated: no hand copy"
    title, page = api_pages()["api/lesson_spec.md"]
    assert title == "Lesson spec" and page.startswith("# Lesson spec\n")
    rules = [f"{n}. **{name}.**" for n, (name, _) in enumerate(RULES, 1)]
    assert [page.find(r) for r in rules] == sorted(page.find(r) for r in rules) and all(r in page for r in rules)
    spec = lessons_module.__doc__.split("---------------\n", 1)[1]
    assert spec.count("\n") == page.count("\n") - 2 and "``" not in page.replace("```", "") and ":func:" not in page
    assert "### BEGIN SOLUTION\n    return x + 1" in page  # the conforming example, verbatim


def test_setup_cell_is_folded():
    page = '<div id="cell-id=cell-0"><p>t</p></div><div class="jp-Cell" id="cell-id=mi-setup"><div><pre>import x</pre></div></div><p>after</p>'
    folded = fold_setup_cell(page)
    assert folded.index("<details") < folded.index('id="cell-id=mi-setup"') < folded.index("</details>")
    assert folded.index("</details>") < folded.index("<p>after</p>")
    assert fold_setup_cell("<p>no setup</p>") == "<p>no setup</p>"


_ROW = re.compile(r"^\| *(\d+) *\| *(.+?) *\| *`(solutions/[^`]+)` *\|$")


def test_readme_lesson_table_matches_solutions():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Lessons\n", 1)[1].split("\n## ", 1)[0]
    rows = [_ROW.match(line).groups() for line in section.splitlines() if _ROW.match(line)]
    lessons = find_lessons(ROOT / "solutions")
    expected = [(str(l.number), l.title.split(":", 1)[1].strip(), f"solutions/{l.path.name}") for l in lessons]
    table = "\n".join(f"| {n} | {t} | `{p}` |" for n, t, p in expected)
    assert rows == expected, f"README's lesson table disagrees with ls solutions/; it should read:\n{table}"
    coming = re.search(r"\*\*Coming:\*\*(.+?)(?:\n\n|$)", section, re.S)
    present = {l.number for l in lessons}
    gaps = set(range(1, max(present) + 1)) - present
    if gaps:
        assert coming, f"lessons {sorted(gaps)} do not exist yet: the README must say they are coming"
    if coming:
        numbers = {int(n) for n in re.findall(r"(?:^|;)\s*(\d+) ", coming.group(1))}
        assert numbers and not numbers & present, "a lesson listed as coming already exists"


def test_course_map_is_drawn_from_the_lessons():
    from mi_tutor.course.site import course_map, lesson_facts

    facts = {l.number: lesson_facts(l) for l in LESSONS}
    assert all(f["time"] and "hour" in f["time"] for f in facts.values()), facts
    assert all(f["claim"] and len(f["claim"]) < 200 for f in facts.values()), "every lesson states its central claim"
    assert all(p < n for n, f in facts.items() for p in f["builds_on"])
    assert all(f["builds_on"] for n, f in facts.items() if n > 1), "every lesson after the first builds on another"
    if 4 in facts:  # "lesson 3 (feature visualisation) helps": optional, not a prerequisite
        assert 3 not in facts[4]["builds_on"] and {1, 2} <= set(facts[4]["builds_on"])
    html_map = course_map(LESSONS)
    assert html_map.count('class="mi-map-node"') == len(LESSONS)
    assert html_map.count("<tr><td>") == len(LESSONS)
    for f in facts.values():
        assert f'href="lessons/{f["slug"]}/"' in html_map and html.escape(f["claim"]) in html_map
    assert "<script" not in html_map and "http" not in html_map.replace("http://www.w3.org/2000/svg", "")
    # an arrow for each direct prerequisite: one that another prerequisite already contains is left out
    from mi_tutor.course.site import _direct
    direct = _direct(list(facts.values()))
    assert html_map.count('class="mi-map-edge"') == sum(len(v) for v in direct.values())
    if {1, 2, 5, 6} <= set(facts):
        assert direct[6] == [5]


@pytest.mark.slow
def test_home_page_shows_the_course_map(built_site):
    page = (built_site / "index.html").read_text()
    assert "<!-- course-map -->" not in page and page.count('class="mi-map-node"') == len(LESSONS)
    for l in LESSONS:
        assert f'href="lessons/{l.slug}/"' in page
    assert all(w in _text(page) for w in ("Students.", "Instructors.", "Readers."))


def test_results_at_a_glance_come_from_the_executed_outputs():
    from mi_tutor.course.results import MIME, record, result_bundle
    from mi_tutor.course.site import RESULTS_CELL_ID, results_cell

    out = [nbformat.v4.new_output("display_data", data=result_bundle("curve detectors", 31, unit="of 48")),
           nbformat.v4.new_output("display_data", data=result_bundle("dimensionality", 0.40012, paper="2/5 (Elhage)"))]
    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# t"),
                                               nbformat.v4.new_code_cell("record(...)", outputs=out)])
    cell = results_cell(executed)
    assert cell.id == RESULTS_CELL_ID and cell.source.startswith("## Results at a glance")
    assert "| Result | This run | Paper |" in cell.source
    assert "| curve detectors | 31 of 48 |  |" in cell.source and "| dimensionality | 0.400 | 2/5 (Elhage) |" in cell.source
    assert results_cell(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])) is None
    assert MIME in result_bundle("x", 1.0)
    with pytest.raises(TypeError):
        result_bundle("a whole tensor", [1.0, 2.0])
    assert callable(record)


@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_every_lesson_records_its_results(lesson):
    from mi_tutor.course.lessons import read_lesson

    cells = [c for c in read_lesson(lesson.path).cells
             if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade_id") == "results"]
    assert len(cells) == 1 and cells[0].metadata["nbgrader"].get("locked"), "one locked results cell"
    assert cells[0].source.count("record(") >= 3, "the results cell records the lesson's numbers"


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[l.slug for l in LESSONS])
def test_lesson_page_ends_with_results_at_a_glance(built_site, lesson):
    page = (built_site / "lessons" / lesson.slug / "index.html").read_text()
    start = page.find('id="cell-id=mi-results"')
    assert start > page.find("Further reading") > 0, "the table is the page's last cell"
    table = page[start:]
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>\s*<td>(.*?)</td>", table, re.S)
    assert len(rows) >= 3, rows
    shown = _text(page[:start])
    for name, value in rows:  # every number in the table is one the page's run printed
        line = f"result: {html.unescape(_text(name)).strip()} = {html.unescape(_text(value)).strip()}"
        assert line in shown, line


def test_display_notebook_drops_widgets():
    """A progress-bar widget would make nbconvert's page fetch a widget manager from a CDN."""
    from mi_tutor.course.site import WIDGET_VIEW, display_notebook

    bar = nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "x"}, "text/plain": "0%|"})
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})
    executed = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("train()", outputs=[bar, figure])])
    executed.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    shown = display_notebook(executed, nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("train()")]))
    assert "widgets" not in shown.metadata and shown.cells[0].outputs == [figure]


# --- the built site, offline ----------------------------------------------------------------------

_EXTERNAL = re.compile(r"<(script|link|img|iframe|source|video|audio|embed)\b[^>]*?\b(src|href)=[\"']?(https?:)?//",
                       re.I)


@pytest.mark.slow
def test_no_page_loads_anything_from_outside(built_site):
    pages = sorted(built_site.rglob("*.html"))
    assert len(pages) > 10
    offenders = {str(p.relative_to(built_site)): m.group(0)[:120] for p in pages
                 for m in [_EXTERNAL.search(p.read_text())] if m}
    assert offenders == {}
    licences = [built_site / "vendor" / "mathjax" / "LICENSE", built_site / "vendor" / "plotly" / "LICENSE.txt"]
    assert all(p.exists() and p.stat().st_size > 500 for p in licences)


def _chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


class _DevTools:
    """The DevTools protocol over --remote-debugging-pipe (fd 3: commands in, fd 4: events out)."""

    def __init__(self, binary: str, profile: Path, local_host: str | None = None):
        """``local_host`` (``"127.0.0.1"``): the one host that stays reachable, for a locally served site."""
        cmd_r, self._cmd_w = os.pipe()
        self._out_r, out_w = os.pipe()

        def wire():  # in the child: commands on fd 3, replies on fd 4 (via fresh, inheritable copies)
            a, b = os.dup(cmd_r), os.dup(out_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-extensions", "--disable-background-networking",
             # belt and braces next to Network.emulateNetworkConditions(offline): no DNS, a dead proxy
             "--proxy-server=127.0.0.1:9",
             "--host-resolver-rules=MAP * ~NOTFOUND" + (f", EXCLUDE {local_host}" if local_host else ""),
             *([f"--proxy-bypass-list={local_host}"] if local_host else []),
             "--allow-file-access-from-files", f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(out_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self._out_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, params: dict | None = None, session: str | None = None, timeout: float = 60):
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method:
                return self.events.pop(i)
        while True:
            ev = self._read(deadline)
            if ev.get("method") == method:
                return ev
            self.events.append(ev)

    def close(self):
        self.proc.kill()
        self.proc.wait()
        os.close(self._cmd_w)
        os.close(self._out_r)


_PAGE_REPORT = r"""(async () => {
  if (window.MathJax && MathJax.startup) { await MathJax.startup.promise; }
  if (window.MathJax && MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  await new Promise(r => setTimeout(r, 300));
  const md = [...document.querySelectorAll('.jp-MarkdownOutput, .md-typeset > p')];
  const raw = [];
  for (const el of md) {
    const copy = el.cloneNode(true);
    copy.querySelectorAll('mjx-container, code, pre, script').forEach(e => e.remove());
    const m = copy.textContent.match(/\$[^$\n]{1,80}\$/g);
    if (m) raw.push(...m);
  }
  return JSON.stringify({
    typeset: document.querySelectorAll('mjx-container').length,
    raw: raw.slice(0, 10),
    images: [...document.images].map(i => ({src: i.src.slice(0, 40), ok: i.complete && i.naturalWidth > 0})),
    plots: document.querySelectorAll('.js-plotly-plot').length,
    folded: !!document.querySelector('details.mi-fold [id="cell-id=mi-setup"]'),
    download: !!document.querySelector('a[download][href$=".ipynb"]'),
  });
})()"""


class _Page:
    """One tab of a browser, attached once; :meth:`report` loads a URL in it and evaluates an expression there."""

    def __init__(self, browser: "_DevTools", offline: bool):
        self.browser = browser
        target = next(t for t in browser.send("Target.getTargets")["targetInfos"] if t["type"] == "page")
        self.session = browser.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                             "flatten": True})["sessionId"]
        browser.send("Network.enable", session=self.session)
        if offline:
            browser.send("Network.emulateNetworkConditions", {"offline": True, "latency": 0,
                                                              "downloadThroughput": -1, "uploadThroughput": -1},
                         session=self.session)
        browser.send("Page.enable", session=self.session)

    def report(self, url: str, expression: str) -> tuple[dict, list[str]]:
        """The expression's JSON value on ``url``, and every request the page made while loading and running it."""
        self.browser.events.clear()
        self.browser.send("Page.navigate", {"url": url}, session=self.session)
        self.browser.wait_event("Page.loadEventFired", timeout=120)
        result = self.browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                        "returnByValue": True}, session=self.session, timeout=120)
        requests = [e["params"]["request"]["url"] for e in self.browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
        return json.loads(result["result"]["value"]), requests


def _report(browser: "_DevTools", url: str, expression: str, offline: bool) -> tuple[dict, list[str]]:
    """Load ``url`` in the browser's page, evaluate ``expression`` there; return its JSON value and the requests."""
    try:
        return _Page(browser, offline).report(url, expression)
    finally:
        browser.close()


def _math_in_prose(lesson) -> int:
    """How many TeX formulas the lesson's page shows: those of the student version's markdown cells."""
    from mi_tutor.course.lessons import read_lesson, student_version
    from mi_tutor.course.site import tex_formulas

    return sum(len(tex_formulas(c.source)) for c in student_version(read_lesson(lesson.path)).cells
               if c.cell_type == "markdown")


def test_math_in_prose_counts_what_the_lessons_write():
    counts = {l.slug: _math_in_prose(l) for l in LESSONS}
    assert sum(counts.values()) > 100 and sum(1 for n in counts.values() if n) >= len(LESSONS) - 1, counts


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)")
def test_lesson_pages_offline_in_chromium(built_site, tmp_path):
    """Every lesson page, opened with the network off: each formula of the source typeset, none left raw."""
    from mi_tutor.course.views import zoo_transformers

    browser = _DevTools(_chromium(), tmp_path / "profile")   # one browser, one tab, every page in turn
    try:
        tab = _Page(browser, offline=True)
        reports = {l.slug: tab.report((built_site / "lessons" / l.slug / "index.html").as_uri(), _PAGE_REPORT)
                   for l in LESSONS}
    finally:
        browser.close()
    for lesson in LESSONS:
        slug = lesson.slug
        report, requests = reports[slug]
        outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
        assert outside == [], f"{slug}: the page asked the network for something"
        assert report["raw"] == [], f"{slug}: formulas left as raw text: {report['raw']}"
        assert report["typeset"] == _math_in_prose(lesson), (
            f"{slug}: MathJax typeset {report['typeset']} formulas, the lesson writes {_math_in_prose(lesson)}")
        assert report["images"] and all(i["ok"] for i in report["images"]), report["images"]
        assert report["folded"] and report["download"], report
        if zoo_transformers(lesson.path.read_text()):
            assert report["plots"] >= 2, f"{slug}: the interactive attention and activation views render"


_SEARCH_REPORT = r"""(async () => {
  const deadline = Date.now() + 60000;
  let items = [];
  while (Date.now() < deadline) {
    items = [...document.querySelectorAll('.md-search-result__item')];
    if (items.length) break;
    await new Promise(r => setTimeout(r, 250));
  }
  return JSON.stringify({
    query: (document.querySelector('.md-search__input') || {}).value,
    meta: (document.querySelector('.md-search-result__meta') || {}).textContent,
    results: items.map(i => (i.querySelector('a') || {}).href || ''),
  });
})()"""


def _search_served(binary: str, url: str, profile: Path) -> tuple[dict, list[str]]:
    """Open ``url`` (a page of the site with ``?q=...``) in headless Chromium and read the search results.

    The site is served from 127.0.0.1, so the network stays on (emulating offline would cut the
    local server too); every other host fails to resolve and goes to a dead proxy, and the test
    checks that nothing else was asked for.
    """
    return _report(_DevTools(binary, profile, local_host="127.0.0.1"), url, _SEARCH_REPORT, offline=False)


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="no chromium on this machine (.ci/run installs Debian's chromium)")
def test_search_works_offline_from_a_plain_static_server(built_site, tmp_path):
    """``python -m http.server`` in the build folder: the search box finds lessons, with nothing from outside."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(built_site)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        report, requests = _search_served(_chromium(), base + "?q=induction", tmp_path / "profile-search")
        assert report["query"] == "induction", report
        assert any("lessons/08_induction_heads/" in r for r in report["results"]), report
        outside = [u for u in requests if not u.startswith((base, "data:", "blob:", "about:"))]
        assert outside == [], f"search asked for something outside the site: {outside}"
        assert any(u.endswith("search/search_index.json") for u in requests), "the index came from the server"
    finally:
        server.terminate()
        server.wait()


def test_interactive_views_follow_the_first_attention_figure():
    from mi_tutor.course.views import PLOTLY_SRC, lesson_view_cells, zoo_transformers
    from mi_tutor.course.mkdocs_hooks import vendored_assets

    lesson = next((l for l in LESSONS if zoo_transformers(l.path.read_text())), None)
    if lesson is None:
        pytest.skip("no lesson loads a zoo transformer yet")
    import nbformat as nbf
    figure = nbf.v4.new_output("display_data", data={"image/png": "iVBOR"})
    cells = [nbf.v4.new_markdown_cell("# t"), nbf.v4.new_code_cell("x = 1"),
             nbf.v4.new_code_cell("plot_attention_patterns(p)", outputs=[figure]), nbf.v4.new_code_cell("y")]
    out = lesson_view_cells(lesson.path, cells)
    assert [c.get("id") for c in out[3:5]] == ["mi-views-note", "mi-views"]
    html_view = out[4].source
    assert f'<script src="{PLOTLY_SRC}">' in html_view and "Plotly.newPlot" in html_view
    assert "hovertemplate" in html_view and "weight" in html_view
    # the script's path, seen from lessons/NN_slug/, is the copy the site serves
    assert PLOTLY_SRC.removeprefix("../../") in vendored_assets()
    assert lesson_view_cells(next(l for l in LESSONS if not zoo_transformers(l.path.read_text())).path, cells) == cells
