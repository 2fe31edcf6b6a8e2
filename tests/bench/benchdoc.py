"""Where a benchmark's results go: its own marked section of docs/benchmarks.md.

Each benchmark owns the text between two markers, `<!-- NAME:begin -->` and
`<!-- NAME:end -->`, and replaces only that with --write, so sections that
other benchmarks wrote, and the prose around them, stay as they are. The
file is read when the results are written, not when the benchmark started:
a run of an hour must not undo what another benchmark wrote meanwhile.

    from benchdoc import write_section
    write_section(block, BEGIN, END)                   # block includes both markers
    write_section(block, BEGIN, END, after=OTHER_END)  # a new section goes after OTHER_END

    /usr/bin/python3 tests/bench/benchdoc.py --self-test
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "benchmarks.md")


def markers(name):
    """the begin and end markers of section NAME"""
    return "<!-- %s:begin -->" % name, "<!-- %s:end -->" % name


def replace_section(doc, block, begin, end, after=None, path=DOC):
    """doc with the text from begin to end (both included) replaced by block.
    A doc without the section gets it after the marker `after` when that is
    in doc, else at the end. block must start with begin and end with end;
    a doc holding begin without a later end is refused (rewriting it would
    cut whatever follows)."""
    block = block.strip("\n")
    if not (block.startswith(begin) and block.endswith(end)):
        raise ValueError("the block for %s must start with it and end with %s" % (begin, end))
    if doc.count(begin) > 1 or doc.count(end) > 1:
        raise ValueError("%s holds %s or %s more than once; fix it by hand" % (path, begin, end))
    i = doc.find(begin)
    if i >= 0:
        j = doc.find(end, i)
        if j < 0:
            raise ValueError("%s has %s but no %s after it; fix it by hand" % (path, begin, end))
        return doc[:i] + block + doc[j + len(end):]
    if end in doc:
        raise ValueError("%s has %s without its %s; fix it by hand" % (path, end, begin))
    if after and after in doc:
        k = doc.index(after) + len(after)
        return doc[:k] + "\n\n" + block + doc[k:]
    return doc.rstrip("\n") + "\n\n" + block + "\n"


def write_section(block, begin, end, after=None, path=DOC):
    """replace (or add) the section in the file at path; prints where"""
    with open(path) as f:
        doc = f.read()
    try:
        new = replace_section(doc, block, begin, end, after, path)
    except ValueError as e:
        sys.exit("benchdoc: " + str(e))
    with open(path, "w") as f:
        f.write(new)
    print("wrote", path, file=sys.stderr)


def self_test():
    b, e = markers("x")
    blk = b + "\nnew\n" + e
    doc = "# T\n\nbefore\n" + b + "\nold\n" + e + "\nafter\n"
    assert replace_section(doc, blk, b, e) == "# T\n\nbefore\n" + blk + "\nafter\n"
    assert replace_section("# T\n", blk, b, e) == "# T\n\n" + blk + "\n"
    yb, ye = markers("y")
    doc = "# T\n" + yb + "\ny\n" + ye + "\ntail\n"
    assert replace_section(doc, blk, b, e, after=ye) == \
        "# T\n" + yb + "\ny\n" + ye + "\n\n" + blk + "\ntail\n"
    assert replace_section("# T\n", blk, b, e, after=ye) == "# T\n\n" + blk + "\n"
    for bad_doc in ("a\n" + b + "\nno end\n", "a\n" + e + "\n" + b + "\n",
                    b + e + "\n" + b + e + "\n", "a\n" + e + "\nno begin\n"):
        try:
            replace_section(bad_doc, blk, b, e)
        except ValueError:
            continue
        raise AssertionError("accepted a broken section: %r" % bad_doc)
    try:
        replace_section("# T\n", "no markers", b, e)
    except ValueError:
        pass
    else:
        raise AssertionError("accepted a block without its markers")
    check_scripts()
    print("benchdoc: self-test passed")


def check_scripts():
    """every benchmark that calls write_section (or markers) imports it at
    module level, not inside a code string it runs in a subprocess: a
    misplaced import fails only after the whole benchmark has run"""
    import ast
    import glob
    here = os.path.dirname(os.path.abspath(__file__))
    for f in sorted(glob.glob(os.path.join(here, "*.py"))):
        if os.path.basename(f) == "benchdoc.py":
            continue
        tree = ast.parse(open(f).read(), f)
        used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} & \
            {"write_section", "markers"}
        have = {a.name for n in tree.body if isinstance(n, ast.ImportFrom) and
                n.module == "benchdoc" for a in n.names}
        missing = used - have
        if missing:
            raise AssertionError("%s uses %s without importing it from benchdoc at module "
                                 "level" % (os.path.basename(f), ", ".join(sorted(missing))))


if __name__ == "__main__":
    if sys.argv[1:] == ["--self-test"]:
        self_test()
    else:
        sys.exit(__doc__)
