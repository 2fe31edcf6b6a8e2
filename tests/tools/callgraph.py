#!/usr/bin/python3
"""Count the include graph and the cross-file call graph of the C sources and
find the loops in them: files that call each other, directly or round a
circle. The project's rule is that there are none.

    tests/tools/callgraph.py [ROOT]            summary and every loop
    tests/tools/callgraph.py --edges [ROOT]    also every cross-file call edge
    tests/tools/callgraph.py --check [ROOT]    exit 1 if any loop exists

A call edge A -> B means a function in A.c calls a non-static function that
only B.c defines. An include edge A -> B means A includes "B" (quoted; the
header found by name in the tree). Test sources, build trees and generated
files are left out. The C is read as text with comments, strings and
preprocessor lines removed; that is exact enough for this code base, which
does not hide calls in macros across files.

Only the standard library is used, so the script runs wherever python3 does.
"""
import os
import re
import sys

KEYWORDS = {
    "if", "for", "while", "switch", "return", "sizeof", "do", "else", "case",
    "_Alignof", "alignof", "_Static_assert", "__attribute__", "defined",
    "__typeof__", "typeof", "_Generic", "__builtin_expect", "offsetof",
}
SKIP_DIRS = {"tests", ".git", "node_modules"}


def strip(text):
    """Remove comments, string and char literals, and preprocessor lines."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    lines = "".join(out).split("\n")
    res, cont = [], False
    for line in lines:
        if cont or line.lstrip().startswith("#"):
            cont = line.rstrip().endswith("\\")
            res.append("")
        else:
            res.append(line)
    return "\n".join(res)


IDENT_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")


def scan(code):
    """Return (defined: {name: is_static}, called: set of names) of one file."""
    defined, called = {}, set()
    depth, i, n = 0, 0, len(code)
    last_top = 0  # where the current top-level declaration began
    while i < n:
        c = code[i]
        if c == "{":
            if depth == 0:
                head = code[last_top:i]
                m = None
                for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", head):
                    break
                # a function definition: ident( ... ) { at file scope, not a
                # struct/enum/union body or an initialiser
                if m and not re.search(r"=\s*$", head.strip()) and \
                        re.search(r"\)\s*(__attribute__\s*\(\(.*\)\)\s*)?$", head.strip(), re.S) and \
                        not re.match(r"\s*(typedef\s+)?(struct|union|enum)\b[^(]*$", head):
                    name = m.group(1)
                    if name not in KEYWORDS:
                        defined[name] = bool(re.search(r"\bstatic\b", head[:m.start()]))
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                last_top = i + 1
        elif c == ";" and depth == 0:
            last_top = i + 1
        elif depth > 0 and (c.isalpha() or c == "_"):
            m = IDENT_CALL.match(code, i)
            if m:
                if m.group(1) not in KEYWORDS:
                    called.add(m.group(1))
                i = m.end() - 1
            else:
                while i < n and (code[i].isalnum() or code[i] == "_"):
                    i += 1
                continue
        i += 1
    return defined, called


def sources(root):
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        top = rel.split(os.sep)[0]
        dirs[:] = sorted(x for x in dirs
                         if x not in SKIP_DIRS and not x.startswith("build") and not x.startswith("."))
        if top in SKIP_DIRS or top.startswith("build"):
            continue
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.normpath(os.path.join(rel, f))


def sccs(nodes, edges):
    """Tarjan: the strongly connected components with more than one node."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def main(argv):
    check = "--check" in argv
    show_edges = "--edges" in argv
    args = [a for a in argv if not a.startswith("--")]
    root = args[0] if args else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    root = os.path.abspath(root)
    files = list(sources(root))
    by_base = {}
    for f in files:
        by_base.setdefault(os.path.basename(f), []).append(f)

    inc_edges, call_edges, defs, calls, names = {}, {}, {}, {}, {}
    for f in files:
        text = open(os.path.join(root, f), encoding="utf-8", errors="replace").read()
        for m in re.finditer(r'^\s*#\s*include\s+"([^"]+)"', text, re.M):
            cands = by_base.get(os.path.basename(m.group(1)), [])
            if cands:
                # the header beside the includer first, then any of that name
                same = [c for c in cands if os.path.dirname(c) == os.path.dirname(f)]
                inc_edges.setdefault(f, set()).add((same or cands)[0])
        if f.endswith(".c"):
            d, c = scan(strip(text))
            defs[f], calls[f] = d, c
            for name, is_static in d.items():
                if not is_static:
                    names.setdefault(name, []).append(f)

    for f, called in calls.items():
        for name in called:
            owners = names.get(name, [])
            if len(owners) == 1 and owners[0] != f and not defs[f].get(name, False) is True:
                if name in defs[f]:
                    continue  # the file's own (static) function of that name
                call_edges.setdefault(f, {}).setdefault(owners[0], set()).add(name)

    n_inc = sum(len(v) for v in inc_edges.values())
    n_call = sum(len(v) for v in call_edges.values())
    call_sets = {a: set(b) for a, b in call_edges.items()}
    inc_loops = sccs(files, inc_edges)
    call_loops = sccs([f for f in files if f.endswith(".c")], call_sets)
    mutual = sorted({tuple(sorted((a, b))) for a, bs in call_sets.items() for b in bs
                     if a in call_sets.get(b, set())})

    print(f"files: {len(files)} ({sum(f.endswith('.c') for f in files)} .c, "
          f"{sum(f.endswith('.h') for f in files)} .h)")
    print(f"include edges: {n_inc}; include loops: {len(inc_loops)}")
    print(f"cross-file call edges (file pairs): {n_call}; "
          f"pairs that call each other: {len(mutual)}; call loops: {len(call_loops)}")
    for comp in inc_loops:
        print("include loop: " + " <-> ".join(comp))
    for comp in call_loops:
        print("call loop: " + ", ".join(comp))
        for a in comp:
            for b in sorted(call_edges.get(a, {})):
                if b in comp:
                    print(f"    {a} -> {b}: {', '.join(sorted(call_edges[a][b]))}")
    if show_edges:
        for a in sorted(call_edges):
            for b in sorted(call_edges[a]):
                print(f"call {a} -> {b}: {', '.join(sorted(call_edges[a][b]))}")
    if check and (inc_loops or call_loops):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
