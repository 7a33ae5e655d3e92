"""Spotting submissions that game the grader instead of doing the exercise.

:func:`scan_submission` reads (never runs) every cell a student controls: the
solution cells and any cell they added; locked cells are put back by nbgrader.
It flags, with the reason in words:

* patching: assigning to an attribute of anything imported (``checks.check_x = ...``,
  ``np.allclose = ...``, ``mi_tutor.checks.core.expect_close = ...``), ``setattr``,
  rebinding an imported name or a builtin the tests rely on (``AssertionError``,
  ``isinstance``...), classes that compare equal to anything (``__eq__``);
* tampering with the kernel: ``get_ipython`` (input transformers, custom exception
  handlers, events), ``sys.exit`` / ``os._exit``, ``sys.settrace``, frame and code
  objects (reading the hidden tests while they run), ``exec`` / ``eval`` / ``__import__``;
* the outside world: ``subprocess``, ``os.system``, sockets, files (``open``), strings naming
  the gradebook or ``source/``;
* delegation: using the package's reference implementation of an exercise (the functions
  the lesson's checks compare against, e.g. ``mi_tutor.patching.channel_logit_drops``).

Whatever the instructor's own solution of a cell uses is allowed in that cell,
so the reference solutions are never flagged (a test checks every lesson).
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterable

__all__ = ["scan_submission", "scan_cell", "reference_names", "Flag"]

#: Modules that have no use in these lessons but to reach around the grader. Everyday modules
#: (``os``, ``sys``, ``importlib``, ``pathlib``, ``inspect``, ``gc``, ``pickle``...) are not here: only
#: their tricky attributes are (``os._exit``, ``sys._getframe``, ``inspect.stack``...), in ``_ATTRS_ON``.
_MODULES = {"subprocess", "ctypes", "socket", "builtins", "sqlite3", "IPython", "pty", "mmap", "marshal", "dis",
            "urllib", "http", "requests", "atexit", "signal", "code"}
#: Calls that reach around the grader. Everyday ones (``open`` to write notes, ``vars`` and
#: ``globals`` to look at things, ``setattr`` on one's own objects) are not flagged.
_CALLS = {"get_ipython", "exec", "eval", "compile", "__import__", "exit", "quit", "input"}
_ATTRS = {"f_back", "f_globals", "f_locals", "f_code", "tb_frame", "gi_frame", "input_transformers_post",
          "input_transformers_cleanup", "ast_transformers", "showtraceback", "set_custom_exc", "user_ns",
          "__code__", "__globals__", "__builtins__", "__subclasses__", "__bases__", "__mro__", "__closure__",
          "__defaults__", "__kwdefaults__", "__import__", "__loader__", "__spec__", "__setattr__", "__delattr__",
          "__getattribute__", "run_cell_magic", "system_piped", "run_cell", "events"}
#: Attributes that are tricks only on these modules (``torch.stack`` is fine, ``inspect.stack`` is not).
_ATTRS_ON = {"stack": {"inspect"}, "currentframe": {"inspect"}, "getouterframes": {"inspect"},
             "getinnerframes": {"inspect"}, "trace": {"inspect"}, "exit": {"sys", "os"},
             "get_objects": {"gc"}, "get_referrers": {"gc"}, "get_referents": {"gc"}, "_current_frames": {"sys"},
             "_exit": {"os"}, "system": {"os"}, "popen": {"os"}, "fork": {"os"}, "kill": {"os"},
             "killpg": {"os"}, "abort": {"os"}, "modules": {"sys"}, "meta_path": {"sys"}, "path_hooks": {"sys"},
             "settrace": {"sys", "threading"}, "setprofile": {"sys", "threading"}, "_getframe": {"sys"},
             "excepthook": {"sys", "threading"}, "displayhook": {"sys"}, "register": {"atexit"},
             "Popen": {"subprocess"}, "run": {"subprocess"}, "check_output": {"subprocess"},
             "getoutput": {"subprocess"}, "call": {"subprocess"}}
_METHODS = {"__eq__", "__ne__", "__bool__", "__float__", "__int__", "__index__", "__lt__", "__gt__",
            "__le__", "__ge__", "__array__", "__array_function__", "__array_ufunc__", "__torch_function__",
            "__instancecheck__", "__getattr__", "__del__"}
#: Builtins whose rebinding changes what a test means. Names students reuse for their own
#: variables (``max``, ``sum``, ``id``, ``type``, ``input``, ``list``...) are not here.
_BUILTINS = {"AssertionError", "Exception", "BaseException", "isinstance", "issubclass", "getattr", "hasattr",
             "setattr", "print", "__import__", "exec", "eval", "object", "super", "callable",
             "NotImplementedError", "ValueError", "TypeError", "KeyError", "RuntimeError", "__builtins__"}
_STRINGS = ("gradebook", "source/", "/source", "hidden test", "begin hidden", "nbgrader", ".db", "autograded",
            "submitted/", "/work/", "/root", "/home/")
_MAGICS_OK = {"timeit", "time", "matplotlib", "load_ext", "autoreload", "config", "precision", "pprint"}


Flag = str  # "<cell>: <reason>"


def reference_names(checks_module: str) -> dict[str, str]:
    """``{function name: module}`` of the package functions a lesson's checks compare against.

    These are what a checks module imports from ``mi_tutor`` outside ``mi_tutor.checks``
    (classes, named in CapWords, are models and data, not answers).

    Examples:
        >>> refs = reference_names("mi_tutor.checks.lesson01")
        >>> refs["channel_logit_drops"], "ConvNet" in refs
        ('mi_tutor.patching.channels', False)
    """
    module = importlib.import_module(checks_module)
    tree = ast.parse(open(module.__file__, encoding="utf-8").read())
    base = checks_module.rsplit(".", 2)[0]  # mi_tutor
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            parts = checks_module.split(".")[: -node.level]
            full = ".".join(parts + [node.module])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(base + "."):
            full = node.module
        else:
            continue
        if full.startswith(base + ".checks"):
            continue
        for alias in node.names:
            if alias.name[:1].islower():
                out[alias.name] = full
    return out


def _root(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # noqa: BLE001 - best effort text for a message
        return "?"


def _python(source: str) -> str:
    """Cell text as Python: IPython magics become ``get_ipython()`` calls, harmless ones are dropped."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith("%") and not stripped.startswith("%%"):
            if stripped[1:].split(" ", 1)[0] in _MAGICS_OK:
                continue
        lines.append(line)
    text = "\n".join(lines)
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(text)
    except Exception:  # noqa: BLE001
        return text


def _imported_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
    return names


def _uses(tree: ast.AST) -> set[str]:
    """Every identifier a cell mentions (names, attributes, imports): what a cell is allowed."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            out.add(node.id)
        elif isinstance(node, ast.Attribute):
            out.add(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.update(a.name.split(".")[0] for a in node.names)
            if isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module.split(".")[0])
    return out  # names the cell only defines are not allowances: a solution defines the exercise itself


def scan_cell(source: str, imported: set[str], references: dict[str, str] | None = None,
              allowed: set[str] | None = None, exercises: set[str] | None = None) -> list[str]:
    """Reasons to suspect one cell, in words (empty: nothing suspicious).

    Args:
        source: The cell's code.
        imported: Names bound by imports anywhere in the notebook (modules and package functions).
        references: :func:`reference_names` of the lesson.
        allowed: Identifiers the instructor's solution of this cell uses (never flagged).
        exercises: For a cell the student added: the exercise functions; using the package's
            reference implementation is flagged only where the cell (re)defines one of them
            (None: a solution cell, always checked).

    Examples:
        >>> scan_cell("checks.check_x = lambda *a, **k: None", {"checks"})
        ['assigns checks.check_x: patching something the tests use']
        >>> scan_cell("def f(x):\\n    return 2 * x", {"torch"})
        []
    """
    references, allowed = references or {}, allowed or set()
    try:
        tree = ast.parse(_python(source))
    except SyntaxError:
        return []
    reasons: list[str] = []
    imported = set(imported) | _imported_names(tree)  # `import mi_tutor.checks.core as core` in the cell itself

    def add(reason: str) -> None:
        if reason not in reasons:
            reasons.append(reason)

    defined_here = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    if exercises is None:
        delegates = True
    else:
        bound = defined_here | {n for st in tree.body if isinstance(st, ast.Assign) for t in st.targets
                                for n in _target_names(t)}
        delegates = bool(bound & exercises)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                top = mod.split(".")[0]
                if top in _MODULES and top not in allowed:
                    add(f"imports {mod}")
                if mod.startswith("mi_tutor.checks") or (mod == "mi_tutor" and isinstance(node, ast.ImportFrom)
                                                         and any(a.name == "checks" for a in node.names)):
                    add(f"imports the checks ({mod})")
            if isinstance(node, ast.ImportFrom) and delegates:
                for alias in node.names:
                    if alias.name in references and alias.name not in allowed:
                        add(f"imports {alias.name} from {node.module}: the package's reference implementation")
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and _root(sub) in imported | {"__builtins__"}:
                        add(f"assigns {_dotted(sub)}: patching something the tests use")
                    if isinstance(sub, ast.Attribute) and sub.attr in {"__dict__", "__code__", "__class__"}:
                        add(f"assigns {_dotted(sub)}")
                    if isinstance(sub, ast.Subscript) and _root(sub) in {"__builtins__", "builtins"}:
                        add(f"assigns {_dotted(sub)}: patching builtins")
        elif isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else None
            if name in _CALLS and name not in allowed and name not in defined_here:
                add(f"calls {name}()")
            if name in ("setattr", "delattr") and node.args and _root(node.args[0]) in imported | {"__builtins__"} \
                    and name not in allowed:
                add(f"calls {name}() on {_dotted(node.args[0])}: patching something the tests use")
        elif isinstance(node, ast.Attribute):
            if node.attr not in allowed and (node.attr in _ATTRS or _root(node) in _ATTRS_ON.get(node.attr, ())):
                add(f"uses {_dotted(node)}")
            if node.attr in references and node.attr not in allowed and _root(node) in imported and delegates:
                add(f"uses {_dotted(node)}: the package's reference implementation "
                    f"({references[node.attr]}.{node.attr}) instead of doing the exercise")
        elif isinstance(node, ast.Name):
            if node.id in _CALLS and node.id not in allowed and node.id not in defined_here \
                    and isinstance(node.ctx, ast.Load):
                add(f"refers to {node.id}")
            if node.id in references and node.id in imported and node.id not in allowed and delegates \
                    and node.id not in defined_here and isinstance(node.ctx, ast.Load):
                add(f"calls {node.id}, the package's reference implementation "
                    f"({references[node.id]}.{node.id}), instead of doing the exercise")
            if node.id in ("__builtins__", "builtins") and node.id not in allowed:
                add(f"uses {node.id}")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in _METHODS \
                and node.name not in allowed:
            add(f"defines {node.name} (an object that passes any comparison?)")
        elif isinstance(node, ast.Global):
            for n in node.names:
                if n in imported or n in _BUILTINS:
                    add(f"rebinds the global {n}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            low = node.value.lower()
            for s in _STRINGS:
                if s in low and s not in {a.lower() for a in allowed}:
                    add(f"mentions {s!r} (reading the course files?)")
    for stmt in tree.body:  # module-level rebinding of what the tests rely on
        bound: Iterable[str] = ()
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            bound = [n for t in targets for n in _target_names(t)]
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = [stmt.name]
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            bound = [(a.asname or a.name).split(".")[0] for a in stmt.names]
        for name in bound:
            if name in _BUILTINS and name not in allowed:
                add(f"rebinds the builtin {name}")
            elif name in imported and name not in allowed and not isinstance(stmt, (ast.Import, ast.ImportFrom)):
                add(f"rebinds {name}, which the notebook imports (the tests use it)")
    return reasons


def _target_names(t: ast.AST) -> list[str]:
    if isinstance(t, ast.Name):
        return [t.id]
    if isinstance(t, (ast.Tuple, ast.List)):
        return [n for e in t.elts for n in _target_names(e)]
    if isinstance(t, ast.Starred):
        return _target_names(t.value)
    return []


def _meta(cell) -> dict:
    return (cell.get("metadata") or {}).get("nbgrader") or {}


def scan_submission(submitted: dict, release: dict, source: dict | None = None) -> list[Flag]:
    """Flags for every suspicious cell a student controls, as ``"<cell>: <reason>"``.

    Args:
        submitted: The submitted notebook (as parsed JSON).
        release: The released notebook (which cells are locked, what it imports).
        source: The instructor's notebook (what each solution cell may use).
    """
    locked = {_meta(c).get("grade_id") for c in release.get("cells", []) if _meta(c).get("locked")}
    locked.discard(None)
    cells = [c for c in release.get("cells", []) if c.get("cell_type") == "code"]
    text = "\n".join(_python(_src(c)) for c in cells)
    try:
        release_tree = ast.parse(text)
    except SyntaxError:
        release_tree = ast.parse("")
    imported = _imported_names(release_tree)
    references = {}
    for node in ast.walk(release_tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mi_tutor.checks"):
            for alias in node.names:
                references.update(_safe_refs(f"{node.module}.{alias.name}"))
        if isinstance(node, ast.ImportFrom) and node.module == "mi_tutor.checks":
            for alias in node.names:
                references.update(_safe_refs(f"mi_tutor.checks.{alias.name}"))
    instructor = {}
    for c in (source or {}).get("cells", []):
        gid = _meta(c).get("grade_id")
        if gid and c.get("cell_type") == "code":
            try:
                instructor[gid] = _uses(ast.parse(_python(_src(c))))
            except SyntaxError:
                instructor[gid] = set()
    exercises = set()
    for c in cells:
        if _meta(c).get("solution"):
            try:
                exercises |= {n.name for n in ast.walk(ast.parse(_python(_src(c)))) if isinstance(n, ast.FunctionDef)}
            except SyntaxError:
                pass
    unchanged = {_src(c).strip() for c in cells}
    flags = []
    for i, cell in enumerate(submitted.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        gid = _meta(cell).get("grade_id")
        if gid in locked:
            continue  # nbgrader restores it from the gradebook
        if not _meta(cell).get("solution") and _src(cell).strip() in unchanged:
            continue  # a story cell of the release, as released
        where = gid or f"cell {i + 1} (added or edited by the student)"
        added = None if _meta(cell).get("solution") else exercises
        for reason in scan_cell(_src(cell), imported, references, instructor.get(gid, set()), added):
            flags.append(f"{where}: {reason}")
    return flags


def _safe_refs(module: str) -> dict[str, str]:
    try:
        return reference_names(module)
    except Exception:  # noqa: BLE001 - not a checks module
        return {}


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s
