"""Lists the API surface of this interpreter's environment as JSON: for every
public standard-library module and every top-level module of an installed
distribution, and their public submodules, the names it defines, each with
its kind, a class's attributes, and a callable's keyword parameters where
inspect.signature can tell. With --stdlib, the standard library alone.

Modules are imported to be described, so this runs inside the sandbox."""
import ast
import builtins
import contextlib
import importlib
import importlib.util
import inspect
import io
import json
import pkgutil
import sys
import textwrap
import warnings

# Modules whose import opens windows, starts programs or needs a terminal.
SKIP = {
    "antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "pydoc_data", "ensurepip",
    "lib2to3", "test", "__main__", "__phello__", "__hello__", "xxsubtype", "xxlimited", "xxlimited_35",
}
# Packages whose submodules are data, not API.
NO_SUBMODULES = {"encodings"}
MAX_SUBMODULES = 300


def params(obj, depth=0):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError, RuntimeError):
        return None
    names, var_keyword = [], False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        elif p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            names.append(p.name)
    out = {"names": names, "var_keyword": var_keyword}
    if var_keyword and depth < 3:
        fwd = forwarded(obj, sig, depth)
        if fwd is not None:
            extra, via = fwd
            out = {"names": names + sorted(set(extra) - set(names)), "var_keyword": False, "forward_via": via}
    return out


def forwarded(fn, sig, depth):
    """Where a pure-Python function passes its **kwargs on (`cls(**kw)` in
    json.dumps, with `cls = JSONEncoder`): the keywords the callees take, and
    the parameters that would change the callee. None when any callee is not
    a plain name resolving to a callable without **kwargs of its own."""
    varkw = next(p.name for p in sig.parameters.values() if p.kind is p.VAR_KEYWORD)
    fn = getattr(fn, "__init__", fn) if inspect.isclass(fn) else fn
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except Exception:
        return None
    if not tree.body or not isinstance(tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    assigned = {}
    for node in ast.walk(tree.body[0]):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            assigned.setdefault(node.targets[0].id, []).append(node.value)
    calls = [
        node.func
        for node in ast.walk(tree.body[0])
        if isinstance(node, ast.Call)
        and any(k.arg is None and isinstance(k.value, ast.Name) and k.value.id == varkw for k in node.keywords)
    ]
    # `kw.pop("x")`, `kw["x"]` or `g(kw)` reads keywords itself: not only forwarded.
    def is_kw(n):
        return isinstance(n, ast.Name) and n.id == varkw

    for n in ast.walk(tree.body[0]):
        if isinstance(n, (ast.Attribute, ast.Subscript)) and is_kw(n.value):
            return None
        if isinstance(n, ast.Call) and any(is_kw(a) for a in n.args):
            return None
        if isinstance(n, ast.Assign) and any(is_kw(x) for x in ast.walk(n.value)):
            return None
    if not calls:
        return None
    scope = getattr(fn, "__globals__", {})
    names, via = set(), []
    for func in calls:
        if not isinstance(func, ast.Name):
            return None
        if func.id in sig.parameters:
            via.append(func.id)
        for expr in assigned.get(func.id, [func]):
            if not isinstance(expr, ast.Name):
                return None
            target = scope.get(expr.id, getattr(builtins, expr.id, None))
            if target is None or not callable(target):
                return None
            sub = params(target, depth + 1)
            if sub is None or sub["var_keyword"]:
                return None
            names.update(sub["names"])
    return sorted(names), sorted(set(via))


def member(obj):
    if inspect.ismodule(obj):
        return {"kind": "module", "target": obj.__name__}
    if inspect.isclass(obj):
        m = {"kind": "class", "attributes": sorted(n for n in dir(obj) if not n.startswith("__"))}
    elif callable(obj):
        m = {"kind": "function"}
    else:
        return {"kind": "value"}
    p = params(obj)
    if p is not None:
        m["params"] = p
    return m


def describe(name):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        mod = importlib.import_module(name)
    members = {}
    for attr in dir(mod):
        try:
            members[attr] = member(getattr(mod, attr))
        except Exception:
            members[attr] = {"kind": "value"}
    subs = []
    if hasattr(mod, "__path__") and name.split(".")[0] not in NO_SUBMODULES:
        subs = sorted(i.name for i in pkgutil.iter_modules(mod.__path__) if not i.name.startswith("_"))
    return {"members": members, "submodules": subs, "dynamic": "__getattr__" in vars(mod)}


def roots(stdlib_only):
    names = {n for n in sys.stdlib_module_names if not n.startswith("_")}
    if not stdlib_only:
        from importlib import metadata

        for top in metadata.packages_distributions():
            if top.isidentifier() and not top.startswith("_"):
                names.add(top)
    return sorted(names - SKIP)


def main():
    stdlib_only = "--stdlib" in sys.argv
    warnings.simplefilter("ignore")
    modules, failed, sources = {}, {}, {}
    queue = roots(stdlib_only)
    budget = {}
    while queue:
        name = queue.pop(0)
        top = name.split(".")[0]
        try:
            d = describe(name)
        except BaseException as e:  # an import may raise anything, SystemExit included
            failed[name] = "%s: %s" % (type(e).__name__, str(e)[:200])
            # A pure-Python module that cannot be imported here (an optional
            # dependency is missing) is indexed from its source instead.
            try:
                spec = importlib.util.find_spec(name)
                if spec is not None and spec.origin and spec.origin.endswith(".py"):
                    sources[name] = spec.origin
            except BaseException:
                pass
            continue
        modules[name] = d
        for s in d["submodules"]:
            if s in ("test", "tests") or budget.get(top, 0) >= MAX_SUBMODULES:
                continue
            budget[top] = budget.get(top, 0) + 1
            queue.append(name + "." + s)
    v = sys.version_info
    out = sys.stdout
    if "--out" in sys.argv:
        out = open(sys.argv[sys.argv.index("--out") + 1], "w", encoding="utf-8")
    json.dump(
        {"python": "%d.%d" % (v.major, v.minor), "modules": modules, "failed": failed, "sources": sources},
        out,
        sort_keys=True,
        separators=(",", ":"),
    )
    out.close()


main()
