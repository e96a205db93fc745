#!/usr/bin/env python3
"""The shim's layering, checked: the `#include "..."` graph of preload/ has no
cycle, except the lazy-init pair (init and a module that must call back into
it).

A module is a .c file together with the header of the same name (fdtab.c and
fdtab.h are one node); a header without a .c file (shim.h, tls.h, proc.h) is a
node of its own.  An edge runs from a module to every module whose header one
of its files includes.  Includes outside preload/ (parkwatch/trace.h, the
system headers) are not part of the graph.

Usage: include_graph.py PRELOAD_DIR
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# The one cycle the layering allows: lazy initialisation runs from the first
# interposed call, so init may be called back by a module it initialises.
ALLOWED_PAIR_MEMBER = "init"


def module_of(path):
    return os.path.splitext(os.path.basename(path))[0]


def build_graph(root):
    files = []
    for dirpath, _, names in os.walk(root):
        files += [os.path.join(dirpath, n) for n in names if n.endswith((".c", ".h"))]
    by_name = {os.path.basename(f): f for f in files}
    graph = {}
    for f in files:
        mod = module_of(f)
        graph.setdefault(mod, set())
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            name = os.path.basename(inc)
            if name not in by_name:
                continue  # not a preload/ header (parkwatch/*.h, parkwatch.h)
            dep = module_of(name)
            if dep != mod:
                graph[mod].add(dep)
    return graph


def strongly_connected(graph):
    """Tarjan's algorithm; returns the components with more than one node."""
    index, low, on_stack, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def allowed(comp):
    return len(comp) == 2 and ALLOWED_PAIR_MEMBER in comp


def self_test():
    """The checker must see a cycle when there is one."""
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "init": {"x"}, "x": {"init"}, "d": set()}
    comps = strongly_connected(g)
    assert ["a", "b", "c"] in comps and ["init", "x"] in comps, comps
    assert not allowed(["a", "b", "c"]) and allowed(["init", "x"])


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    self_test()
    graph = build_graph(sys.argv[1])
    if len(graph) < 10:
        print(f"only {len(graph)} modules found under {sys.argv[1]}", file=sys.stderr)
        return 1
    bad = [c for c in strongly_connected(graph) if not allowed(c)]
    for comp in bad:
        members = set(comp)
        edges = [f"{a} -> {b}" for a in comp for b in sorted(graph[a]) if b in members]
        print("include cycle among " + ", ".join(comp) + ": " + "; ".join(edges))
    if bad:
        return 1
    print(f"{len(graph)} modules, no include cycle outside the lazy-init pair")
    return 0


if __name__ == "__main__":
    sys.exit(main())
