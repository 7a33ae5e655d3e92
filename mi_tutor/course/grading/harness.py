"""The grader's side of a student's kernel: what the grader's own cells call.

The grading executor (:mod:`.executor`) sends these cells itself; none of them
is in the released notebook, and each submission gets a fresh random nonce:

1. ``install`` (before any student cell): takes a snapshot of what the tests rely
   on: IPython's input/AST transformers and exception handlers, the shell's
   methods, every builtin, the check modules (functions and their code) and the
   comparison functions of torch and NumPy;
2. ``keep`` (where a hidden-test cell stood): remembers the objects that cell's
   tests use, as they were at that point of the notebook;
3. after the last cell of the notebook, when no output of the student's code can
   reach the student any more: ``audit`` (the kernel still runs what it is sent,
   the snapshot still holds), ``run_hidden`` for every hidden-test cell (the code
   under test is wrapped so that what it raises carries no text it chose), and
   ``selftest``: each check must still pass the reference answer and fail a
   known-wrong one.

Each call prints one line, the nonce then JSON, which the executor reads. The
hidden tests thus never enter the kernel before the student's code has produced
every output the student will see; whatever the student's code captures of them
while they run (frames, code objects, history) has no way back but the pass/fail
and the check's own message, which this module sanitises.
"""

from __future__ import annotations

import builtins
import json
import sys
import types

__all__ = ["install", "keep", "audit", "run_hidden", "selftest"]

_S: dict = {}
#: Shell methods a trick may replace (per instance or on the class).
_SHELL_METHODS = ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "transform_cell", "transform_ast",
                  "showtraceback", "showsyntaxerror", "set_custom_exc", "ex", "ev")
#: Comparison functions the checks use, as (module, attribute path).
_LIBRARY = (("torch", "allclose"), ("torch", "equal"), ("torch", "isclose"), ("torch", "isnan"),
            ("torch", "Tensor.allclose"), ("torch", "Tensor.equal"), ("torch", "Tensor.__eq__"),
            ("torch", "Tensor.__bool__"), ("torch", "Tensor.item"), ("torch", "Tensor.tolist"),
            ("numpy", "allclose"), ("numpy", "isclose"), ("numpy", "array_equal"), ("numpy", "testing"))
_SAFE_MODULES = ("builtins", "torch", "numpy")
#: Builtins the kernel itself rebinds while it runs (ipykernel's input, the displayhook's ``_``).
_KERNEL_BUILTINS = {"_", "__", "___", "input", "raw_input", "getpass", "display", "get_ipython", "exit", "quit",
                    "__IPYTHON__", "__IPYTHON__active", "dreload", "help"}


class _Sanitized(Exception):
    """Marker base: an exception made here, carrying no text the student's code chose."""


def _shell():
    from IPython import get_ipython

    return get_ipython()


def _say(kind: str, payload) -> None:
    print(_S["nonce"] + json.dumps({"kind": kind, "data": payload}), flush=True)


def _resolve(module: str, path: str):
    obj = sys.modules.get(module)
    for part in path.split("."):
        obj = getattr(obj, part, None) if obj is not None else None
    return obj


def _module_state(mod: types.ModuleType) -> dict:
    state = {}
    for name, value in vars(mod).items():
        code = getattr(value, "__code__", None)
        state[name] = (value, code, getattr(value, "__defaults__", None), getattr(value, "__kwdefaults__", None))
    return state


def install(nonce: str, check_modules: list[str], aliases: dict[str, str]) -> None:
    """Snapshot what the tests rely on, before any student code runs.

    Args:
        nonce: This submission's random nonce (prefix of every line this module prints).
        check_modules: The ``mi_tutor.checks`` modules the lesson imports.
        aliases: ``{name: module}`` the locked setup cell binds (``{"checks": "mi_tutor.checks.lesson01"}``).
    """
    import importlib

    ip = _shell()
    _S.clear()
    _S.update(nonce=nonce, ip=ip, shell_type=type(ip), aliases=dict(aliases), keep={}, evidence=[])
    _S["transformers"] = {name: list(getattr(ip, name, []) or []) for name in
                          ("input_transformers_post", "input_transformers_cleanup", "ast_transformers")}
    _S["custom_exceptions"] = tuple(getattr(ip, "custom_exceptions", ()) or ())
    _S["shell_methods"] = {m: getattr(type(ip), m, None) for m in _SHELL_METHODS}
    _S["builtins"] = dict(vars(builtins))
    _S["sys"] = {"trace": sys.gettrace(), "profile": sys.getprofile(), "excepthook": sys.excepthook,
                 "builtins_module": sys.modules.get("builtins")}
    modules = {}
    for name in list(check_modules) + ["mi_tutor.checks.core"]:
        try:
            modules[name] = importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a lesson without checks
            continue
    _S["modules"] = modules
    _S["module_state"] = {name: _module_state(mod) for name, mod in modules.items()}
    try:
        import numpy  # noqa: F401 - the snapshot names its functions
        import torch  # noqa: F401
    except ImportError:  # pragma: no cover
        pass
    _S["library"] = {f"{m}.{p}": _resolve(m, p) for m, p in _LIBRARY}
    core = modules.get("mi_tutor.checks.core")
    _S["CheckFailure"] = getattr(core, "CheckFailure", AssertionError)
    _S["check_codes"] = _check_codes(modules)
    _S["_keep_alive"] = list(modules.values())  # code ids stay valid while the modules live


def keep(grade_id: str, names: list[str]) -> None:
    """Remember the objects a hidden-test cell uses, as they are where the cell stands."""
    ns = _S["ip"].user_ns
    _S["keep"][grade_id] = {n: ns[n] for n in names if n in ns}


def _audit() -> list[str]:
    ip = _shell()
    out = []
    if ip is not _S["ip"]:
        out.append("the IPython shell was replaced")
        ip = _S["ip"]
    for name, before in _S["transformers"].items():
        now = list(getattr(ip, name, []) or [])
        if [id(f) for f in now] != [id(f) for f in before]:
            out.append(f"IPython's {name} were changed (the kernel no longer runs the cells it is sent unchanged)")
    if tuple(getattr(ip, "custom_exceptions", ()) or ()) != _S["custom_exceptions"]:
        out.append("a custom exception handler was installed (set_custom_exc: errors would be hidden)")
    for m, before in _S["shell_methods"].items():
        if m in vars(ip) or getattr(type(ip), m, None) is not before or type(ip) is not _S["shell_type"]:
            out.append(f"the shell's {m} was replaced")
    now = vars(builtins)
    for name, value in _S["builtins"].items():
        if name not in _KERNEL_BUILTINS and now.get(name, _Sanitized) is not value:
            out.append(f"the builtin {name} was rebound")
    if sys.modules.get("builtins") is not _S["sys"]["builtins_module"]:
        out.append("sys.modules['builtins'] was replaced")
    if sys.gettrace() is not _S["sys"]["trace"] or sys.getprofile() is not _S["sys"]["profile"]:
        out.append("a trace or profile function was installed (sys.settrace/setprofile)")
    for name, mod in _S["modules"].items():
        if sys.modules.get(name) is not mod:
            out.append(f"the check module {name} was replaced in sys.modules")
        state = _module_state(mod)
        for attr, (value, code, defaults, kwdefaults) in _S["module_state"][name].items():
            got = state.get(attr)
            if got is None or got[0] is not value:
                out.append(f"{name}.{attr} was replaced")
            elif got[1] is not code or got[2] != defaults or got[3] != kwdefaults:
                out.append(f"the code of {name}.{attr} was changed")
    for key, value in _S["library"].items():
        m, p = key.split(".", 1)
        if value is not None and _resolve(m, p) is not value:
            out.append(f"{key} was replaced (a comparison the checks use)")
    for alias, modname in _S["aliases"].items():
        if alias in ip.user_ns and ip.user_ns[alias] is not sys.modules.get(modname):
            out.append(f"`{alias}` no longer names {modname} (the tests call it)")
    return out


def audit(where: str) -> None:
    """Print what no longer holds of the snapshot (tamper evidence), for the executor."""
    try:
        found = _audit()
    except Exception as err:  # noqa: BLE001 - an audit that cannot run is evidence too
        found = [f"the grader's integrity check could not run ({type(err).__name__})"]
    _say("audit", {"where": where, "evidence": found})


# ----------------------------------------------------------------------------------------------
# hidden tests


def _library_function(fn) -> bool:
    """A function of an imported module (not the notebook's: those are what the tests test)."""
    mod = sys.modules.get(getattr(fn, "__module__", None) or "__main__")
    return (fn.__module__ != "__main__" and mod is not None and getattr(mod, "__dict__", None) is fn.__globals__
            and getattr(mod, "__file__", None) == fn.__code__.co_filename)


def _notebook_function(value) -> bool:
    return isinstance(value, types.FunctionType) and not _library_function(value)


def _codes(value, out: set, depth: int = 0) -> None:
    code = getattr(value, "__code__", None)
    if isinstance(value, (staticmethod, classmethod)):
        code = getattr(value.__func__, "__code__", None)
    stack = [code] if isinstance(code, types.CodeType) else []
    while stack:
        c = stack.pop()
        if id(c) in out:
            continue
        out.add(id(c))
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    if isinstance(value, type) and depth == 0:
        for v in vars(value).values():
            _codes(v, out, 1)


def _check_codes(modules: dict) -> set:
    """``id`` of every code object of the check modules (functions, nested functions, class methods)."""
    out: set = set()
    for mod in modules.values():
        for value in vars(mod).values():
            if isinstance(value, type) and value.__module__ != mod.__name__:
                continue
            _codes(value, out)
    return out


def _safe_type(err: BaseException) -> str:
    t = type(err)
    if (t.__module__ or "").split(".")[0] in _SAFE_MODULES and t.__name__.isidentifier() and len(t.__name__) < 40:
        return t.__name__
    return "an exception of a class defined in the notebook"


def _sanitized(err: BaseException, where: str) -> BaseException:
    """A fresh exception in place of one the student's code raised: its type (if builtin), no message."""
    if isinstance(err, NotImplementedError):
        new = type("NotImplementedError", (NotImplementedError, _Sanitized), {})()
    else:
        base = type(err) if (type(err).__module__ == "builtins" and isinstance(err, Exception)
                             and type(err).__init__ is not None) else RuntimeError
        name = _safe_type(err)
        try:
            cls = type(base.__name__ if base is not RuntimeError else "RuntimeError", (base, _Sanitized), {})
            new = cls(f"(in hidden tests the message of a {name} raised by {where} is not shown)")
        except Exception:  # noqa: BLE001 - an exception class that refuses a message
            new = type("RuntimeError", (RuntimeError, _Sanitized), {})("(message not shown)")
    new.__qualname__ = type(new).__name__
    return new


def _equal_to_anything(value) -> bool:
    if type(value).__eq__ is object.__eq__ or isinstance(value, (int, float, str, bytes, tuple, list, dict)):
        return False
    try:
        return (value == _Sanitized()) is True and (value == object()) is True
    except Exception:  # noqa: BLE001 - tensors and arrays refuse to compare with objects
        return False


def _guard(fn, gid: str):
    """``fn`` wrapped: exceptions lose their text, returned functions are wrapped too, tricks are noted."""
    evidence = _S["evidence"]
    # everything the guard uses is a closure variable: its globals are the student's namespace
    sanitized, equal_to_anything, wrap, is_notebook = _sanitized, _equal_to_anything, _guard, _notebook_function
    interrupt, anything = KeyboardInterrupt, BaseException
    label = f"`{str(fn.__name__)[:60]}`"  # read now: the student's code may rename it while the test runs

    def guard(*args, **kwargs):
        try:
            value = fn(*args, **kwargs)
        except interrupt:  # the cell timeout's interrupt
            raise
        except anything as err:  # noqa: BLE001 - SystemExit and friends too
            raise sanitized(err, label) from None
        if equal_to_anything(value):
            evidence.append(f"{gid}: {label} returned an object that compares equal to anything")
            raise sanitized(ValueError(), label) from None
        if is_notebook(value):
            return wrap(value, gid)
        return value

    # a real function whose globals are the student's: the checks' reference_helpers swap names there
    g = types.FunctionType(guard.__code__, fn.__globals__, fn.__name__, None, guard.__closure__)
    g.__wrapped__ = fn
    g.__qualname__ = fn.__qualname__
    g.__doc__ = fn.__doc__
    g.__module__ = fn.__module__
    return g


def _innermost_code(err: BaseException):
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code if tb is not None else None


def _own_message(err: BaseException, hidden_codes: set) -> bool:
    """The message is the check's (or the hidden test's) own: raised there, by no student exception."""
    code = _innermost_code(err)
    if code is None or (id(code) not in _S["check_codes"] and id(code) not in hidden_codes):
        return False
    cause = err.__cause__ or (None if err.__suppress_context__ else err.__context__)
    return cause is None or isinstance(cause, _Sanitized)


def _verdict(err: BaseException | None, gid: str, hidden_codes: set) -> dict:
    if err is None:
        return {"grade_id": gid, "passed": True}
    if isinstance(err, KeyboardInterrupt):
        return {"grade_id": gid, "passed": False, "ename": "CellTimeoutError",
                "message": "the hidden test was interrupted (it ran past the cell time limit)"}
    name = type(err).__name__ if isinstance(err, _Sanitized) else _safe_type(err)
    if isinstance(err, AssertionError) and not isinstance(err, _Sanitized) and _own_message(err, hidden_codes):
        ename = "CheckFailure" if isinstance(err, _S["CheckFailure"]) else "AssertionError"
        return {"grade_id": gid, "passed": False, "ename": ename, "message": str(err).strip()[:4000]}
    cause = err.__cause__ or err.__context__
    if isinstance(err, AssertionError) and not isinstance(err, _Sanitized):
        why = type(cause).__name__ if isinstance(cause, _Sanitized) else (_safe_type(cause) if cause else name)
        return {"grade_id": gid, "passed": False, "ename": name,
                "message": f"the test failed: the code under test raised {why} (in hidden tests only the "
                           "check's own messages are shown)"}
    return {"grade_id": gid, "passed": False, "ename": name, "message": f"the hidden test raised {name}"}


def run_hidden(grade_id: str, code: str) -> None:
    """Run one hidden-test cell's code against the objects :func:`keep` kept; print the verdict."""
    ip = _S["ip"]
    g = dict(ip.user_ns)
    g.update(_S["keep"].get(grade_id, {}))
    for alias, modname in _S["aliases"].items():
        if modname in sys.modules:
            g[alias] = sys.modules[modname]
    try:
        compiled = compile(code, "<hidden test>", "exec")
    except SyntaxError as err:
        _say("hidden", {"grade_id": grade_id, "passed": False, "ename": "SyntaxError", "message": str(err)})
        return
    for name in compiled.co_names:  # a student's global shadowing a builtin the test uses
        if name in _S["builtins"] and name in g:
            g[name] = _S["builtins"][name]
    for name, value in list(g.items()):
        if _notebook_function(value):
            g[name] = _guard(value, grade_id)
    del code
    hidden_codes: set = set()
    _codes(types.FunctionType(compiled, {}), hidden_codes)
    err = None
    try:
        exec(compiled, g)  # noqa: S102 - the instructor's hidden tests
    except BaseException as e:  # noqa: BLE001
        err = e
    del compiled, g
    verdict = _verdict(err, grade_id, hidden_codes)
    del err
    _say("hidden", verdict)


def _runs(code: str, ns: dict) -> tuple[bool, str]:
    try:
        exec(compile(code, "<self-test>", "exec"), ns)  # noqa: S102
    except BaseException as err:  # noqa: BLE001
        return False, type(err).__name__
    return True, ""


def _perturbed(value, depth: int = 0):
    """A plausible wrong answer made from the right one: same type and shape, other values (or None)."""
    torch = sys.modules.get("torch")
    if depth > 4:
        return None
    if torch is not None and isinstance(value, torch.Tensor):
        if value.numel() == 0:
            return None
        if value.dtype == torch.bool:
            return ~value
        flipped = value.flip(tuple(range(value.dim()))) if value.dim() else value
        return (-flipped + 0.5).to(value.dtype) if value.is_floating_point() else flipped + 1
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return -value + 0.5 if isinstance(value, float) else value + 1
    if isinstance(value, (list, tuple)) and value:
        out = [_perturbed(v, depth + 1) for v in value]
        return None if any(v is None for v in out) else type(value)(out) if isinstance(value, list) else tuple(out)
    if isinstance(value, dict) and value:
        out = {k: _perturbed(v, depth + 1) for k, v in value.items()}
        return None if any(v is None for v in out.values()) else out
    if callable(value) and isinstance(value, types.FunctionType):
        return _wrong_version(value, depth + 1)
    return None


def _wrong_version(fn, depth: int = 0):
    """``fn`` answering wrong: its result perturbed (None where it cannot be)."""
    perturbed = _perturbed

    def wrong(*args, **kwargs):
        return perturbed(fn(*args, **kwargs), depth)

    return types.FunctionType(wrong.__code__, fn.__globals__, fn.__name__, None, wrong.__closure__)


def selftest(setup_imports: str, references: list[str], tests: list[dict]) -> None:
    """Each check must still tell right from wrong: pass the reference answer, fail a known-wrong one.

    The known-wrong answer is the reference answer perturbed (same types and shapes, other values:
    a check loosened to accept anything of the right type fails to reject it), or a function that
    returns None where the answer cannot be perturbed.

    Args:
        setup_imports: The import statements of the locked setup cell.
        references: The instructor's definitions, one solution cell each, in order.
        tests: ``{"grade_id", "code", "names"}`` of each visible test cell whose code calls only
            the exercise's names, the checks and the setup's imports.
    """
    ip = _S["ip"]
    right = dict(ip.user_ns)
    found = []
    ok, why = _runs(setup_imports, right)
    for src in references:
        ok2, why2 = _runs(src, right)
        ok, why = ok and ok2, why or why2
    if not ok:
        found.append(f"the reference answers could not be defined in the kernel ({why})")
    for t in tests:
        ns = dict(right)
        passed_right, why = _runs(t["code"], ns)
        wrong = dict(right)
        for name in t["names"]:
            ref = right.get(name)
            wrong[name] = _wrong_version(ref) if isinstance(ref, types.FunctionType) else \
                types.FunctionType((lambda *a, **k: None).__code__, {}, name)
        passed_wrong, _ = _runs(t["code"], wrong)
        if passed_wrong:
            found.append(f"{t['grade_id']}: the check passed a known-wrong answer (the reference answer with its "
                         "values changed): it no longer tells right from wrong")
        elif not passed_right:
            found.append(f"{t['grade_id']}: the check failed the reference answer ({why}): it no longer tells "
                         "right from wrong")
    _say("selftest", {"evidence": found, "evidence_during_hidden": list(_S["evidence"])})
