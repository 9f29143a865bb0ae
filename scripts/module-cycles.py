#!/usr/bin/env python3
"""Finds module import cycles in every crate of the workspace.

A node is a module (`crate`, `crate::grade`, `crate::grade::splice`); an
edge M -> N means a path in M's file names an item of N: `crate::a::b`,
`super::x`, `self::x` or a child `x::` of M. A path that stops at the crate
root (`crate::Rules`) is followed through the root's `pub use` to the module
that defines the name, so the root's re-exports are not edges. Declaring a
child (`mod x;`) is not an edge; using it is. Prints each cycle and exits 1
if there is one.

    scripts/module-cycles.py [crates-dir]
"""
import os
import re
import sys

MOD_DECL = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", re.M)
PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+)")
USE = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?use\s+([^;]+);", re.M | re.S)


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    # Test modules may use anything of their parent.
    return re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]


def crate_modules(src):
    """Module path (tuple) -> (file, text)."""
    mods = {}

    def walk(path, file):
        text = strip(open(file, encoding="utf-8").read())
        mods[path] = (file, text)
        base = os.path.dirname(file)
        stem = os.path.splitext(os.path.basename(file))[0]
        for name in MOD_DECL.findall(text):
            if stem in ("lib", "main", "mod"):
                cands = [os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")]
            else:
                cands = [os.path.join(base, stem, name + ".rs"), os.path.join(base, stem, name, "mod.rs")]
            for c in cands:
                if os.path.exists(c):
                    walk(path + (name,), c)
                    break

    for root in ("lib.rs", "main.rs"):
        f = os.path.join(src, root)
        if os.path.exists(f):
            walk((), f)
    return mods


def reexports(root_text):
    """Names the crate root re-exports -> the module path they come from."""
    out = {}
    for use in USE.findall(root_text):
        use = " ".join(use.split())
        m = re.match(r"(\w+(?:::\w+)*)::\{(.*)\}$", use)
        if m:
            prefix, names = m.group(1), [n.strip() for n in m.group(2).split(",") if n.strip()]
        else:
            prefix, _, last = use.rpartition("::")
            names = [last]
        for n in names:
            n = n.split(" as ")[-1].strip()
            out[n] = tuple(p for p in prefix.split("::") if p not in ("crate", "self"))
    return out


def edges(mods):
    root_exports = reexports(mods[()][1])
    out = {m: set() for m in mods}
    for m, (_, text) in mods.items():
        children = {c[-1] for c in mods if len(c) == len(m) + 1 and c[:-1] == m}
        refs = []
        for kind, rest in PATH.findall(text):
            parts = [p for p in rest.split("::") if p]
            if kind == "crate":
                base = ()
            elif kind == "super":
                base = m[:-1]
                while parts and parts[0] == "super":
                    base, parts = base[:-1], parts[1:]
            else:
                base = m
            refs.append((base, parts))
        for child in children:
            if re.search(r"\b%s::\w" % child, text):
                refs.append((m, [child, "x"]))
        for base, parts in refs:
            target = base
            for p in parts:
                if target + (p,) in mods:
                    target = target + (p,)
                else:
                    break
            if target == () and parts and parts[0] in root_exports:
                target = root_exports[parts[0]]
                while target and target not in mods:
                    target = target[:-1]
            if target != m and target != ():
                out[m].add(target)
    return out


def cycles(graph):
    index, low, stack, on, found = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    crates = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "crates")
    bad = 0
    total = 0
    for name in sorted(os.listdir(crates)):
        src = os.path.join(crates, name, "src")
        if not os.path.isdir(src):
            continue
        mods = crate_modules(src)
        graph = edges(mods)
        total += len(mods)
        for comp in cycles(graph):
            bad += 1
            shown = ", ".join("::".join(("crate",) + c) for c in sorted(comp))
            print("%s: cycle among %s" % (name, shown))
    print("%d modules checked, %d cycles" % (total, bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
