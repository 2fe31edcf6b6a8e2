#!/usr/bin/env python3
"""check_k8s.py SOURCE_DIR BIN_DIR: the Kubernetes manifests in deploy/k8s/
checked without a cluster (none is available here, and kubectl's dry runs
need one).

1. Every key of every object is one the Kubernetes API has at that place
   (a table of the fields of the kinds used; a typo such as readinesProbe
   fails).
2. Cross-checks against the real binaries: every flag in a container's
   args is in that program's --help, every environment variable is one the
   program reads (named in its --help), the ports in the daemon's --listen /
   --control are the container's and the Service's, the workers'
   HPSEARCH_COORDINATOR names that Service and port, the database and the
   token files live on the volumes that back them (the PVC, the Secret and
   its key), probes run programs the image has, worker slots match their
   CPU requests and limits, the pods' user is the image's (Dockerfile).
3. Runs the manifests' commands for real: hpsearchd with the StatefulSet's
   args (paths and ports moved into a temp dir and loopback), the probe
   command against it, and the Deployment's and Job's workers with their
   env, which must register with that coordinator.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

try:
    import yaml
except ImportError:
    sys.exit("check_k8s: python3-yaml is missing: run deploy/install-deps.sh")

SRC, BIN = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
K8S = os.path.join(SRC, "deploy", "k8s")
errors = []


def err(msg):
    errors.append(msg)


# ---- 1. the API's fields, for the kinds and places these manifests use ----
META = {"name", "namespace", "labels", "annotations"}
LABELSEL = {"matchLabels", "matchExpressions"}
PROBE = {"exec", "httpGet", "tcpSocket", "grpc", "initialDelaySeconds", "periodSeconds",
         "timeoutSeconds", "successThreshold", "failureThreshold",
         "terminationGracePeriodSeconds"}
CONTAINER = {"name", "image", "imagePullPolicy", "command", "args", "env", "envFrom", "ports",
             "resources", "securityContext", "volumeMounts", "readinessProbe", "livenessProbe",
             "startupProbe", "workingDir", "lifecycle", "stdin", "tty"}
POD_SPEC = {"containers", "initContainers", "volumes", "securityContext", "restartPolicy",
            "terminationGracePeriodSeconds", "serviceAccountName", "nodeSelector",
            "affinity", "tolerations", "imagePullSecrets", "priorityClassName"}
SCHEMA = {
    "Secret": {"": {"apiVersion", "kind", "metadata", "type", "stringData", "data",
                    "immutable"}},
    "Service": {"": {"apiVersion", "kind", "metadata", "spec"},
                "spec": {"selector", "ports", "type", "clusterIP",
                         "publishNotReadyAddresses"},
                "spec.ports[]": {"name", "port", "targetPort", "protocol", "nodePort"}},
    "StatefulSet": {"": {"apiVersion", "kind", "metadata", "spec"},
                    "spec": {"serviceName", "replicas", "selector", "template",
                             "volumeClaimTemplates", "podManagementPolicy",
                             "updateStrategy"},
                    "spec.volumeClaimTemplates[]": {"metadata", "spec"},
                    "spec.volumeClaimTemplates[].spec": {"accessModes", "resources",
                                                         "storageClassName"},
                    "spec.volumeClaimTemplates[].spec.resources": {"requests", "limits"}},
    "Deployment": {"": {"apiVersion", "kind", "metadata", "spec"},
                   "spec": {"replicas", "selector", "template", "strategy"}},
    "Job": {"": {"apiVersion", "kind", "metadata", "spec"},
            "spec": {"completionMode", "completions", "parallelism", "backoffLimit",
                     "template", "activeDeadlineSeconds", "ttlSecondsAfterFinished"}},
}
API_VERSION = {"Secret": "v1", "Service": "v1", "StatefulSet": "apps/v1",
               "Deployment": "apps/v1", "Job": "batch/v1"}
POD = {
    "spec.template": {"metadata", "spec"},
    "spec.template.spec": POD_SPEC,
    "spec.template.spec.securityContext": {"runAsNonRoot", "runAsUser", "runAsGroup",
                                           "fsGroup", "seccompProfile",
                                           "supplementalGroups"},
    "spec.template.spec.containers[]": CONTAINER,
    "spec.template.spec.containers[].env[]": {"name", "value", "valueFrom"},
    "spec.template.spec.containers[].env[].valueFrom": {"resourceFieldRef", "secretKeyRef",
                                                        "configMapKeyRef", "fieldRef"},
    "spec.template.spec.containers[].env[].valueFrom.resourceFieldRef": {
        "containerName", "resource", "divisor"},
    "spec.template.spec.containers[].ports[]": {"name", "containerPort", "protocol"},
    "spec.template.spec.containers[].resources": {"requests", "limits"},
    "spec.template.spec.containers[].securityContext": {
        "allowPrivilegeEscalation", "readOnlyRootFilesystem", "capabilities", "runAsNonRoot",
        "runAsUser", "privileged"},
    "spec.template.spec.containers[].readinessProbe": PROBE,
    "spec.template.spec.containers[].livenessProbe": PROBE,
    "spec.template.spec.containers[].readinessProbe.exec": {"command"},
    "spec.template.spec.containers[].livenessProbe.exec": {"command"},
    "spec.template.spec.containers[].volumeMounts[]": {"name", "mountPath", "readOnly",
                                                       "subPath"},
    "spec.template.spec.volumes[]": {"name", "secret", "emptyDir", "persistentVolumeClaim",
                                     "configMap"},
    "spec.template.spec.volumes[].secret": {"secretName", "defaultMode", "items"},
}
for kind in ("StatefulSet", "Deployment", "Job"):
    SCHEMA[kind].update(POD)
    SCHEMA[kind]["spec.selector"] = LABELSEL


def check_keys(kind, where, node, fname):
    table = SCHEMA[kind]
    if isinstance(node, dict):
        if where.endswith("metadata"):
            allowed = META
        else:
            allowed = table.get(where)
        if allowed is not None:
            for k in node:
                if k not in allowed:
                    err(f"{fname}: {kind} {where or '(top)'}: '{k}' is not a field there")
        for k, v in node.items():
            check_keys(kind, f"{where}.{k}" if where else k, v, fname)
    elif isinstance(node, list):
        for v in node:
            check_keys(kind, where + "[]", v, fname)


objs = []
for fname in sorted(os.listdir(K8S)):
    if not fname.endswith(".yaml"):
        continue
    with open(os.path.join(K8S, fname)) as f:
        for doc in yaml.safe_load_all(f):
            if doc is None:
                continue
            kind = doc.get("kind")
            if kind not in SCHEMA:
                err(f"{fname}: kind {kind!r} is not one this check knows")
                continue
            if doc.get("apiVersion") != API_VERSION[kind]:
                err(f"{fname}: {kind} needs apiVersion {API_VERSION[kind]}")
            check_keys(kind, "", doc, fname)
            objs.append((fname, doc))

by_kind = {}
for fname, d in objs:
    by_kind.setdefault(d["kind"], []).append((fname, d))
for kind in ("Secret", "Service", "StatefulSet", "Deployment", "Job"):
    if kind not in by_kind:
        err(f"deploy/k8s has no {kind}")
if errors:
    sys.exit("check_k8s: FAIL\n  " + "\n  ".join(errors))

# ---- 2. cross-checks against the binaries -------------------------------
def help_of(prog):
    args = {"hpworker": ["--connect", "--help"]}.get(prog, ["--help"])
    r = subprocess.run([os.path.join(BIN, prog)] + args, capture_output=True, text=True,
                       timeout=30)
    if r.returncode != 0:
        err(f"{prog} {' '.join(args)} exited {r.returncode}")
    return r.stdout + r.stderr


HELP = {p: help_of(p) for p in ("hpsearchd", "hpworker", "hpsearch")}
FLAGS = {p: set(re.findall(r"--[a-z][a-z-]*", h)) for p, h in HELP.items()}

(secret_file, secret), = by_kind["Secret"]
secret_keys = set((secret.get("stringData") or {}).keys()) | set((secret.get("data") or {}).keys())
(svc_file, svc), = by_kind["Service"]
svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
(sts_file, sts), = by_kind["StatefulSet"]
if sts["spec"]["replicas"] != 1:
    err(f"{sts_file}: the StatefulSet must have 1 replica (one writer per database)")
if sts["spec"]["serviceName"] != svc["metadata"]["name"]:
    err(f"{sts_file}: serviceName {sts['spec']['serviceName']} is not the Service "
        f"{svc['metadata']['name']}")

# the image's user (Dockerfile USER uid:gid)
with open(os.path.join(SRC, "deploy", "container", "Dockerfile")) as f:
    m = re.search(r"^USER\s+(\d+)(?::(\d+))?", f.read(), re.M)
image_uid = int(m.group(1)) if m else None


def arg_value(args, flag):
    if flag in args:
        i = args.index(flag)
        return args[i + 1] if i + 1 < len(args) else None
    return None


def env_of(c):
    return {e["name"]: e for e in c.get("env", [])}


def mount_for(pod, c, path):
    """the (volumeMount, volume) whose mountPath holds path"""
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    best = None
    for vm in c.get("volumeMounts", []):
        mp = vm["mountPath"].rstrip("/")
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best[0]["mountPath"]):
                best = (vm, vols.get(vm["name"]))
    return best


def check_token_path(fname, pod, c, path, what):
    mv = mount_for(pod, c, path)
    if not mv or not mv[1] or "secret" not in mv[1]:
        err(f"{fname}: {what} {path} is not on a Secret volume")
        return
    vm, vol = mv
    if vol["secret"]["secretName"] != secret["metadata"]["name"]:
        err(f"{fname}: {what}: Secret {vol['secret']['secretName']} is not "
            f"{secret['metadata']['name']} ({secret_file})")
    key = os.path.relpath(path, vm["mountPath"])
    if key not in secret_keys:
        err(f"{fname}: {what} {path}: the Secret has no key '{key}' (has {sorted(secret_keys)})")


def check_container(fname, kind, pod, c):
    args = list(c.get("command", [])) + list(c.get("args", []))
    if not args:
        err(f"{fname}: container {c['name']} names no program")
        return None
    prog = args[0]
    if prog not in HELP:
        err(f"{fname}: container {c['name']} runs {prog}, which the image does not have")
        return None
    for a in args[1:]:
        if a.startswith("--") and a.split("=")[0] not in FLAGS[prog]:
            err(f"{fname}: {prog} has no flag {a} (see {prog} --help)")
    for name in env_of(c):
        if name.startswith("HPSEARCH_") and name not in HELP[prog] and not (
                name == "HPSEARCH_TOKEN_FILE" and "HPSEARCH_TOKEN_FILE" in HELP["hpsearch"]):
            err(f"{fname}: {prog} does not read {name} (not in its --help)")
    for probe in ("readinessProbe", "livenessProbe"):
        p = c.get(probe)
        if p and "exec" in p and p["exec"]["command"][0] not in HELP:
            err(f"{fname}: {probe} runs {p['exec']['command'][0]}, not in the image")
    psc = pod.get("securityContext", {})
    if not psc.get("runAsNonRoot") or psc.get("runAsUser") in (None, 0):
        err(f"{fname}: pod must run as a non-root user")
    elif image_uid is not None and psc.get("runAsUser") != image_uid:
        err(f"{fname}: runAsUser {psc.get('runAsUser')} is not the image's user {image_uid}")
    return prog, args


# the coordinator
sts_pod = sts["spec"]["template"]["spec"]
(dc,) = sts_pod["containers"]
prog, dargs = check_container(sts_file, "StatefulSet", sts_pod, dc) or (None, [])
if prog != "hpsearchd":
    err(f"{sts_file}: the StatefulSet's container runs {prog}, not hpsearchd")
cports = {p["name"]: p["containerPort"] for p in dc.get("ports", [])}
for flag, pname in (("--listen", "workers"), ("--control", "control")):
    url = arg_value(dargs, flag) or ""
    m = re.match(r"tcp://([^:]+):(\d+)$", url)
    if not m:
        err(f"{sts_file}: hpsearchd {flag} {url!r} is not tcp://HOST:PORT")
        continue
    if m.group(1) in ("127.0.0.1", "localhost"):
        err(f"{sts_file}: hpsearchd {flag} {url} is loopback: the Service cannot reach it")
    port = int(m.group(2))
    if cports.get(pname) != port:
        err(f"{sts_file}: containerPort '{pname}' is {cports.get(pname)}, {flag} says {port}")
    sp = svc_ports.get(pname)
    if not sp or sp["targetPort"] not in (pname, port):
        err(f"{svc_file}: Service port '{pname}' does not target the container's {port}")
    default = re.search(rf"--{flag[2:]}\s.*default: tcp://[^:]+:(\d+)", HELP["hpsearchd"])
    if default and sp and int(default.group(1)) != sp["port"]:
        err(f"{svc_file}: Service port {pname} {sp['port']} is not hpsearchd's default "
            f"{default.group(1)} (docs and the CLI assume it)")
db = arg_value(dargs, "--db") or ""
mv = mount_for(sts_pod, dc, db)
claims = {t["metadata"]["name"] for t in sts["spec"].get("volumeClaimTemplates", [])}
if not mv or mv[0]["name"] not in claims:
    err(f"{sts_file}: --db {db} is not on the PersistentVolumeClaim ({sorted(claims)})")
check_token_path(sts_file, sts_pod, dc, arg_value(dargs, "--token-file") or "", "--token-file")
if "HPSEARCH_TOKEN_FILE" in env_of(dc):
    check_token_path(sts_file, sts_pod, dc, env_of(dc)["HPSEARCH_TOKEN_FILE"]["value"],
                     "the probes' HPSEARCH_TOKEN_FILE")
for probe in ("readinessProbe", "livenessProbe"):
    if probe not in dc:
        err(f"{sts_file}: hpsearchd has no {probe}")

# the workers
workers = [(f, d) for f, d in by_kind["Deployment"] + by_kind["Job"]]
for fname, d in workers:
    pod = d["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    r = check_container(fname, d["kind"], pod, c)
    if not r or r[0] != "hpworker":
        err(f"{fname}: the {d['kind']}'s container does not run hpworker")
        continue
    env = env_of(c)
    coord = env.get("HPSEARCH_COORDINATOR", {}).get("value") or arg_value(r[1], "--connect")
    m = re.match(r"tcp://([^:]+):(\d+)$", coord or "")
    if not m or m.group(1) != svc["metadata"]["name"] or \
            int(m.group(2)) != svc_ports["workers"]["port"]:
        err(f"{fname}: the coordinator {coord!r} is not the Service "
            f"tcp://{svc['metadata']['name']}:{svc_ports['workers']['port']}")
    tf = env.get("HPSEARCH_TOKEN_FILE", {}).get("value") or arg_value(r[1], "--token-file")
    check_token_path(fname, pod, c, tf or "", "the token file")
    res = c.get("resources", {})
    req, lim = res.get("requests", {}).get("cpu"), res.get("limits", {}).get("cpu")
    if req is None or str(req) != str(lim):
        err(f"{fname}: cpu requests ({req}) and limits ({lim}) must be equal: slots use them")
    slots = env.get("HPSEARCH_SLOTS", {})
    ref = slots.get("valueFrom", {}).get("resourceFieldRef")
    if ref:
        if ref.get("resource") != "limits.cpu" or ref.get("containerName") != c["name"]:
            err(f"{fname}: HPSEARCH_SLOTS must come from this container's limits.cpu")
    elif slots.get("value") is not None and str(slots["value"]) != str(lim):
        err(f"{fname}: HPSEARCH_SLOTS {slots['value']} is not the CPU limit {lim}")
    if d["kind"] == "Job":
        if d["spec"].get("completionMode") != "Indexed":
            err(f"{fname}: the Job must be Indexed")
        if "--exit-when-idle" not in r[1]:
            err(f"{fname}: the Job's workers need --exit-when-idle to end with the study")
        if pod.get("restartPolicy") not in ("OnFailure", "Never"):
            err(f"{fname}: a Job's restartPolicy must be OnFailure or Never")
images = {c["image"] for _, d in objs if d["kind"] in ("StatefulSet", "Deployment", "Job")
          for c in d["spec"]["template"]["spec"]["containers"]}
if len(images) != 1:
    err(f"the manifests use more than one image: {sorted(images)}")
if errors:
    sys.exit("check_k8s: FAIL\n  " + "\n  ".join(errors))

# ---- 3. the manifests' commands, run for real ------------------------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


tmp = tempfile.mkdtemp(prefix="hp-k8s-")
procs = []
try:
    # the pod's paths moved under tmp; the token generated as the docs say
    def remap(path):
        return os.path.join(tmp, path.lstrip("/"))

    for vm in dc["volumeMounts"]:
        os.makedirs(remap(vm["mountPath"]), exist_ok=True)
    token_path = remap(arg_value(dargs, "--token-file"))
    with open(token_path, "w") as f:
        f.write(os.urandom(24).hex())
    ports = {}
    args = []
    for a in dargs[1:]:
        if a.startswith("/"):
            a = remap(a)
        m = re.match(r"tcp://[^:]+:(\d+)$", a)
        if m:
            ports[int(m.group(1))] = free_port()
            a = f"tcp://127.0.0.1:{ports[int(m.group(1))]}"
        args.append(a)
    log = open(os.path.join(tmp, "hpsearchd.log"), "w")
    d = subprocess.Popen([os.path.join(BIN, "hpsearchd")] + args, stdout=log, stderr=log)
    procs.append(d)
    control = f"tcp://127.0.0.1:{ports[cports['control']]}"
    penv = dict(os.environ, PATH=BIN + os.pathsep + os.environ["PATH"],
                HPSEARCH_COORDINATOR=control)
    for e in dc.get("env", []):
        penv[e["name"]] = remap(e["value"]) if e["value"].startswith("/") else e["value"]
    # the readiness probe, until it passes (a bound, not a timing)
    probe = dc["readinessProbe"]["exec"]["command"]
    deadline = time.time() + 60
    while True:
        r = subprocess.run(probe, env=penv, capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            break
        if d.poll() is not None or time.time() > deadline:
            raise SystemExit(f"check_k8s: FAIL: the probe {probe} never passed: {r.stderr}"
                             f"\nhpsearchd: {open(log.name).read()}")
        time.sleep(0.2)
    r = subprocess.run(dc["livenessProbe"]["exec"]["command"], env=penv, capture_output=True,
                       text=True, timeout=30)
    if r.returncode != 0:
        err(f"{sts_file}: the liveness probe fails on a serving daemon: {r.stderr}")

    # each worker spec with its env, against that daemon
    for fname, wd in workers:
        pod = wd["spec"]["template"]["spec"]
        (c,) = pod["containers"]
        wenv = dict(os.environ)
        for k in ("HPSEARCH_COORDINATOR", "HPSEARCH_TOKEN_FILE", "HPSEARCH_SLOTS"):
            wenv.pop(k, None)
        lim = str(c["resources"]["limits"]["cpu"])
        for e in c.get("env", []):
            v = e.get("value")
            if v is None:  # resourceFieldRef limits.cpu, divisor 1
                v = lim
            if e["name"] == "HPSEARCH_COORDINATOR":
                port = int(v.rsplit(":", 1)[1])
                v = f"tcp://127.0.0.1:{ports[port]}"
            elif v.startswith("/"):
                v = remap(v)
            wenv[e["name"]] = v
        for vm in c["volumeMounts"]:
            os.makedirs(remap(vm["mountPath"]), exist_ok=True)
        wargs = [os.path.join(BIN, "hpworker")] + c["args"][1:]
        wlog_path = os.path.join(tmp, f"worker-{wd['kind']}.log")
        wlog = open(wlog_path, "w")
        w = subprocess.Popen(wargs, env=wenv, stdout=wlog, stderr=wlog, cwd=tmp)
        procs.append(w)
        deadline = time.time() + 60
        while "registered as worker" not in open(wlog_path).read():
            if w.poll() is not None or time.time() > deadline:
                err(f"{fname}: the {wd['kind']}'s worker did not register: "
                    f"{open(wlog_path).read()}")
                break
            time.sleep(0.1)
        text = open(wlog_path).read()
        if f"({lim} slot" not in text and f"{lim} slots" not in text:
            err(f"{fname}: the worker did not run {lim} slots: {text}")
        w.send_signal(signal.SIGTERM)
        if w.wait(timeout=60) != 0:
            err(f"{fname}: the worker exited {w.returncode} on SIGTERM")
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    shutil.rmtree(tmp, ignore_errors=True)

if errors:
    sys.exit("check_k8s: FAIL\n  " + "\n  ".join(errors))
print(f"check_k8s: PASS: {len(objs)} objects in deploy/k8s: fields, flags, env, ports, "
      f"volumes, secret keys, slots and probes match the binaries; hpsearchd ran with the "
      f"StatefulSet's args, its probes passed, {len(workers)} worker specs registered")
