#!/usr/bin/env python3
"""check_container.py SOURCE_DIR BUILD_DIR: deploy/container/Dockerfile
checked without docker (not installable here: Debian has no docker engine
that runs in this sandbox, and no registry to pull debian:bookworm from).

- two stages on Debian bookworm; the run stage copies from the build stage
  by name, runs as a numeric non-root user that it creates;
- every COPY source exists in the repository; the install-deps.sh options
  it uses exist;
- the build stage's --target names and the paths the run stage copies are
  what `cmake --install` really produces: the install is run here into a
  temp prefix with the Dockerfile's flags, and the installed programs run;
- the run stage's packages (install-deps.sh --runtime-only) provide every
  shared library the binaries load: each library's Debian package is in
  the dependency closure of that list.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC, BUILD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
DOCKERFILE = os.path.join(SRC, "deploy", "container", "Dockerfile")
errors = []


def err(m):
    errors.append(m)


with open(DOCKERFILE) as f:
    text = f.read()
# join continuation lines, drop comments
lines = []
cur = ""
for raw in text.splitlines():
    s = raw.strip()
    if not cur and (not s or s.startswith("#")):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append(cur + s)
    cur = ""
instrs = [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1] if " " in ln else "")
          for ln in lines]

stages = []  # (base, name)
for op, rest in instrs:
    if op == "FROM":
        m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest, re.I)
        stages.append((m.group(1), m.group(2)))
if len(stages) < 2:
    err("the Dockerfile is not multi-stage")
for base, _ in stages:
    if not re.match(r"debian:bookworm(-slim)?$", base):
        err(f"stage base {base} is not Debian bookworm")
names = {n for _, n in stages if n}

# the last stage's instructions
last = []
for op, rest in instrs:
    if op == "FROM":
        last = []
    last.append((op, rest))
users = [rest for op, rest in last if op == "USER"]
uid = None
if not users:
    err("the run stage has no USER: it would run as root")
else:
    m = re.match(r"(\d+)(?::(\d+))?$", users[-1])
    if not m or int(m.group(1)) == 0:
        err(f"USER {users[-1]} is not a numeric non-root user (Kubernetes' runAsNonRoot "
            "needs a number)")
    else:
        uid = int(m.group(1))
        if not re.search(rf"useradd\b[^&]*--uid {uid}\b", text):
            err(f"the run stage does not create the user {uid} (useradd --uid {uid})")

# install-deps.sh options
with open(os.path.join(SRC, "deploy", "install-deps.sh")) as f:
    deps = f.read()
deps_opts = set(re.findall(r"^\s+(--[a-z-]+)\)", deps, re.M))
for opt in set(re.findall(r"install-deps\.sh\s+(--[a-z-]+)", text)):
    if opt not in deps_opts:
        err(f"install-deps.sh has no option {opt} (has {sorted(deps_opts)})")

# COPY sources and --from paths
copied = []
for op, rest in instrs:
    if op != "COPY":
        continue
    parts = rest.split()
    frm = None
    while parts and parts[0].startswith("--"):
        m = re.match(r"--from=(\S+)", parts[0])
        if m:
            frm = m.group(1)
        parts = parts[1:]
    srcs = parts[:-1]
    if frm:
        if frm not in names:
            err(f"COPY --from={frm}: no stage of that name ({sorted(names)})")
        copied += srcs
    else:
        for s in srcs:
            if not os.path.exists(os.path.join(SRC, s)):
                err(f"COPY {s}: not in the repository")

# the install, as the build stage runs it
with open(os.path.join(SRC, "CMakeLists.txt")) as f:
    cm = f.read()
m = re.search(r"install\(TARGETS ([^)]*?) RUNTIME DESTINATION (\S+)\)", cm)
if not m:
    err("CMakeLists.txt installs no programs")
    sys.exit("check_container: FAIL\n  " + "\n  ".join(errors))
targets, dest = m.group(1).split(), m.group(2)
joined = "\n".join(lines)
built = re.search(r"--target ((?:\S+ ?)+?)\s*&&", joined)
build_targets = built.group(1).split() if built else []
if set(build_targets) != set(targets):
    err(f"the build stage builds {build_targets}, the install installs {targets}")
for t in ("hpsearchd", "hpworker"):
    if t not in targets:
        err(f"the image lacks {t}")
pm = re.search(r"cmake --install \S+ --prefix (\S+)( --strip)?", joined)
if not pm:
    err("the build stage does not run cmake --install --prefix")
    sys.exit("check_container: FAIL\n  " + "\n  ".join(errors))
prefix = pm.group(1)
tmp = tempfile.mkdtemp(prefix="hp-container-")
try:
    cmd = ["cmake", "--install", BUILD, "--prefix", tmp] + (["--strip"] if pm.group(2) else [])
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        err(f"{' '.join(cmd)} failed: {r.stderr}")
    for c in copied:
        if not c.startswith(prefix + "/"):
            err(f"COPY --from: {c} is not under the install prefix {prefix}")
            continue
        p = os.path.join(tmp, os.path.relpath(c, prefix))
        if not os.path.isfile(p):
            err(f"COPY --from: {c}: `cmake --install` makes no such file")
        else:
            r = subprocess.run([p, "--help"], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                err(f"the installed {c} --help exited {r.returncode}: {r.stderr}")
    copied_names = {os.path.basename(c) for c in copied}
    for t in targets:
        if t not in copied_names:
            err(f"the run stage does not copy {t}")

    # runtime libraries -> Debian packages, within the runtime list's closure
    rt = re.search(r'RUNTIME_PKGS="([^"]*)"', deps)
    runtime = rt.group(1).split() if rt else []
    if not runtime:
        err("install-deps.sh has no RUNTIME_PKGS")

    def depends_closure(pkgs):
        r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends",
                            "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                            "--no-enhances", "--no-pre-depends"] + list(pkgs),
                           capture_output=True, text=True)
        out = set(pkgs)
        for ln in r.stdout.splitlines():
            ln = ln.strip()
            if ln.startswith("Depends:"):
                out.add(ln.split(":", 1)[1].strip().split(":")[0].strip("<>"))
            elif ln and not ln.startswith(("|", "Depends")):
                out.add(ln.split(":")[0].strip("<>"))
        return out

    closure = depends_closure(runtime)
    owners = []  # (program, library, package or None)
    for t in targets:
        exe = os.path.join(tmp, dest, t)
        out = subprocess.run(["ldd", exe], capture_output=True, text=True).stdout
        for lib in re.findall(r"=> (/\S+)", out):
            real = os.path.realpath(lib)
            owner = None
            for cand in (lib, real, "/usr" + lib, "/usr" + real):
                q = subprocess.run(["dpkg", "-S", cand], capture_output=True, text=True)
                if q.returncode == 0:
                    owner = q.stdout.split(":")[0].split(",")[0].strip()
                    break
            owners.append((t, lib, owner))
    # a sanitizer build (HP_SANITIZE) loads its runtime and what that needs:
    # not the image's (the image is built without sanitizers)
    sanitizer = {o for _, _, o in owners if o and re.match(r"lib(asan|ubsan|lsan|tsan)\d*$", o)}
    ignore = depends_closure(sanitizer) - closure if sanitizer else set()
    for t, lib, owner in owners:
        if owner is None:
            err(f"{t} loads {lib}, which no Debian package owns")
        elif owner not in closure and owner not in ignore:
            err(f"{t} loads {lib} from {owner}, which install-deps.sh --runtime-only "
                f"does not bring in")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

if errors:
    sys.exit("check_container: FAIL\n  " + "\n  ".join(errors))
print(f"check_container: PASS: {len(stages)} bookworm stages, user {uid}, "
      f"{len(copied)} programs copied as cmake --install lays them out, their libraries "
      f"all from install-deps.sh --runtime-only (docker itself was not run)")
