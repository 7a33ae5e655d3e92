"""nbgrader's Execute step, made for a hostile class: hidden tests last, the grader's own cells, evidence.

:class:`GradingExecute` replaces nbgrader's ``Execute`` in the scratch course
(``Autograde.autograde_preprocessors``). It runs in the grading process, outside
the sandbox, and drives the student's kernel:

1. the kernel starts in an empty working folder: the notebook being graded (hidden
   tests included) and the gradebook are not on any disk the kernel can see;
2. a grader cell (:func:`.harness.install`, with this submission's nonce) takes a
   snapshot of what the tests rely on before any student code runs;
3. the notebook's cells run in order, except that each hidden-test cell only
   records (:func:`.harness.keep`) what its tests will use: its code is not sent;
   after each autograded test cell an audit (one grader cell) tells whether the
   kernel is still intact there (:class:`.policy.Ledger` keeps the last such point);
4. after the last cell, when every output the student will see exists, the hidden
   phase: canary cells (is what the kernel runs what it was sent?), the integrity
   audit, every hidden test, the audit again, and the known-answer self-test of
   each check. Outputs of this phase are dropped; a hidden cell's outputs are
   rebuilt here from its verdict: nothing, or one error with the check's message.

What the audits and the phase found (tamper evidence), and which autograded cells it
concerns (:mod:`.policy`), is written to the report file named in the plan, for the
grading process to apply the course's policy.
"""

from __future__ import annotations

import ast
import json
import os
import random
import re
import secrets
import time
from pathlib import Path

from nbclient.exceptions import DeadKernelError
from nbclient.client import NotebookClient
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute

from .policy import Ledger, answer_cells

__all__ = ["GradingExecute", "grading_plan", "is_hidden_cell", "PLAN_ENV"]

#: Environment variable naming the plan file (JSON) of the submission being graded.
PLAN_ENV = "MI_TUTOR_GRADING_PLAN"
_HARNESS = "mi_tutor.course.grading.harness"
_H = f"__import__('sys').modules[{_HARNESS!r}]"
_CALL = re.compile(r"(\w+)\(")  # the function a grader cell calls: the name its phase is timed under


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _meta(cell) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def is_hidden_cell(cell) -> bool:
    """A code grade cell holding hidden tests (as nbgrader put them back from the gradebook)."""
    return cell.get("cell_type") == "code" and bool(_meta(cell).get("grade")) and "BEGIN HIDDEN TESTS" in _src(cell)


def _python(source: str) -> str:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001
        return source


def _tree(source: str) -> ast.Module:
    try:
        return ast.parse(_python(source))
    except SyntaxError:
        return ast.parse("")


def _loaded(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _bound(tree: ast.Module) -> set[str]:
    out = set()
    for st in tree.body:
        if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            out.add(st.name)
        elif isinstance(st, (ast.Import, ast.ImportFrom)):
            out.update((a.asname or a.name).split(".")[0] for a in st.names)
        elif isinstance(st, ast.Assign):
            out.update(t.id for t in st.targets if isinstance(t, ast.Name))
    return out


def grading_plan(source: dict) -> dict:
    """What the grader's cells need from the instructor's notebook (JSON-ready).

    Returns:
        ``check_modules`` and ``aliases`` (the checks the locked setup cell imports, by name),
        ``setup_imports`` (its import statements), ``references`` (the definitions of each
        solution cell) and ``selftest`` (the visible test cells that call only an exercise's
        names, the checks and the setup's imports, with those exercise names).
    """
    import builtins

    cells = [c for c in source.get("cells", []) if c.get("cell_type") == "code"]
    setup = next((c for c in cells if _meta(c).get("grade_id") == "setup"),
                 next((c for c in cells if _meta(c).get("locked") and not _meta(c).get("grade")), None))
    aliases, check_modules, imports = {}, [], []
    setup_bound: set[str] = set()
    if setup is not None:
        tree = _tree(_src(setup))
        setup_bound = _bound(tree)
        for st in tree.body:
            if isinstance(st, (ast.Import, ast.ImportFrom)):
                imports.append(ast.unparse(st))
            if isinstance(st, ast.ImportFrom) and st.module and st.module.startswith("mi_tutor.checks"):
                for a in st.names:
                    full = f"{st.module}.{a.name}" if st.module == "mi_tutor.checks" else st.module
                    aliases[a.asname or a.name] = full
                    check_modules.append(full)
            elif isinstance(st, ast.Import):
                for a in st.names:
                    if a.name.startswith("mi_tutor.checks") and a.asname:
                        aliases[a.asname] = a.name
                        check_modules.append(a.name)
    references, tests = [], []
    exercise: set[str] = set()
    for c in cells:
        m = _meta(c)
        if m.get("solution"):
            tree = _tree(_src(c))
            keep = [st for st in tree.body if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                              ast.Import, ast.ImportFrom))]
            references.append("\n".join(ast.unparse(st) for st in keep))
            exercise = {st.name for st in keep if not isinstance(st, (ast.Import, ast.ImportFrom))}
        elif m.get("grade") and not is_hidden_cell(c) and exercise:
            loaded = _loaded(_tree(_src(c)))
            allowed = exercise | set(aliases) | setup_bound | set(dir(builtins))
            if loaded & exercise and loaded <= allowed:
                tests.append({"grade_id": m.get("grade_id"), "code": _python(_src(c)),
                              "names": sorted(loaded & exercise)})
    return {"check_modules": sorted(set(check_modules)), "aliases": aliases, "setup_imports": "\n".join(imports),
            "references": references, "selftest": tests}


class GradingExecute(Execute):
    """nbgrader's Execute with the hidden tests run last, by the grader's own cells (see the module)."""

    _hidden_running = False

    def _update_display_id(self, display_id, msg):
        """No display of an earlier cell may change once the hidden tests run (``update_display``)."""
        if self._hidden_running:
            return None
        return super()._update_display_id(display_id, msg)

    def _grader_cell(self, source: str) -> list[dict]:
        """Run one grader cell (not in the notebook, not in history); return its outputs."""
        start = time.perf_counter()
        try:
            return self._run_grader_cell(source)
        finally:
            call = _CALL.search(source.replace(_H, "", 1))
            key = f"grader:{call.group(1) if call else 'other'}"
            self._seconds[key] = self._seconds.get(key, 0.0) + time.perf_counter() - start

    def _run_grader_cell(self, source: str) -> list[dict]:
        cell = new_code_cell(source)
        self.nb.cells.append(cell)
        try:
            cell = self.execute_cell(cell, len(self.nb.cells) - 1, store_history=False)
        finally:
            self.nb.cells.pop()
        return list(cell.get("outputs", []))

    def _said(self, outputs: list[dict], kind: str) -> list:
        nonce, found = self._plan["nonce"], []
        for out in outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                for line in str(out.get("text", "")).splitlines():
                    if line.startswith(nonce):
                        try:
                            msg = json.loads(line[len(nonce):])
                        except json.JSONDecodeError:
                            continue
                        if msg.get("kind") == kind:
                            found.append(msg["data"])
        return found

    def _call(self, kind: str, call: str):
        said = self._said(self._grader_cell(f"{_H}.{call}"), kind)
        return said[-1] if said else None

    def _checkpoint(self, where: str) -> list[str]:
        """Audit the kernel between two cells (cheap: one grader cell); return the evidence found."""
        sent = f"{where} #{secrets.token_hex(4)}"
        audit = self._call("audit", f"audit({sent!r})")
        if audit is None or audit.get("where") != sent:
            return [f"{where}: the grader's integrity check did not come back as sent (an input or AST "
                    "transformer, or a replaced stdout?)"]
        return list(audit["evidence"])

    def _canaries(self, where: str) -> list[str]:
        nonce = self._plan["nonce"]
        a, b = random.randint(1000, 9999), random.randint(1000, 9999)
        evidence = []
        outs = self._grader_cell(f"print({nonce!r} + ':' + str({a} * {b}))")
        text = "".join(str(o.get("text", "")) for o in outs if o.get("output_type") == "stream")
        if f"{nonce}:{a * b}" not in text:
            evidence.append(f"{where}: the kernel did not run the grader's cell as sent (an input or AST "
                            "transformer, or a replaced stdout?)")
        token = secrets.token_hex(8)
        outs = self._grader_cell(f"raise LookupError({token!r})")
        if not any(o.get("output_type") == "error" and o.get("ename") == "LookupError" and token in str(o.get("evalue"))
                   for o in outs):
            evidence.append(f"{where}: an error raised by the grader's cell did not come back as raised (a custom "
                            "exception handler, or a replaced traceback display?)")
        return evidence

    def preprocess(self, nb, resources=None, km=None):
        plan_file = os.environ.get(PLAN_ENV)
        if not plan_file:  # not grading through mi-tutor: plain nbgrader behaviour
            return super().preprocess(nb, resources, km)
        self._plan = plan = json.loads(Path(plan_file).read_text())
        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self.resources.setdefault("metadata", {})["path"] = plan["cwd"]  # an empty folder, not the notebook's
        report: dict = {"evidence": [], "hidden": {}, "hidden_phase": "not reached"}
        self._seconds = report["seconds"] = {}
        start = time.perf_counter()
        ledger = Ledger(answer_cells(self.nb.cells))  # where evidence was found: which cells it concerns
        try:
            with self.setup_kernel():
                self._seconds["kernel_start"] = time.perf_counter() - start
                info_msg = self.wait_for_reply(self.kc.kernel_info())
                self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
                outs = self._grader_cell(f"import {_HARNESS}\n{_H}.install({plan['nonce']!r}, "
                                         f"{plan['check_modules']!r}, {plan['aliases']!r})")
                broken = [o for o in outs if o.get("output_type") == "error"]
                if broken:  # the grader's own failure (no student code ran yet): fail closed, never grade
                    # without the protections (plain nbgrader would put the hidden tests where student code reads them)
                    report["grader_error"] = f"{broken[0].get('ename')}: {broken[0].get('evalue')}"[:500]
                    report["hidden_phase"] = "skipped: the grader's cells could not be installed"
                    raise RuntimeError(f"the grader's own cells could not run in the kernel ({report['grader_error']})")
                hidden = []
                for index, cell in enumerate(self.nb.cells):
                    if is_hidden_cell(cell):
                        hidden.append(index)
                        names = sorted(_loaded(_tree(_src(cell))))
                        self._grader_cell(f"{_H}.keep({_meta(cell).get('grade_id')!r}, {names!r})")
                        continue
                    cell_start = time.perf_counter()
                    self.preprocess_cell(cell, resources, index)
                    self._seconds["student_cells"] = (self._seconds.get("student_cells", 0.0)
                                                      + time.perf_counter() - cell_start)
                    gid = _meta(cell).get("grade_id")
                    if gid in ledger.answer_of:  # an autograded test: is the kernel still intact after it?
                        ledger.graded(gid)
                        if not ledger.compromised:
                            found = self._checkpoint(f"after {gid}")
                            ledger.checkpoint(found)
                            report["evidence"] += found
                self._hidden_phase(hidden, plan, report, ledger)
        finally:
            self._seconds["total"] = time.perf_counter() - start
            report["untrusted"] = ledger.untrusted()
            report["answer_of"] = ledger.answer_of
            Path(plan["report"]).write_text(json.dumps(report))
        return self._finish()

    def _finish(self):
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _hidden_phase(self, hidden: list[int], plan: dict, report: dict, ledger: Ledger) -> None:
        ev = report["evidence"]
        report["hidden_phase"] = "started"
        self._hidden_running = True
        try:
            found = self._canaries("after the notebook")
            audit = self._call("audit", "audit('after the notebook')")
            found += audit["evidence"] if audit else ["the grader's integrity check printed nothing (stdout replaced?)"]
            ledger.checkpoint(found)
            ev += found
            for index in hidden:
                cell = self.nb.cells[index]
                gid = _meta(cell).get("grade_id")
                verdict = self._call("hidden", f"run_hidden({gid!r}, {_python(_src(cell))!r})")
                if verdict is None:
                    verdict = {"grade_id": gid, "passed": False, "ename": "HiddenTestError",
                               "message": "the hidden test gave no verdict (it timed out, or the kernel's output "
                                          "was tampered with)"}
                report["hidden"][gid] = verdict
                ledger.graded(gid)
            audit = self._call("audit", "audit('after the hidden tests')")
            found = audit["evidence"] if audit else ["the grader's integrity check printed nothing (stdout replaced?)"]
            st = self._call("selftest", f"selftest({plan['setup_imports']!r}, {plan['references']!r}, "
                                        f"{plan['selftest']!r})")
            if st is None:
                found.append("the known-answer self-test of the checks printed nothing (stdout replaced?)")
            else:
                found += st["evidence_during_hidden"] + st["evidence"]
            found += self._canaries("after the hidden tests")
            ledger.checkpoint(found)
            ev += found
            report["hidden_phase"] = "done"
        except DeadKernelError:
            report["hidden_phase"] = "kernel died"
        for index in hidden:
            cell = self.nb.cells[index]
            gid = _meta(cell).get("grade_id")
            verdict = report["hidden"].get(gid) or {
                "grade_id": gid, "passed": False, "ename": "DeadKernelError",
                "message": "the kernel died before this hidden test ran"}
            report["hidden"][gid] = verdict
            cell.execution_count = None
            if verdict["passed"]:
                cell.outputs = []
            else:
                cell.outputs = [new_output("error", ename=verdict["ename"], evalue=verdict["message"],
                                           traceback=[f"{verdict['ename']}: {verdict['message']}"])]
        seen: list[str] = []
        for e in ev:  # the same finding at two checkpoints is one finding
            if e not in seen:
                seen.append(e)
        report["evidence"] = seen
