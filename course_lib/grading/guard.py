"""Grade against an untouched library: undo what a submission changed before each instructor cell.

The grader runs a learner's notebook in one kernel: their cells run before the test cells,
and could rebind what the tests call (``check_scenario = lambda *a, **k: None``), patch the
harness, a checker or the simulator (``course_lib.checkers.raft.INVARIANTS[...] = ...``,
``Simulation.check_invariants = ...``, a function's ``__code__``), or make the kernel skip or
hide the tests' code (IPython input and AST transformers, custom exception handlers,
``showtraceback``). This module is the kernel's side of the defence
(:mod:`course_lib.grading.execution` is the grader's side, which calls it):

- :func:`install`, before the notebook's first cell, imports the whole course library and
  remembers it as it is: every module's names, every class's attributes, every function's
  code and defaults, the entries of module-level tables (``INVARIANTS``; entries added later
  are left alone, since the library's own caches grow), and IPython's hooks;
- :func:`before`, before each instructor cell (a locked cell: setup, sanity checks, tests),
  puts back whatever changed since, and the notebook names earlier instructor cells bound
  (``check_scenario``, ``SEED``), and says what it put back;
- :func:`after`, after each instructor cell, says what changed *while it ran* (a learner's
  class patching the library from inside a handler: the grader fails that test), puts it
  back, and remembers the names the cell itself bound.

What it does not stop: a submission written to defeat this module in turn (it runs in the
same process and could patch the guard or its memory). Grading in a separate process
would; the course does not yet.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import types
from typing import Any, Callable, Iterable

#: Packages whose modules are remembered and restored, with their submodules.
PACKAGES = ("course_lib", "simpy")
#: Single modules remembered too: what the simulator and the kernel's error reporting rely on.
MODULES = ("random", "builtins", "IPython.core.interactiveshell", "ipykernel.zmqshell",
           "ipykernel.ipkernel", "ipykernel.kernelbase")
#: Course modules the kernel never needs (they start kernels; importing them costs time).
NOT_IN_KERNELS = ("course_lib.grading.execution",)
#: IPython hook lists a cell's code goes through before it runs.
_HOOK_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")


class _Memory:
    """The library as :func:`install` found it, and the names instructor cells bound."""

    def __init__(self) -> None:
        self.modules: dict[str, types.ModuleType] = {}
        self.names: dict[str, dict[str, Any]] = {}          # module -> its names then
        self.tables: dict[tuple[str, str], Any] = {}        # (module, name) -> a copy of its contents
        self.classes: list[tuple[type, str, dict[str, Any]]] = []
        self.functions: list[tuple[types.FunctionType, str, tuple]] = []
        self.hooks: dict[str, list] = {}
        self.events: dict[str, list] = {}
        self.custom_exceptions: tuple = ()
        self.instance_names: dict[int, set[str]] = {}       # id(shell or kernel) -> its attributes
        self.bound: dict[str, Any] = {}                     # notebook name -> what a locked cell bound


_memory: _Memory | None = None


#: Attributes Python itself adds to a class on first use: copying or pickling an instance of a
#: class with ``__slots__`` caches their names in ``__slotnames__`` (copyreg). Not tampering.
_PYTHON_CACHES = frozenset({"__slotnames__"})


def _shell() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the course always runs in IPython kernels
        return None
    return get_ipython()


def _owned(module_name: Any, names: Iterable[str]) -> bool:
    return isinstance(module_name, str) and module_name in names


def _functions_of(value: Any) -> list[types.FunctionType]:
    """The plain functions behind a class attribute or module name (methods, properties, ...)."""
    if isinstance(value, types.FunctionType):
        return [value]
    if isinstance(value, (staticmethod, classmethod)):
        return _functions_of(value.__func__)
    if isinstance(value, property):
        return [f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)]
    return []


def _where(obj: Any) -> str:
    return f"{obj.__module__}.{getattr(obj, '__qualname__', obj.__name__)}"


def _code(function: types.FunctionType) -> tuple:
    return (function.__code__, function.__defaults__, function.__kwdefaults__)


def install() -> str:
    """Import the course library and remember it, and IPython's hooks, as they are now.

    Called by the grader before a notebook's first cell. Returns a JSON summary
    (how many modules, classes and functions it watches).
    """
    global _memory
    import course_lib

    for info in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if info.name not in NOT_IN_KERNELS:
            importlib.import_module(info.name)
    memory = _memory = _Memory()  # remembered as set: the guard's own module is watched too
    for name in sorted(sys.modules):
        wanted = name in MODULES or any(name == p or name.startswith(p + ".") for p in PACKAGES)
        if wanted and name not in NOT_IN_KERNELS and isinstance(sys.modules[name], types.ModuleType):
            memory.modules[name] = sys.modules[name]
    owners = set(memory.modules)
    seen_classes: set[int] = set()
    seen_functions: set[int] = set()

    def watch_function(function: types.FunctionType) -> None:
        if id(function) not in seen_functions and _owned(function.__module__, owners):
            seen_functions.add(id(function))
            memory.functions.append((function, _where(function), _code(function)))

    def watch_class(cls: type) -> None:
        if id(cls) in seen_classes or not _owned(cls.__module__, owners):
            return
        seen_classes.add(id(cls))
        memory.classes.append((cls, _where(cls), dict(vars(cls))))
        for value in vars(cls).values():
            for function in _functions_of(value):
                watch_function(function)
            if isinstance(value, type):
                watch_class(value)

    for name, module in memory.modules.items():
        names = dict(vars(module))
        memory.names[name] = names
        for attr, value in names.items():
            if isinstance(value, type):
                watch_class(value)
            for function in _functions_of(value):
                watch_function(function)
            if name.startswith("course_lib") and type(value) in (dict, list, set):
                memory.tables[(name, attr)] = value.copy()
    shell = _shell()
    if shell is not None:
        memory.hooks = {hook: list(getattr(shell, hook, [])) for hook in _HOOK_LISTS}
        memory.events = {event: list(callbacks) for event, callbacks in shell.events.callbacks.items()}
        memory.custom_exceptions = shell.custom_exceptions
        for owner in (shell, getattr(shell, "kernel", None)):
            if owner is not None:
                memory.instance_names[id(owner)] = set(vars(owner))
    return json.dumps({"modules": len(memory.modules), "classes": len(memory.classes),
                       "functions": len(memory.functions)})


def _learners(callback: Any) -> bool:
    """Whether a callback was written in the notebook (not by a library)."""
    module = getattr(callback, "__module__", None) or getattr(getattr(callback, "__func__", None),
                                                               "__module__", None)
    return module in (None, "__main__")


def _library_changes(memory: _Memory) -> list[tuple[str, Callable[[], None]]]:
    """What differs from the remembered library: (what, how to put it back)."""
    found: list[tuple[str, Callable[[], None]]] = []
    for name, module in memory.modules.items():
        if sys.modules.get(name) is not module:
            found.append((f"sys.modules[{name!r}] was replaced",
                          lambda n=name, m=module: sys.modules.__setitem__(n, m)))
    for name, names in memory.names.items():
        current = vars(memory.modules[name])
        for attr, value in names.items():
            if current.get(attr, _MISSING) is not value:
                verb = "deleted" if attr not in current else "replaced"
                found.append((f"{name}.{attr} was {verb}",
                              lambda d=current, a=attr, v=value: d.__setitem__(a, v)))
    for (name, attr), saved in memory.tables.items():
        table = memory.names[name][attr]
        if _table_lost(table, saved):
            found.append((f"the contents of {name}.{attr} were changed",
                          lambda t=table, s=saved: _refill_table(t, s)))
    for cls, where, saved in memory.classes:
        current = vars(cls)
        for attr, value in saved.items():
            if current.get(attr, _MISSING) is not value:
                verb = "deleted" if attr not in current else "replaced"
                found.append((f"{where}.{attr} was {verb}",
                              lambda c=cls, a=attr, v=value: setattr(c, a, v)))
        for attr in set(current) - set(saved) - _PYTHON_CACHES:
            found.append((f"{where}.{attr} was added", lambda c=cls, a=attr: delattr(c, a)))
    for function, where, saved in memory.functions:
        if any(now is not then for now, then in zip(_code(function), saved)):
            found.append((f"the code or defaults of {where} were replaced",
                          lambda f=function, s=saved: _recode(f, s)))
    shell = _shell()
    if shell is not None and memory.hooks:
        for hook, saved in memory.hooks.items():
            current = getattr(shell, hook, None)
            if isinstance(current, list) and _table_differs(current, saved):
                found.append((f"IPython's {hook} were changed", lambda t=current, s=saved: _refill(t, s)))
        if shell.custom_exceptions != memory.custom_exceptions:
            found.append(("IPython's custom exception handler was set",
                          lambda s=shell: _reset_custom_exceptions(s, memory)))
        for event, callbacks in shell.events.callbacks.items():
            saved = memory.events.get(event, [])
            keep = [cb for cb in callbacks if cb in saved or not _learners(cb)]
            keep += [cb for cb in saved if cb not in keep]
            if _table_differs(callbacks, keep):
                found.append((f"IPython's {event!r} callbacks were changed",
                              lambda t=callbacks, s=keep: _refill(t, s)))
        for owner in (shell, getattr(shell, "kernel", None)):
            if owner is None or id(owner) not in memory.instance_names:
                continue
            for attr in set(vars(owner)) - memory.instance_names[id(owner)]:
                value = vars(owner)[attr]
                if callable(value) and hasattr(type(owner), attr):
                    found.append((f"{type(owner).__name__}.{attr} was overridden",
                                  lambda o=owner, a=attr: o.__dict__.pop(a, None)))
    return found


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _table_lost(current: Any, saved: Any) -> bool:
    """Whether a module-level table lost or changed an entry it had (new entries are caches' own)."""
    if isinstance(saved, dict):
        return any(current.get(k, _MISSING) is not v for k, v in saved.items())
    if isinstance(saved, set):
        return not saved <= current
    return len(current) < len(saved) or any(a is not b for a, b in zip(current, saved))


def _refill_table(table: Any, saved: Any) -> None:
    """Put back a table's remembered entries; a dict or set keeps the ones added since."""
    if isinstance(table, dict):
        table.update(saved)
    elif isinstance(table, set):
        table |= saved
    else:
        table[:] = saved


def _table_differs(current: Any, saved: Any) -> bool:
    if isinstance(saved, dict):
        return (current.keys() != saved.keys()
                or any(current[k] is not v for k, v in saved.items()))
    if isinstance(saved, set):
        return current != saved
    return len(current) != len(saved) or any(a is not b for a, b in zip(current, saved))


def _refill(table: Any, saved: Any) -> None:
    if isinstance(table, list):
        table[:] = saved
    else:
        table.clear()
        table.update(saved)


def _recode(function: types.FunctionType, saved: tuple) -> None:
    function.__code__, function.__defaults__, function.__kwdefaults__ = saved


def _reset_custom_exceptions(shell: Any, memory: _Memory) -> None:
    shell.custom_exceptions = memory.custom_exceptions
    shell.__dict__.pop("CustomTB", None)


def _library_object(value: Any) -> bool:
    """Whether ``value`` is a module, or a function or class a library defines (not the notebook)."""
    if isinstance(value, types.ModuleType):
        return True
    if isinstance(value, type) or callable(value):
        module = getattr(value, "__module__", None)
        return isinstance(module, str) and module != "__main__"
    return False


def _name_changes(memory: _Memory, user_ns: dict, allowed: Iterable[str] = ()) -> list[tuple[str, Callable]]:
    allowed = set(allowed)
    found = []
    for name, value in memory.bound.items():
        if name not in allowed and user_ns.get(name, _MISSING) is not value:
            verb = "deleted" if name not in user_ns else "rebound"
            found.append((f"the notebook name {name!r} (an instructor cell's) was {verb}",
                          lambda n=name, v=value: user_ns.__setitem__(n, v)))
    return found


def _put_back(found: list[tuple[str, Callable]]) -> list[str]:
    for _, undo in found:
        undo()
    return [what for what, _ in found]


def _report(**fields: Any) -> str:
    return json.dumps(fields)


def _namespace(user_ns: dict | None) -> dict:
    if user_ns is not None:
        return user_ns
    shell = _shell()
    return shell.user_ns if shell is not None else {}


def before(user_ns: dict | None = None) -> str:
    """Put back the library and the instructor cells' notebook names; return JSON ``{"restored": [...]}``.

    Called by the grader before each instructor cell. Empty when nothing changed.
    ``user_ns`` is the notebook's namespace (default: the IPython kernel's).
    """
    if _memory is None:
        return _report(restored=[], error="the guard was not installed")
    user_ns = _namespace(user_ns)
    restored = _put_back(_library_changes(_memory))
    restored += _put_back(_name_changes(_memory, user_ns))
    return _report(restored=restored)


def after(names: Iterable[str] | None = (), setup: bool = False, user_ns: dict | None = None) -> str:
    """Say what changed while an instructor cell ran, put it back, and remember the cell's names.

    Args:
        names: the names the cell's own code binds (the grader reads them from its source):
            rebinding those is the cell's business; any other change is not. None when
            the grader could not tell (a star import): no name is checked or remembered.
        setup: the cell comes before the learner's first cell (it sets up the notebook):
            every name it binds is kept (``SEED``, its helpers). A later instructor cell's
            names are kept when they are modules or library functions and classes
            (an import); its other names (``leader = cluster.check_one_leader()``) are its
            own business, and a learner's cell may reuse them.
        user_ns: the notebook's namespace (default: the IPython kernel's).

    Returns JSON ``{"changed": [...]}``: what the cell's run changed in the library, or in
    names earlier instructor cells bound, that its code does not bind.
    """
    if _memory is None:
        return _report(changed=[], error="the guard was not installed")
    user_ns = _namespace(user_ns)
    changed = _put_back(_library_changes(_memory))
    if names is None:  # the grader could not read the cell (a star import): its names are its own
        return _report(changed=changed)
    names = list(names)
    changed += _put_back(_name_changes(_memory, user_ns, allowed=names))
    for name in names:
        value = user_ns.get(name, _MISSING)
        if value is not _MISSING and (setup or _library_object(value)):
            _memory.bound[name] = value
        else:
            _memory.bound.pop(name, None)
    return _report(changed=changed)


def changes() -> list[str]:
    """What differs now from the library :func:`install` remembered (nothing is put back)."""
    if _memory is None:
        return []
    return [what for what, _ in _library_changes(_memory)]


def uninstall() -> None:
    """Forget what :func:`install` remembered (the project's tests use it)."""
    global _memory
    _memory = None
