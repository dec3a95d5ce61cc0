"""agwscenario: the pytest plugin that runs agw-lab's YAML scenarios.

Every `*.yaml` file under scenarios/ is one test; `scenarios/matrix.yaml`
expands into one test per (certificate variant, gateway mode) cell. Each
scenario gets its own /24 of loopback (127.(10+worker).(counter).N), port 0
or one free port everywhere, its own agw-sim farm and agw-gateway, all
stopped at the end, on failure too. The format is documented in
scenarios/README.md.

With --agw-matrix the controller renders the conformance matrix from the
cells' result files (build/report/cells/*.json, written by whichever xdist
worker ran the cell) to the terminal, build/report/matrix.md and
build/report/matrix.html.

The first half of this file is pure (parsing, substitution, expectations,
rendering: tested by tests/e2e/test_scenario_driver.py without processes);
the second half starts processes.
"""
import base64
import collections
import concurrent.futures
import contextlib
import copy
import fcntl
import html
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
REASON_C = ROOT / "gateway" / "reason.c"

SKUS = {
    "v1": {"name": "Standard_Medium", "tier": "Standard", "capacity": 1},
    "v2": {"name": "Standard_v2", "tier": "Standard_v2", "capacity": 1},
}
TOP_KEYS = {"name", "description", "markers", "sku", "certs", "farm",
            "gateway", "steps", "probe_scale", "timeout"}
STEP_KINDS = ("send", "wait_health", "agw", "rotate", "behaviour", "down",
              "up", "reload", "config", "load", "reset", "wait_log", "check",
              "seen", "note")
ARM_TOP = ("name", "type", "id", "location", "apiVersion", "etag", "tags")
ITEM_TOP = ("name", "id", "etag", "type")
# Reference fields (a bare name in a fragment becomes {"id": ...}) and the
# collection each points into.
REFS = {
    "backendAddressPool": "backendAddressPools",
    "defaultBackendAddressPool": "backendAddressPools",
    "backendHttpSettings": "backendHttpSettingsCollection",
    "defaultBackendHttpSettings": "backendHttpSettingsCollection",
    "httpListener": "httpListeners",
    "frontendPort": "frontendPorts",
    "frontendIPConfiguration": "frontendIPConfigurations",
    "urlPathMap": "urlPathMaps",
    "probe": "probes",
    "sslCertificate": "sslCertificates",
}
REF_LISTS = {
    "authenticationCertificates": "authenticationCertificates",
    "trustedRootCertificates": "trustedRootCertificates",
}
ID_PREFIX = ("/subscriptions/00000000-0000-0000-0000-000000000000/"
             "resourceGroups/{rg}/providers/Microsoft.Network/"
             "applicationGateways/{gw}")

PAGES = {
    "v2-502": ("<html>\n<head><title>502 Bad Gateway</title></head>\n"
               "<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
               "<hr><center>Microsoft-Azure-Application-Gateway/v2</center>"
               "\n</body>\n</html>\n"),
    "v2-504": ("<html>\n<head><title>504 Gateway Time-out</title></head>"
               "\n<body>\n<center><h1>504 Gateway Time-out</h1></center>"
               "\n<hr><center>Microsoft-Azure-Application-Gateway/v2"
               "</center>\n</body>\n</html>\n"),
    # v1: the IIS/ARR page; checked by its heading and text.
    "v1-502": ("502 - Web server received an invalid response while acting "
               "as a gateway or proxy server.",
               "There is a problem with the page you are looking for, and it "
               "cannot be displayed. When the Web server (while acting as a "
               "gateway or proxy) contacted the upstream content server, it "
               "received an invalid response from the content server."),
}


class ScenarioError(AssertionError):
    """A scenario failed or is malformed; the message says everything."""


# ---------------------------------------------------------------- parsing


def _where(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "(top)"


def load_scenario(text, source="<scenario>"):
    """Parse and validate one scenario document (YAML text). Returns the
    dict with defaults filled in; raises ScenarioError naming the source and
    the path of the offending key."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ScenarioError(f"{source}: not valid YAML: {e}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{source}: a scenario is a mapping")
    bad = sorted(set(doc) - TOP_KEYS)
    if bad:
        raise ScenarioError(f"{source}: unknown key {bad[0]!r} (known: "
                            f"{', '.join(sorted(TOP_KEYS))})")
    sku = doc.get("sku")
    if sku not in SKUS:
        raise ScenarioError(f"{source}: sku: must be v1 or v2, got {sku!r}")
    doc.setdefault("name", Path(source).stem)
    doc.setdefault("markers", [])
    if not isinstance(doc["markers"], list):
        raise ScenarioError(f"{source}: markers: must be a list")
    if sku not in doc["markers"]:
        doc["markers"].append(sku)
    doc.setdefault("certs", "default")
    doc.setdefault("farm", {"backends": []})
    backends = doc["farm"].get("backends", [])
    if not isinstance(backends, list):
        raise ScenarioError(f"{source}: farm.backends: must be a list")
    names = set()
    for i, b in enumerate(backends):
        w = _where(["farm", "backends", i])
        if not isinstance(b, dict) or "name" not in b:
            raise ScenarioError(f"{source}: {w}: a backend needs a name")
        if b["name"] in names:
            raise ScenarioError(f"{source}: {w}.name: {b['name']!r} twice")
        names.add(b["name"])
        proto = b.setdefault("protocol", "https" if "tls" in b else "http")
        if proto not in ("http", "https"):
            raise ScenarioError(f"{source}: {w}.protocol: http or https")
        if proto == "https" and "tls" not in b:
            raise ScenarioError(f"{source}: {w}.tls: an https backend "
                                f"needs a certificate variant")
    gw = doc.setdefault("gateway", {})
    if not isinstance(gw, dict):
        raise ScenarioError(f"{source}: gateway: must be a mapping")
    if not gw.get("agw") and not gw.get("arm") and \
            gw.get("start", True):
        raise ScenarioError(f"{source}: gateway: give agw command lines, "
                            f"an arm fragment, or both")
    steps = doc.setdefault("steps", [])
    if not isinstance(steps, list):
        raise ScenarioError(f"{source}: steps: must be a list")
    _check_steps(steps, ["steps"], source)
    return doc


def _check_steps(steps, path, source):
    for i, st in enumerate(steps):
        w = _where(path + [i])
        if not isinstance(st, dict):
            raise ScenarioError(f"{source}: {w}: a step is a mapping")
        kinds = [k for k in st if k in STEP_KINDS]
        if len(kinds) != 1:
            raise ScenarioError(
                f"{source}: {w}: a step has exactly one of "
                f"{', '.join(STEP_KINDS)} (got {sorted(st)})")
        extra = set(st) - {kinds[0], "expect", "name"}
        if extra:
            raise ScenarioError(f"{source}: {w}: unknown key "
                                f"{sorted(extra)[0]!r}")
        if "expect" in st and kinds[0] != "send":
            raise ScenarioError(f"{source}: {w}.expect: only a send step "
                                f"has expect")
        if kinds[0] == "load":
            during = st["load"].get("during", [])
            _check_steps(during, path + [i, "load", "during"], source)


VAR_RE = re.compile(r"\$\{([A-Za-z0-9_.:\-]+)\}")


def substitute(obj, variables, path=()):
    """Replace ${name} in every string of obj (lists and dicts too). A
    string that is exactly one variable takes the variable's type (an int
    port stays an int). An unknown name raises ScenarioError naming it and
    where it was used."""
    if isinstance(obj, str):
        m = VAR_RE.fullmatch(obj)
        if m:
            return _lookup(m.group(1), variables, path)
        return VAR_RE.sub(
            lambda mm: str(_lookup(mm.group(1), variables, path)), obj)
    if isinstance(obj, list):
        return [substitute(v, variables, path + (i,))
                for i, v in enumerate(obj)]
    if isinstance(obj, dict):
        return {substitute(k, variables, path): substitute(
            v, variables, path + (k,)) for k, v in obj.items()}
    return obj


def _lookup(name, variables, path):
    if name in variables:
        return variables[name]
    near = sorted(k for k in variables
                  if k.split(".")[0] == name.split(".")[0])[:8]
    raise ScenarioError(
        f"unknown variable ${{{name}}} at {_where(list(path))}"
        + (f" (did you mean: {', '.join(near)})" if near else ""))


COUNT_RE = re.compile(r"^\s*(?:(\d+)\s*(?:\.\.|-)\s*(\d+)|([<>]=?)\s*(\d+)|"
                      r"(\d+)\s*(?:±|\+-|\+/-)\s*(\d+)|(\d+))\s*$")


def parse_count(spec):
    """A count expectation: 5, "4..6", ">=1", "<=2", ">0", "5±1" (or
    "5+-1"). Returns (lo, hi), hi None for no upper bound."""
    if isinstance(spec, bool):
        raise ScenarioError(f"count {spec!r}: not a number")
    if isinstance(spec, int):
        return spec, spec
    m = COUNT_RE.match(str(spec))
    if not m:
        raise ScenarioError(f"count {spec!r}: use N, A..B, >=N, <=N or N±T")
    a, b, op, n, c, t, e = m.groups()
    if a is not None:
        return int(a), int(b)
    if op is not None:
        n = int(n)
        return {">=": (n, None), ">": (n + 1, None), "<=": (0, n),
                "<": (0, n - 1)}[op]
    if c is not None:
        return max(0, int(c) - int(t)), int(c) + int(t)
    return int(e), int(e)


def count_ok(spec, n):
    lo, hi = parse_count(spec)
    return n >= lo and (hi is None or n <= hi)


def parse_cell(cell):
    """A matrix cell: 200, "200", "200 ok", "502 v2.root_mismatch", "502
    v2.verify_failed 68". Returns {status, reason, code}."""
    if isinstance(cell, int):
        cell = str(cell)
    if not isinstance(cell, str) or not cell.split():
        raise ScenarioError(f"matrix cell {cell!r}: write 'STATUS [REASON "
                            f"[CODE]]'")
    parts = cell.split()
    if not parts[0].isdigit():
        raise ScenarioError(f"matrix cell {cell!r}: status first")
    status = int(parts[0])
    reason = parts[1] if len(parts) > 1 else (
        "ok" if status < 400 else None)
    code = int(parts[2]) if len(parts) > 2 else None
    return {"status": status, "reason": reason, "code": code}


def cell_str(c):
    s = str(c["status"])
    if c.get("reason") and c["reason"] != "ok":
        s += " " + c["reason"]
        if c.get("code") is not None:
            s += f" {c['code']}"
    return s


def reason_table(c_text):
    """The reason table of gateway/reason.c: {short name: template}."""
    out = {}
    for m in re.finditer(r'\[REASON_\w+\]\s*=\s*\{\s*\n?\s*"([^"]+)",'
                         r'((?:\s*"(?:[^"\\]|\\.)*")+)', c_text):
        parts = re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))
        out[m.group(1)] = "".join(parts).replace('\\"', '"')
    return out


def load_reasons():
    try:
        return reason_table(REASON_C.read_text())
    except OSError:
        return {}


def reason_text(table, name, code=None):
    """The expected healthProbeLog text of a reason, or None if unknown."""
    t = table.get(name)
    if t is None:
        return None
    if code is not None:
        t = t.replace("{errorCode}", str(code))
    return t


def reason_for_text(table, text):
    """The short reason name whose template matches a healthProbeLog text
    (placeholders match anything), or None."""
    if not text:
        return None
    for name, t in table.items():
        if name == "ok":
            continue
        rx = re.escape(t)
        rx = re.sub(r"\\\{\w+\\\}", ".*?", rx)
        if re.fullmatch(rx, text.strip(), re.S):
            return name
    return None


def _hoist(obj):
    """az show shape: properties lifted to the top (top and items)."""
    obj = copy.deepcopy(obj)
    props = obj.pop("properties", None)
    if isinstance(props, dict):
        for k, v in props.items():
            obj.setdefault(k, v)
    for k, v in obj.items():
        if isinstance(v, list):
            obj[k] = [_hoist_item(i) for i in v]
    return obj


def _hoist_item(item):
    if not isinstance(item, dict):
        return item
    item = copy.deepcopy(item)
    props = item.pop("properties", None)
    if isinstance(props, dict):
        for k, v in props.items():
            item.setdefault(k, v)
    return item


def merge_arm(base, frag):
    """Merge an ARM fragment into a gateway document (both in either shape;
    the result is in az show shape). Dicts merge key by key; lists of named
    objects merge by name (an item {name: X, delete: true} removes X); other
    lists replace; a null value deletes the key."""
    out = _hoist(base or {})
    return _merge(out, _hoist(frag or {}))


def _merge(a, b):
    for k, v in b.items():
        if v is None:
            a.pop(k, None)
        elif isinstance(v, dict) and isinstance(a.get(k), dict):
            a[k] = _merge(a[k], v)
        elif isinstance(v, list) and isinstance(a.get(k), list) and \
                all(isinstance(i, dict) and "name" in i for i in v + a[k]):
            items = {i["name"]: i for i in a[k]}
            order = [i["name"] for i in a[k]]
            for i in v:
                if i.get("delete"):
                    items.pop(i["name"], None)
                    continue
                if i["name"] in items:
                    items[i["name"]] = _merge(items[i["name"]], dict(i))
                else:
                    items[i["name"]] = dict(i)
                    order.append(i["name"])
            a[k] = [items[n] for n in order if n in items]
        else:
            a[k] = copy.deepcopy(v)
    return a


def expand_refs(doc, rg="rg", gw="gw"):
    """Turn bare names in reference fields into {"id": full ARM id}, and
    fill the defaults a compact fragment leaves out: a frontend IP, an http
    frontend port 80, one Http listener, and a Basic rule when there is
    exactly one pool and one setting. doc is in az show shape."""
    doc = copy.deepcopy(doc)
    prefix = ID_PREFIX.format(rg=rg, gw=gw)
    doc.setdefault("frontendIPConfigurations", [{"name": "fip"}])
    doc.setdefault("frontendPorts", [{"name": "http", "port": 80}])
    doc.setdefault("httpListeners", [{
        "name": "listener", "frontendIPConfiguration": "fip",
        "frontendPort": doc["frontendPorts"][0]["name"],
        "protocol": "Http"}])
    pools = doc.get("backendAddressPools", [])
    sets = doc.get("backendHttpSettingsCollection", [])
    if "requestRoutingRules" not in doc and len(pools) == 1 and \
            len(sets) == 1 and len(doc["httpListeners"]) == 1:
        rule = {"name": "rule", "ruleType": "Basic",
                "httpListener": doc["httpListeners"][0]["name"],
                "backendAddressPool": pools[0]["name"],
                "backendHttpSettings": sets[0]["name"]}
        if doc.get("sku", {}).get("tier", "").endswith("_v2"):
            rule["priority"] = 100
        doc["requestRoutingRules"] = [rule]

    def ref(coll, v):
        if isinstance(v, str):
            return {"id": f"{prefix}/{coll}/{v}"}
        return v

    def walk(o):
        if isinstance(o, dict):
            for k, v in list(o.items()):
                if k in REFS:
                    o[k] = ref(REFS[k], v)
                elif k in REF_LISTS and isinstance(v, list) and \
                        all(isinstance(x, str) or "id" in x for x in v):
                    o[k] = [ref(REF_LISTS[k], x) for x in v]
                else:
                    walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    for k, v in doc.items():
        if isinstance(v, list):
            walk(v)
    for k, v in doc.items():
        if isinstance(v, list):
            for item in v:
                if isinstance(item, dict) and "name" in item:
                    item.setdefault("id", f"{prefix}/{k}/{item['name']}")
    return doc


def to_arm(doc):
    """az show shape -> ARM template shape (sub-objects under properties)."""
    doc = _hoist(doc)
    out = {k: doc[k] for k in ARM_TOP if k in doc}
    props = {}
    for k, v in doc.items():
        if k in ARM_TOP:
            continue
        if isinstance(v, list) and all(isinstance(i, dict) for i in v):
            v = [dict({kk: i[kk] for kk in ITEM_TOP if kk in i},
                      properties={kk: vv for kk, vv in i.items()
                                  if kk not in ITEM_TOP}) for i in v]
        props[k] = v
    out["properties"] = props
    return out


def check_responses(exp, resps, sku=None):
    """Compare a send step's responses with its expect mapping. Returns a
    list of problems (empty when all is as expected), each saying what was
    expected and what came back."""
    probs = []
    known = {"status", "statuses", "reason", "body", "body_contains", "page",
             "headers", "backends", "affinity", "echo", "failed", "cookie"}
    bad = set(exp) - known
    if bad:
        probs.append(f"unknown expectation {sorted(bad)[0]!r} (known: "
                     f"{', '.join(sorted(known))})")
        return probs
    n = len(resps)
    if "status" in exp:
        want = exp["status"] if isinstance(exp["status"], list) else \
            [exp["status"]]
        got = [r.status for r in resps]
        if any(s not in want for s in got):
            probs.append(f"status: expected {'/'.join(map(str, want))} on "
                         f"all {n}, got {_summ(resps)}")
    if "statuses" in exp:
        cnt = collections.Counter(r.status for r in resps)
        for st, spec in exp["statuses"].items():
            if not count_ok(spec, cnt.get(int(st), 0)):
                probs.append(f"statuses: {st} expected {spec} times, got "
                             f"{cnt.get(int(st), 0)} ({_summ(resps)})")
    if "reason" in exp:
        got = collections.Counter(r.reason or "-" for r in resps)
        if set(got) != {exp["reason"]}:
            probs.append(f"X-AGW-Reason: expected {exp['reason']} on all "
                         f"{n}, got {dict(got)}")
    if "body" in exp:
        for r in resps:
            if r.text() != exp["body"]:
                probs.append(f"body: expected {exp['body']!r}, got "
                             f"{r.text()[:300]!r}")
                break
    if "body_contains" in exp:
        for r in resps:
            if exp["body_contains"] not in r.text():
                probs.append(f"body: expected to contain "
                             f"{exp['body_contains']!r}, got "
                             f"{r.text()[:300]!r}")
                break
    if "page" in exp:
        page = PAGES.get(exp["page"])
        if page is None:
            probs.append(f"page: {exp['page']!r} unknown (known: "
                         f"{', '.join(PAGES)})")
        else:
            for r in resps:
                body = r.text()
                ok = (all(p in body for p in page) if isinstance(page, tuple)
                      else body == page)
                server = r.headers.get("server", "")
                want_server = "Microsoft-Azure-Application-Gateway/" + \
                    exp["page"][:2]
                if not ok or server != want_server:
                    probs.append(
                        f"page: expected the {exp['page']} page with "
                        f"Server: {want_server}, got status {r.status} "
                        f"Server: {server!r} body {body[:300]!r}")
                    break
    if "headers" in exp:
        for name, want in exp["headers"].items():
            for r in resps:
                got = r.headers.get(name.lower())
                if want is None and got is not None:
                    probs.append(f"header {name}: expected absent, got "
                                 f"{got!r}")
                    break
                if want is not None and (got is None or not re.fullmatch(
                        str(want), got)):
                    probs.append(f"header {name}: expected {want!r}, got "
                                 f"{got!r}")
                    break
    if "backends" in exp:
        cnt = collections.Counter(r.backend or "none" for r in resps)
        want = exp["backends"]
        for name, spec in want.items():
            if not count_ok(spec, cnt.get(name, 0)):
                probs.append(f"backends: {name} expected {spec} of {n}, got "
                             f"{cnt.get(name, 0)} (all: {dict(cnt)})")
        for name, c in cnt.items():
            if name not in want:
                probs.append(f"backends: {name} answered {c} of {n}, "
                             f"expected none (all: {dict(cnt)})")
    if exp.get("affinity"):
        cookie = exp.get("cookie", "ApplicationGatewayAffinity")
        first = resps[0].headers.get("set-cookie", "") if resps else ""
        carried = resps[0].sent_cookie if resps else ""
        if not re.search(rf"(^|,\s*){re.escape(cookie)}=[0-9a-f]{{32}}",
                         first) and f"{cookie}=" not in (carried or ""):
            probs.append(f"affinity: the first response should set "
                         f"{cookie}=<32 hex> (the client had none), "
                         f"Set-Cookie was {first!r}")
        who = {r.backend for r in resps if r.status == 200}
        if len(who) != 1:
            probs.append(f"affinity: expected one backend for all, got "
                         f"{dict(collections.Counter(r.backend for r in resps))}")
    if "echo" in exp:
        for r in resps:
            doc = r.echo()
            if doc is None:
                probs.append(f"echo: response is not an agw-sim echo "
                             f"(status {r.status}, {r.text()[:200]!r})")
                break
            bad = _echo_diff(exp["echo"], doc)
            if bad:
                probs.append(f"echo from {doc.get('backend')}: {bad}")
                break
    if "failed" in exp:
        nf = sum(1 for r in resps if r.failed())
        if not count_ok(exp["failed"], nf):
            probs.append(f"failed: expected {exp['failed']}, got {nf} of {n}"
                         f" ({_summ(resps)})")
    return probs


def _echo_diff(want, doc):
    for k, v in want.items():
        if k == "host":
            got = doc.get("headers", {}).get("Host")
        elif k == "headers":
            for hk, hv in v.items():
                got = doc.get("headers", {}).get(hk)
                if got != hv:
                    return f"header {hk}: expected {hv!r}, got {got!r}"
            continue
        else:
            got = doc.get(k)
        if got != v:
            return f"{k}: expected {v!r}, got {got!r}"
    return None


def _summ(resps):
    c = collections.Counter(
        f"{r.status}" + (f" {r.reason}" if r.reason else "") +
        (f" ({r.error})" if r.error else "") for r in resps)
    return ", ".join(f"{k} x{v}" for k, v in c.most_common())


def format_failure(step, problems, log_tail="", health=None, extra=""):
    """The failure text: the step, what was expected and what came back,
    then the gateway's last log lines and backend health at that moment."""
    out = [f"step {step}:"]
    out += [f"  - {p}" for p in problems]
    if extra:
        out.append(extra)
    if health is not None:
        out.append("backend health at that moment:")
        out += [f"  {line}" for line in health_lines(health)]
    if log_tail:
        out.append("gateway log (last lines):")
        out += [f"  {line}" for line in log_tail.strip().splitlines()[-25:]]
    return "\n".join(out)


def health_servers(doc):
    """Flatten /backendhealth: [(pool, setting, address, health, log)]."""
    out = []
    if not isinstance(doc, dict):
        return out
    for p in doc.get("backendAddressPools", []):
        pool = p.get("backendAddressPool", {}).get("id", "").rsplit("/")[-1]
        for s in p.get("backendHttpSettingsCollection", []):
            sid = s.get("backendHttpSettings", {}).get("id", "")
            for srv in s.get("servers", []):
                out.append((pool, sid.rsplit("/")[-1], srv.get("address"),
                            srv.get("health"), srv.get("healthProbeLog")))
    return out


def health_lines(doc):
    if not isinstance(doc, dict):
        return [repr(doc)]
    return [f"{p}/{s} {a}: {h}: {log}" for p, s, a, h, log in
            health_servers(doc)] or ["(no servers)"]


# ------------------------------------------------------------ the matrix


MODE_KEYS = ("title", "about", "sku", "auth", "roots", "wrong_root",
             "settings", "member", "probe_scale", "settle")


def check_mode(name, spec, source="matrix.yaml"):
    """A mode of matrix.yaml (the format is documented at the top of that
    file and in scenarios/README.md); raises ScenarioError naming the key."""
    where = f"{source}: modes.{name}"
    if not isinstance(spec, dict):
        raise ScenarioError(f"{where}: a map (sku:, title:, ...)")
    for k in spec:
        if k not in MODE_KEYS:
            raise ScenarioError(f"{where}: unknown key {k!r} (keys: "
                                f"{', '.join(MODE_KEYS)})")
    sku = spec.get("sku")
    if sku not in SKUS:
        raise ScenarioError(f"{where}.sku: must be v1 or v2")
    auth = spec.get("auth")
    if auth is not None and (not isinstance(auth, str) or not auth):
        raise ScenarioError(f"{where}.auth: 'own' or an agw-certs item name")
    if auth is not None and sku != "v1":
        raise ScenarioError(f"{where}.auth: authentication certificates "
                            f"are v1 only")
    for k in ("roots", "wrong_root"):
        v = spec.get(k)
        if v is None:
            continue
        if not isinstance(v, list) or not v or \
                not all(isinstance(x, str) and x for x in v):
            raise ScenarioError(f"{where}.{k}: a list of agw-certs item "
                                f"names")
        if sku != "v2":
            raise ScenarioError(f"{where}.{k}: trusted root certificates "
                                f"are v2 only")
    if "roots" in spec and "wrong_root" in spec:
        raise ScenarioError(f"{where}: roots and wrong_root exclude each "
                            f"other")
    if not isinstance(spec.get("settings", {}), dict):
        raise ScenarioError(f"{where}.settings: a map of HTTP setting "
                            f"properties")


def issuer_path(manifest, item):
    """The agw-certs items above item (issuer, its issuer, ... up to the
    root), from the manifest's issuer_item links."""
    items = manifest.get("items", {})
    out = []
    x = items.get(item, {}).get("issuer_item")
    while x and x not in out:
        out.append(x)
        x = items.get(x, {}).get("issuer_item")
    return out


def mode_uploads(spec, manifest, variant):
    """What a mode uploads for one variant's HTTP setting: (authentication
    certificate items, trusted root items), agw-certs item names. Raises
    ScenarioError when the mode cannot be built for that variant."""
    items = manifest.get("items", {})
    auth = spec.get("auth")
    auths = [] if auth is None else [variant if auth == "own" else auth]
    roots = list(spec.get("roots", []))
    cands = spec.get("wrong_root")
    if cands:
        above = issuer_path(manifest, variant)
        roots = [r for r in cands if r not in above and r != variant][:1]
        if not roots:
            raise ScenarioError(f"wrong_root: {variant} chains to every "
                                f"one of {', '.join(cands)}")
    for name in auths + roots + list(cands or []):
        if name not in items:
            raise ScenarioError(f"no agw-certs item {name!r} (the "
                                f"manifest has {', '.join(sorted(items))})")
    return auths, roots


def expand_matrix(doc, source="matrix.yaml"):
    """matrix.yaml -> (modes, [(variant, mode, expected cell)])."""
    modes = doc.get("modes")
    variants = doc.get("variants")
    if not isinstance(modes, dict) or not isinstance(variants, dict):
        raise ScenarioError(f"{source}: needs modes: and variants: maps")
    for m, spec in modes.items():
        check_mode(m, spec, source)
    cells = []
    for v, row in variants.items():
        if not isinstance(row, dict):
            raise ScenarioError(f"{source}: variants.{v}: a map of mode: "
                                f"cell")
        for m in row:
            if m not in modes:
                raise ScenarioError(f"{source}: variants.{v}.{m}: no such "
                                    f"mode (modes: {', '.join(modes)})")
        for m in modes:
            if m not in row:
                raise ScenarioError(f"{source}: variants.{v}.{m}: missing")
            try:
                cells.append((v, m, parse_cell(row[m])))
            except ScenarioError as e:
                raise ScenarioError(f"{source}: variants.{v}.{m}: {e}") \
                    from None
    return modes, cells


def render_matrix(modes, variants, results, reasons, elapsed=None,
                  counts=None):
    """Render the matrix. results: {(variant, mode): result dict with
    expected, observed (cells), passed}. Returns (text, markdown, html)."""
    titles = [modes[m].get("title", m) for m in modes]
    rows = []
    used = set()
    diffs = []
    for v in variants:
        row = []
        for m in modes:
            r = results.get((v, m))
            if r is None:
                row.append(("not run", None))
                continue
            obs = r.get("observed") or {}
            text = cell_str(obs) if obs.get("status") else \
                (obs.get("error") or "error")
            if obs.get("reason"):
                used.add(obs["reason"])
            if r["expected"].get("reason"):
                used.add(r["expected"]["reason"])
            if r["passed"]:
                row.append((text, True))
            else:
                row.append((text, False))
                why = "; ".join(p for p in r.get("problems") or []
                                if not p.startswith("expected "))
                diffs.append(f"{v} x {modes[m].get('title', m)}: expected "
                             f"{cell_str(r['expected'])}, got {text}"
                             + (f" ({why[:300]})" if why else ""))
        rows.append((v, row))
    ok = sum(1 for _, row in rows for _, p in row if p)
    total = sum(1 for _, row in rows for _ in row)
    diff = sum(1 for _, row in rows for _, p in row if p is False)
    summary = f"{ok}/{total} cells as expected, {diff} differ"
    if counts:
        summary = (f"scenarios: {counts.get('passed', 0)} passed, "
                   f"{counts.get('failed', 0)} failed; matrix: {summary}")
    if elapsed is not None:
        summary += f"; time {elapsed:.1f}s"
    # text
    w0 = max([len("variant")] + [len(v) for v, _ in rows])
    ws = [max([len(t)] + [len(("! " if p is False else "") + c)
                          for _, row in rows for c, p in [row[i]]])
          for i, t in enumerate(titles)]
    lines = ["conformance matrix (rows: certificate variant; columns: "
             "gateway mode; ! = differs from matrix.yaml)",
             "  ".join(["variant".ljust(w0)] +
                       [t.ljust(w) for t, w in zip(titles, ws)]).rstrip()]
    for v, row in rows:
        lines.append("  ".join([v.ljust(w0)] + [
            (("! " if p is False else "") + c).ljust(w)
            for (c, p), w in zip(row, ws)]).rstrip())
    if diffs:
        lines.append("cells that differ from matrix.yaml:")
        lines += [f"  {d}" for d in diffs]
    lines.append(summary)
    text = "\n".join(lines)
    # markdown
    md = ["# agw-lab conformance matrix", "",
          "Rows are agw-certs variants, columns gateway modes. Each cell is "
          "the status and the short reason; **bold ✗** marks a cell that "
          "differs from `scenarios/matrix.yaml`.", "",
          "| variant | " + " | ".join(titles) + " |",
          "|---|" + "---|" * len(titles)]
    for v, row in rows:
        md.append(f"| {v} | " + " | ".join(
            (f"**✗ {c}**" if p is False else c) for c, p in row) + " |")
    if diffs:
        md += ["", "Cells that differ:", ""] + [f"- {d}" for d in diffs]
    md += ["", summary, "", "## Modes", ""]
    for m, spec in modes.items():
        md.append(f"- **{spec.get('title', m)}**: {spec.get('about', '')}")
    md += ["", "## Reasons", ""]
    for name in sorted(used):
        md.append(f"- `{name}`: {reasons.get(name, '(no text)')}")
    md = "\n".join(md) + "\n"
    # html
    h = ["<!DOCTYPE html><html><head><meta charset='utf-8'>"
         "<title>agw-lab conformance matrix</title><style>"
         "body{font-family:sans-serif;margin:2em}"
         "table{border-collapse:collapse}td,th{border:1px solid #999;"
         "padding:4px 8px;font-size:90%}th{background:#eee}"
         "td.ok{background:#e8f5e9}td.bad{background:#ffcdd2;"
         "font-weight:bold}td.none{background:#eee}"
         "td.s200{color:#1b5e20}dt{font-family:monospace;margin-top:.6em}"
         "</style></head><body><h1>agw-lab conformance matrix</h1>",
         "<p>Rows are agw-certs certificate variants, columns are gateway "
         "modes. Each cell: the status and the short reason. Red cells "
         "differ from <code>scenarios/matrix.yaml</code>.</p>",
         "<table><tr><th>variant</th>" +
         "".join(f"<th>{html.escape(t)}</th>" for t in titles) + "</tr>"]
    for v, row in rows:
        h.append(f"<tr><th>{html.escape(v)}</th>" + "".join(
            f"<td class='{'bad' if p is False else 'none' if p is None else 'ok'}'>"
            f"{html.escape(c)}</td>" for c, p in row) + "</tr>")
    h.append(f"</table><p>{html.escape(summary)}</p>")
    if diffs:
        h.append("<h2>Cells that differ</h2><ul>" + "".join(
            f"<li>{html.escape(d)}</li>" for d in diffs) + "</ul>")
    h.append("<h2>Modes</h2><dl>")
    for m, spec in modes.items():
        h.append(f"<dt>{html.escape(spec.get('title', m))}</dt><dd>"
                 f"{html.escape(spec.get('about', ''))}</dd>")
    h.append("</dl><h2>Legend: reasons and their service texts</h2><dl>")
    for name in sorted(used):
        h.append(f"<dt>{html.escape(name)}</dt><dd>"
                 f"{html.escape(reasons.get(name, '(no text)'))}</dd>")
    h.append("</dl></body></html>\n")
    return text, md, "\n".join(h)


# ------------------------------------------------------------- processes


def report_dir(config=None):
    d = os.environ.get("AGW_REPORT")
    if d:
        return Path(d)
    build = Path(os.environ.get("AGW_BUILD", ROOT / "build"))
    return build / "report"


def _bin(name):
    from agwtest import binary
    return binary(name)


class Net:
    """Loopback addresses per scenario: 127.(10+worker).(counter).N."""
    lock = threading.Lock()
    counter = 0

    @classmethod
    def allocate(cls):
        w = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
        wn = int(re.sub(r"\D", "", w) or 0)
        with cls.lock:
            cls.counter += 1
            c = cls.counter
        return f"127.{10 + wn % 200}.{1 + (c - 1) % 250}"


def free_port(ip):
    """A port free on ip (this scenario's own address): every member of a
    pool listens on it, as a real pool's members share a port."""
    s = socket.socket()
    try:
        s.bind((ip, 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Pki:
    """One generated PKI (agw-certs generate), shared by all workers of a
    run through a lock file."""
    _cache = {}

    def __init__(self, d):
        self.dir = Path(d)
        self.manifest = json.loads((self.dir / "manifest.json").read_text())

    @classmethod
    def get(cls, base, profile=None):
        key = (str(base), str(profile))
        if key in cls._cache:
            return cls._cache[key]
        d = Path(base) / ("pki-default" if profile is None else
                          "pki-" + Path(profile).stem)
        d.parent.mkdir(parents=True, exist_ok=True)
        with open(str(d) + ".lock", "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            if not (d / "manifest.json").exists():
                args = [_bin("agw-certs"), "generate", "--out", str(d)]
                if profile:
                    args += ["--profile", str(profile)]
                from agwtest import run
                run(args, timeout=300)
            fcntl.flock(lk, fcntl.LOCK_UN)
        cls._cache[key] = p = cls(d)
        return p

    def variables(self):
        v = {"certs.dir": str(self.dir),
             "certs.well-known": str(self.dir / "well-known-cas.pem")}
        for name, it in self.manifest.get("items", {}).items():
            for f in ("cer", "pem", "chain", "key", "pfx", "cert"):
                if it.get(f):
                    v[f"certs.{name}.{f}"] = str(self.dir / it[f])
            if it.get("cer"):
                v[f"certs.{name}.data"] = \
                    (self.dir / it["cer"]).read_text().strip()
            if it.get("pfx"):
                v[f"certs.{name}.pfxdata"] = base64.b64encode(
                    (self.dir / it["pfx"]).read_bytes()).decode()
            if it.get("pfx_password"):
                v[f"certs.{name}.password"] = it["pfx_password"]
        return v


class Resp:
    __slots__ = ("status", "headers", "body", "error", "t", "sent_cookie")

    def __init__(self, status=0, headers=None, body=b"", error=None):
        self.status = status
        self.headers = headers or {}
        self.body = body
        self.error = error
        self.t = time.monotonic()
        self.sent_cookie = None

    @property
    def backend(self):
        return self.headers.get("x-backend")

    @property
    def reason(self):
        return self.headers.get("x-agw-reason")

    def text(self):
        return self.body.decode("utf-8", "replace")

    def echo(self):
        try:
            d = json.loads(self.body)
        except ValueError:
            return None
        return d if isinstance(d, dict) and "backend" in d else None

    def failed(self):
        return self.error is not None or self.status >= 500 or \
            self.status == 0


def _conn(addr, port, https, timeout):
    if https:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return http.client.HTTPSConnection(addr, port, timeout=timeout,
                                           context=ctx)
    return http.client.HTTPConnection(addr, port, timeout=timeout)


def http_request(conn, method, path, headers, body):
    """One request on conn; returns Resp (a Resp with error on failure)."""
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        hdrs = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return Resp(r.status, hdrs, data)
    except (OSError, http.client.HTTPException) as e:
        conn.close()
        return Resp(error=f"{type(e).__name__}: {e}")


class Lab:
    """The processes and addresses of one scenario run."""

    def __init__(self, workdir, sku, pki, probe_scale=0.01):
        self.dir = Path(workdir)
        self.sku = sku
        self.pki = pki
        self.net = Net.allocate()
        self.probe_scale = probe_scale
        self.sim = None
        self.gw = None
        self.backends = {}
        self.home = self.dir / "agw"
        self.rg, self.gwname = "rg", "gw"
        self.config = self.home / self.rg / f"{self.gwname}.json"
        self.variables = dict(pki.variables())
        self.variables.update({"net": self.net, "dir": str(self.dir),
                               "config": str(self.config)})
        self.resolve = {}
        self.jars = {}

    # -- farm
    def start_farm(self, backends):
        from agwtest import Proc
        port = free_port(f"{self.net}.1")
        self.variables["port"] = port
        farm = {"manifest": str(self.pki.dir / "manifest.json"),
                "backends": []}
        for i, b in enumerate(backends):
            ip = f"{self.net}.{b.get('host', i + 1)}"
            bport = b.get("port", port)
            spec = {"name": b["name"], "listen": f"{ip}:{bport}",
                    "protocol": b["protocol"]}
            if b["protocol"] == "https":
                t = b["tls"]
                spec["tls"] = {"variant": t} if isinstance(t, str) else t
            for k in ("behaviour", "sni", "min_tls", "max_tls"):
                if k in b:
                    spec[k] = b[k]
            farm["backends"].append(spec)
            self.backends[b["name"]] = {"ip": ip, "fqdn": b.get("fqdn")}
            if b.get("fqdn"):
                self.resolve[b["fqdn"]] = ip
        if not farm["backends"]:
            return
        f = self.dir / "farm.json"
        f.write_text(json.dumps(farm, indent=1))
        self.sim = Proc([_bin("agw-sim"), "--farm", str(f)], self.dir, "sim")
        self.sim.start()
        for b in self.sim.ready_json()["backends"]:
            info = self.backends[b["name"]]
            info["port"] = b["port"]
            n = b["name"]
            self.variables.update({f"{n}.ip": info["ip"],
                                   f"{n}.port": b["port"],
                                   f"{n}.addr": f"{info['ip']}:{b['port']}"})
            self.variables[f"{n}.fqdn"] = info["fqdn"] or info["ip"]

    def control(self, method, path, body=None):
        host, port = self.sim.ready_json()["control"].rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            c.request(method, path, body=None if body is None else
                      json.dumps(body))
            r = c.getresponse()
            doc = json.loads(r.read() or b"null")
        finally:
            c.close()
        if r.status != 200:
            raise ScenarioError(f"agw-sim {method} {path}: {r.status} "
                                f"{doc}")
        return doc

    # -- gateway configuration
    def base_doc(self):
        return {"name": self.gwname,
                "type": "Microsoft.Network/applicationGateways",
                "location": "local", "sku": dict(SKUS[self.sku])}

    def read_config(self):
        return json.loads(self.config.read_text())

    def write_config(self, doc):
        """Write the gateway document atomically, in the shape the file
        already has (agw keeps the az show shape); a new file is written in
        the ARM template shape."""
        self.config.parent.mkdir(parents=True, exist_ok=True)
        hoisted = self.config.exists() and \
            "properties" not in self.read_config()
        tmp = self.config.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc if hoisted else to_arm(doc),
                                  indent=1))
        tmp.replace(self.config)

    def apply_arm(self, frag):
        base = self.read_config() if self.config.exists() else \
            self.base_doc()
        doc = expand_refs(merge_arm(base, frag), self.rg, self.gwname)
        self.write_config(doc)

    def run_agw(self, line, fails=None):
        from agwtest import run
        args = shlex.split(line)
        if not args or args[0] != "agw":
            raise ScenarioError(f"agw command must start with agw: {line}")
        cp = run([_bin("agw")] + args[1:], check=False,
                 env=dict(os.environ, AGW_HOME=str(self.home)),
                 cwd=self.dir)
        out = cp.stdout + cp.stderr
        if fails is not None:
            if cp.returncode == 0 or fails not in out:
                raise ScenarioError(
                    f"`{line}`: expected to fail with {fails!r}; exited "
                    f"{cp.returncode}:\n{out[-2000:]}")
        elif cp.returncode != 0:
            raise ScenarioError(f"`{line}` exited {cp.returncode}:\n"
                                f"{out[-2000:]}")
        return cp

    # -- gateway process
    def gateway_args(self):
        args = [_bin("agw-gateway"), "--config", str(self.config),
                "--ephemeral-ports", "--admin", "127.0.0.1:0",
                "--well-known-cas", str(self.pki.dir / "well-known-cas.pem"),
                "--debug-headers", "--probe-scale", str(self.probe_scale)]
        for name, ip in self.resolve.items():
            args += ["--resolve", f"{name}:{ip}"]
        return args

    def start_gateway(self):
        from agwtest import Proc
        self.gw = Proc(self.gateway_args(), self.dir, "gateway")
        self.gw.start()
        ready = self.gw.ready_json()
        self.variables["gw.admin"] = ready["admin"]
        for lst in ready.get("listeners", []):
            self.variables[f"listener.{lst['frontendPort']}"] = lst["port"]

    def listener(self, name=None):
        ls = self.gw.ready_json().get("listeners", []) if self.gw else []
        if self.gw:
            try:  # after a reload the ports may have changed
                ls = self.admin("GET", "/status").get("listeners", ls)
            except (OSError, ValueError, ScenarioError):
                pass
        if not ls:
            raise ScenarioError("the gateway has no listener")
        if name is None:
            return ls[0]
        for lst in ls:
            if name in (lst.get("frontendPort"), str(lst.get("configured"))):
                return lst
        raise ScenarioError(f"no listener for frontend port {name!r} "
                            f"(listeners: {ls})")

    def admin(self, method, path, timeout=10):
        host, port = self.gw.ready_json()["admin"].rsplit(":", 1)
        c = http.client.HTTPConnection(host, int(port), timeout=timeout)
        try:
            c.request(method, path)
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        try:
            doc = json.loads(data or b"null")
        except ValueError:
            doc = data.decode(errors="replace")
        if r.status >= 400:
            raise ScenarioError(f"admin {method} {path}: {r.status} {doc}")
        return doc

    def health(self):
        if self.gw is None or self.gw.proc is None:
            return {"error": "the gateway is not running"}
        try:
            return self.admin("GET", "/backendhealth")
        except (OSError, ScenarioError) as e:
            return {"error": str(e)}

    def log_tail(self):
        return self.gw.log_text()[-6000:] if self.gw else ""

    def reload(self):
        before = self.admin("GET", "/status").get("generation")
        doc = self.admin("POST", "/reload")
        after = self.admin("GET", "/status")
        if after.get("last_reload") and isinstance(after["last_reload"],
                                                    dict) and \
                after["last_reload"].get("error"):
            raise ScenarioError(f"reload failed: {after['last_reload']}")
        if after.get("generation") == before:
            raise ScenarioError(f"reload did not load a new generation: "
                                f"{doc} / {after}")
        return after

    def stop(self):
        errs = []
        for p in (self.gw, self.sim):
            if p is not None and p.proc is not None:
                try:
                    p.stop(timeout=5)
                except AssertionError as e:
                    tail = p.log_text().strip().splitlines()[-3:]
                    errs.append(str(e)[:2000] + "; last log lines:\n  " +
                                "\n  ".join(tail))
        return errs

    # -- requests
    def send(self, spec):
        """Run a send step; returns [Resp]."""
        count = int(spec.get("count", 1))
        conc = max(1, int(spec.get("concurrency", 1)))
        lst = self.listener(spec.get("listener"))
        https = spec.get("scheme", lst.get("protocol", "Http").lower()) \
            == "https"
        method = spec.get("method", "GET")
        path = spec.get("path", "/")
        headers = {str(k): str(v) for k, v in
                   (spec.get("headers") or {}).items()}
        if "host" in spec:
            headers["Host"] = spec["host"]
        body = spec.get("body")
        if body is not None:
            body = str(body).encode()
        keep = spec.get("keepalive", True)
        cookies = spec.get("cookies", False)
        timeout = float(spec.get("timeout", 30))
        port = lst["port"]
        addr = lst.get("address", "127.0.0.1")

        if isinstance(cookies, str):
            shared = self.jars.setdefault(cookies, {})
        else:
            shared = None

        def worker(n):
            out = []
            jar = shared if shared is not None else {}
            conn = None
            for _ in range(n):
                if conn is None or not keep:
                    if conn is not None:
                        conn.close()
                    conn = _conn(addr, port, https, timeout)
                h = dict(headers)
                if jar:
                    h["Cookie"] = "; ".join(f"{k}={v}"
                                            for k, v in jar.items())
                if not keep:
                    h["Connection"] = "close"
                r = http_request(conn, method, path, h, body)
                r.sent_cookie = h.get("Cookie")
                if r.error is not None:
                    conn = None
                elif r.headers.get("connection", "").lower() == "close":
                    conn.close()
                    conn = None
                if cookies and "set-cookie" in r.headers:
                    for m in re.finditer(r"(?:^|,\s*)([^=,;\s]+)=([^;,]*)",
                                         r.headers["set-cookie"]):
                        if m.group(1).lower() not in ("path", "expires",
                                                      "samesite", "domain"):
                            jar[m.group(1)] = m.group(2)
                out.append(r)
            if conn is not None:
                conn.close()
            return out
        if conc == 1:
            return worker(count)
        share = [count // conc + (1 if i < count % conc else 0)
                 for i in range(conc)]
        with concurrent.futures.ThreadPoolExecutor(conc) as ex:
            parts = list(ex.map(worker, share))
        return [r for p in parts for r in p]

    # -- health
    def server_addr(self, key):
        b = self.backends.get(key)
        if b is None:
            return key
        return b.get("fqdn") or b["ip"]

    def health_match(self, doc, want, pool=None, settings=None):
        """Problems between /backendhealth and want {server: spec}."""
        probs = []
        servers = health_servers(doc)
        for key, spec in want.items():
            if isinstance(spec, str):
                spec = {"health": spec}
            addr = self.server_addr(key)
            rows = [s for s in servers if s[2] == addr and
                    (pool is None or s[0] == pool) and
                    (settings is None or s[1] == settings)]
            if not rows:
                probs.append(f"{key} ({addr}): not in backend health")
                continue
            for p, s, a, h, log in rows:
                if "health" in spec and h != spec["health"]:
                    probs.append(f"{key} ({p}/{s}): expected "
                                 f"{spec['health']}, got {h}: {log}")
                if "log" in spec and log != spec["log"]:
                    probs.append(f"{key} ({p}/{s}): healthProbeLog expected "
                                 f"{spec['log']!r}, got {log!r}")
                if "reason" in spec:
                    want_t = reason_text(REASONS, spec["reason"],
                                         spec.get("code"))
                    if want_t is None:
                        probs.append(f"{key}: unknown reason "
                                     f"{spec['reason']!r}")
                    elif spec["reason"] == "ok":
                        if h != "Healthy":
                            probs.append(f"{key} ({p}/{s}): expected "
                                         f"Healthy, got {h}: {log}")
                    elif (log or "") != want_t and not (
                            spec.get("code") is None and
                            reason_for_text(REASONS, log) ==
                            spec["reason"]):
                        probs.append(f"{key} ({p}/{s}): expected "
                                     f"{spec['reason']} ({want_t!r}), got "
                                     f"{h}: {log!r}")
        return probs

    def wait_health(self, want, timeout=10.0, pool=None, settings=None):
        deadline = time.monotonic() + timeout
        while True:
            doc = self.health()
            probs = self.health_match(doc, want, pool, settings)
            if not probs:
                return doc
            if time.monotonic() > deadline:
                raise ScenarioError(format_failure(
                    f"wait_health (waited {timeout}s)", probs,
                    self.log_tail(), doc))
            time.sleep(0.05)


REASONS = load_reasons()


# ----------------------------------------------------------- the runner


class Scenario:
    """Runs one parsed scenario in a Lab."""

    def __init__(self, doc, lab, source):
        self.doc = doc
        self.lab = lab
        self.source = source
        self.notes = []  # load summaries, for the report

    def v(self, obj, path=()):
        try:
            return substitute(obj, self.lab.variables, path)
        except ScenarioError as e:
            raise ScenarioError(f"{self.source}: {e}") from None

    def setup(self):
        d = self.doc
        self.lab.start_farm(self.v(d["farm"].get("backends", []),
                                   ("farm", "backends")))
        gw = d["gateway"]
        for i, line in enumerate(gw.get("agw") or []):
            self._agw(line, ("gateway", "agw", i))
        if gw.get("arm"):
            self.lab.apply_arm(self.v(gw["arm"], ("gateway", "arm")))
        if gw.get("start", True):
            self.lab.start_gateway()

    def _agw(self, line, path):
        fails = None
        if isinstance(line, dict):
            fails = line.get("fails")
            line = line["run"]
        self.lab.run_agw(self.v(line, path), fails)

    def run(self):
        self.setup()
        self.steps(self.doc["steps"], ("steps",))

    def steps(self, steps, path):
        for i, st in enumerate(steps):
            self.step(st, path + (i,))

    def fail(self, where, probs, extra=""):
        lab = self.lab
        raise ScenarioError(format_failure(
            where, probs, lab.log_tail(),
            lab.health() if lab.gw and lab.gw.proc.poll() is None else None,
            extra))

    def step(self, st, path):
        kind = next(k for k in st if k in STEP_KINDS)
        where = f"{_where(list(path))} ({kind}" + \
            (f": {st['name']})" if "name" in st else ")")
        arg = self.v(st[kind], path + (kind,))
        lab = self.lab
        if kind == "note":
            return
        if kind == "send":
            resps = lab.send(arg)
            exp = self.v(st.get("expect", {}), path + ("expect",))
            probs = check_responses(exp, resps, lab.sku)
            if probs:
                self.fail(where, probs, f"sent {arg}")
        elif kind == "wait_health":
            arg = dict(arg)
            timeout = float(arg.pop("timeout", 10))
            pool = arg.pop("pool", None)
            sets = arg.pop("settings", None)
            want = arg.pop("servers", arg)
            try:
                lab.wait_health(want, timeout, pool, sets)
            except ScenarioError as e:
                raise ScenarioError(f"{where}: {e}") from None
        elif kind == "agw":
            for j, line in enumerate(arg if isinstance(arg, list)
                                     else [arg]):
                self._agw(line, path + (kind, j))
            if lab.gw:
                lab.reload()
        elif kind == "config":
            lab.apply_arm(arg)
            if lab.gw:
                lab.reload()
        elif kind == "reload":
            if isinstance(arg, dict) and arg.get("signal"):
                gen = lab.admin("GET", "/status").get("generation")
                lab.gw.signal(signal.SIGHUP)
                deadline = time.monotonic() + 10
                while lab.admin("GET", "/status").get("generation") == gen:
                    if time.monotonic() > deadline:
                        self.fail(where, ["SIGHUP: no new generation"])
                    time.sleep(0.02)
            else:
                lab.reload()
        elif kind == "rotate":
            body = {"variant": arg["variant"]} if "variant" in arg else \
                {k: arg[k] for k in ("cert", "key", "chain") if k in arg}
            if "sni" in arg:
                body["sni"] = arg["sni"]
            for b in _names(arg["backend"]):
                lab.control("PUT", f"/backends/{b}/tls", body)
        elif kind == "behaviour":
            for b in _names(arg["backend"]):
                lab.control("PUT", f"/backends/{b}/behaviour",
                            arg.get("set", {}))
        elif kind in ("down", "up"):
            for b in _names(arg):
                lab.control("POST", f"/backends/{b}/{kind}")
        elif kind == "reset":
            lab.control("POST", "/reset")
        elif kind == "wait_log":
            try:
                lab.gw.wait_log(arg, timeout=10)
            except AssertionError as e:
                self.fail(where, [str(e)[:500]])
        elif kind == "check":
            self.check(arg, where)
        elif kind == "seen":
            self.seen(arg, where)
        elif kind == "load":
            self.load(arg, path, where)

    def check(self, arg, where):
        """agw-gateway --check on the current config: ok, or errors."""
        from agwtest import run
        cp = run([_bin("agw-gateway"), "--config", str(self.lab.config),
                  "--check"], check=False)
        out = cp.stdout + cp.stderr
        if arg.get("ok"):
            if cp.returncode != 0 or "configuration OK" not in out:
                self.fail(where, [f"--check: expected configuration OK, "
                                  f"got exit {cp.returncode}: {out[-1500:]}"])
        for e in arg.get("errors", []):
            if cp.returncode == 0 or e not in out:
                self.fail(where, [f"--check: expected an error containing "
                                  f"{e!r}, got exit {cp.returncode}: "
                                  f"{out[-1500:]}"])

    def seen(self, want, where):
        probs = []
        for b, spec in want.items():
            doc = self.lab.control("GET", f"/backends/{b}")
            for key, field in (("sni", "sni_seen"), ("hosts", "hosts_seen")):
                got = {k or "none" for k, c in doc.get(field, {}).items()
                       if c}
                if key in spec and got != set(spec[key]):
                    probs.append(f"{b} {key} seen: expected "
                                 f"{sorted(spec[key])}, got {sorted(got)} "
                                 f"({doc.get(field)})")
                inc = key + "_include"
                if inc in spec and not set(spec[inc]) <= got:
                    probs.append(f"{b} {key} seen: expected to include "
                                 f"{sorted(spec[inc])}, got {sorted(got)}")
            if "requests" in spec and not count_ok(spec["requests"],
                                                   doc.get("requests", 0)):
                probs.append(f"{b} requests: expected {spec['requests']}, "
                             f"got {doc.get('requests')}")
        if probs:
            self.fail(where, probs)

    def load(self, arg, path, where):
        """Background load while the nested steps run; then the ceiling
        on failed requests."""
        spec = {k: arg[k] for k in ("path", "host", "headers", "listener",
                                    "method", "scheme") if k in arg}
        spec["count"] = 1
        conc = int(arg.get("concurrency", 2))
        stop = threading.Event()
        resps = []
        lock = threading.Lock()

        def loop():
            while not stop.is_set():
                rs = self.lab.send(dict(spec, keepalive=False))
                with lock:
                    resps.extend(rs)
        threads = [threading.Thread(target=loop, daemon=True)
                   for _ in range(conc)]
        for t in threads:
            t.start()
        try:
            self.steps(self.doc_steps(arg), path + ("load", "during"))
            # let the load run after the last step too, for a moment
            # measured in requests, not seconds
            n0 = len(resps)
            deadline = time.monotonic() + 10
            while len(resps) < n0 + int(arg.get("after", 20)) and \
                    time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        failed = [r for r in resps if r.failed()]
        want = arg.get("failed", 0)
        probs = []
        why = collections.Counter(
            f"{r.status} {r.reason or r.error or ''}".strip()
            for r in failed)
        summary = (f"load at {where}: {len(failed)} failed of {len(resps)}"
                   + (": " + ", ".join(f"{k} x{v}" for k, v in
                                       why.most_common()) if why else ""))
        self.notes.append(summary)
        print(summary)
        allowed = arg.get("reasons")
        if allowed is not None:
            other = [r for r in failed if (r.reason or r.error) not in allowed]
            if other:
                probs.append(f"load: failures not explained by "
                             f"{allowed}: " + _summ(other))
        if not count_ok(want, len(failed)):
            c = collections.Counter(
                f"{r.status} {r.reason or r.error or ''}".strip()
                for r in failed)
            probs.append(f"load: expected {want} failed requests, got "
                         f"{len(failed)} of {len(resps)}: "
                         + ", ".join(f"{k} x{v}" for k, v in c.items()))
        if len(resps) < int(arg.get("min_requests", 10)):
            probs.append(f"load: only {len(resps)} requests were sent")
        if "backends" in arg:
            probs += check_responses({"backends": arg["backends"]},
                                     [r for r in resps if not r.failed()])
        if probs:
            self.fail(where, probs)

    @staticmethod
    def doc_steps(arg):
        return arg.get("during", [])


def _names(x):
    return x if isinstance(x, list) else [x]


# ------------------------------------------------------------ the matrix


class MatrixLab:
    """One farm (one backend per variant) and one gateway per mode, shared
    by every cell a worker runs."""
    labs = {}
    farms = {}

    def __init__(self):
        pass

    @classmethod
    def get(cls, config, modes, variants, mode):
        if mode in cls.labs:
            return cls.labs[mode]
        spec = modes[mode]
        sku = spec["sku"]
        pki = Pki.get(_pki_base(config))
        wd = config._tmp_path_factory.mktemp(f"matrix-{mode}")
        lab = Lab(wd, sku, pki, float(spec.get("probe_scale", 0.1)))
        backends = [{"name": v, "protocol": "https", "tls": v, "host": 1,
                     "port": 0} for v in variants]
        lab.farm_errors, lab.mode_errors, lab.uploads = {}, {}, {}
        cls.labs[mode] = lab
        while True:
            try:
                lab.start_farm(backends)
                break
            except AssertionError as e:
                # a variant agw-sim cannot serve: its cells report why,
                # the others run
                ms = re.findall(r'error: .*?backend "([^"]+)": (.*)', str(e))
                m = ms[-1] if ms else None
                (lab.dir / "sim.log").unlink(missing_ok=True)
                if not m or m[0] not in [b["name"] for b in backends]:
                    lab.start_error = f"agw-sim did not start: {e}"
                    return lab
                lab.farm_errors[m[0]] = m[1][:300]
                backends = [b for b in backends if b["name"] != m[0]]
                lab.sim = None
        uploads = {}
        for v in variants:
            if v in lab.farm_errors:
                continue
            try:
                uploads[v] = mode_uploads(spec, pki.manifest, v)
            except ScenarioError as e:
                lab.mode_errors[v] = f"mode {mode}: {e}"
        variants = [v for v in variants if v in uploads]
        fqdn = spec.get("member", "backend.test")
        lab.resolve[fqdn] = f"{lab.net}.1"
        frag = {"sku": dict(SKUS[sku]), "backendAddressPools": [],
                "backendHttpSettingsCollection": [],
                "urlPathMaps": [], "authenticationCertificates": [],
                "trustedRootCertificates": []}
        rules = []
        lab.uploads = uploads
        for v in variants:
            frag["backendAddressPools"].append(
                {"name": f"pool-{v}", "backendAddresses": [{"fqdn": fqdn}]})
            st = {"name": f"set-{v}", "port": lab.backends[v]["port"],
                  "protocol": "Https", "requestTimeout": 5,
                  "pickHostNameFromBackendAddress": True}
            st.update(copy.deepcopy(spec.get("settings", {})))
            auths, roots = uploads[v]
            if auths:
                st["authenticationCertificates"] = [f"auth-{a}"
                                                    for a in auths]
            if roots:
                st["trustedRootCertificates"] = roots
            for coll, names, pre in (
                    ("authenticationCertificates", auths, "auth-"),
                    ("trustedRootCertificates", roots, "")):
                have = {c["name"] for c in frag[coll]}
                for n in names:
                    if pre + n not in have:
                        frag[coll].append(
                            {"name": pre + n,
                             "data": lab.variables[f"certs.{n}.data"]})
            frag["backendHttpSettingsCollection"].append(st)
            rules.append({"name": f"rule-{v}", "paths": [f"/{v}/*"],
                          "backendAddressPool": f"pool-{v}",
                          "backendHttpSettings": f"set-{v}"})
        if not variants:
            lab.start_error = "no variant can be served in this mode"
            return lab
        first = variants[0]
        frag["urlPathMaps"] = [{"name": "variants",
                                "defaultBackendAddressPool": f"pool-{first}",
                                "defaultBackendHttpSettings": f"set-{first}",
                                "pathRules": rules}]
        rule = {"name": "rule", "ruleType": "PathBasedRouting",
                "httpListener": "listener", "urlPathMap": "variants"}
        if sku == "v2":
            rule["priority"] = 100
        frag["requestRoutingRules"] = [rule]
        for k in ("authenticationCertificates", "trustedRootCertificates"):
            if not frag[k]:
                del frag[k]
        try:
            lab.apply_arm(frag)
            lab.start_gateway()
            # every server probed once (or the wait budget spent)
            deadline = time.monotonic() + float(spec.get("settle", 8))
            while time.monotonic() < deadline:
                hs = health_servers(lab.health())
                if hs and all(h != "Unknown" for *_, h, _ in hs):
                    break
                time.sleep(0.05)
        except Exception as e:  # noqa: BLE001 - every cell reports it
            lab.start_error = f"{type(e).__name__}: {e}"
        return lab

    @classmethod
    def stop_all(cls):
        for lab in cls.labs.values():
            lab.stop()
        cls.labs.clear()


def run_cell(lab, variant, expected):
    """Run one matrix cell: a request to /<variant>/ and the health of the
    variant's pool. Returns (observed, problems)."""
    obs = {"status": None, "reason": None, "code": None}
    err = getattr(lab, "start_error", None)
    if err:
        obs["error"] = "gateway did not start"
        return obs, [err]
    if variant in getattr(lab, "farm_errors", {}):
        obs["error"] = "agw-sim cannot serve it"
        return obs, [f"agw-sim: {lab.farm_errors[variant]}"]
    if variant in getattr(lab, "mode_errors", {}):
        obs["error"] = "mode cannot be built"
        return obs, [lab.mode_errors[variant]]
    hs = [s for s in health_servers(lab.health()) if s[0] ==
          f"pool-{variant}"]
    r = lab.send({"path": f"/{variant}/", "timeout": 15})[0]
    if r.error:
        obs["error"] = r.error
        return obs, [f"request failed: {r.error}"]
    obs["status"] = r.status
    reason = r.reason or ("ok" if r.status < 400 else None)
    health, log = (hs[0][3], hs[0][4]) if hs else (None, None)
    if reason in ("pool.no_healthy_member", None) and health:
        reason = reason_for_text(REASONS, log) or reason
    obs["reason"] = reason
    m = re.search(r"error code (\d+)", log or "")
    if reason == "v2.verify_failed" and m:
        obs["code"] = int(m.group(1))
    obs["health"], obs["log"] = health, log
    probs = []
    if obs["status"] != expected["status"] or \
            obs["reason"] != expected["reason"] or (
                expected.get("code") is not None and
                obs["code"] != expected["code"]):
        probs.append(f"expected {cell_str(expected)}, got {cell_str(obs)}")
    want_h = "Healthy" if expected["status"] < 400 else "Unhealthy"
    if health != want_h:
        probs.append(f"backend health: expected {want_h}, got {health}: "
                     f"{log}")
    elif want_h == "Unhealthy":
        t = reason_text(REASONS, expected["reason"], expected.get("code"))
        if t and "{" not in t and log != t:
            probs.append(f"healthProbeLog: expected {t!r}, got {log!r}")
    auths, roots = getattr(lab, "uploads", {}).get(variant, ([], []))
    if probs and (auths or roots):
        probs.append("uploaded for this variant: " + "; ".join(
            f"{k} {', '.join(n)}" for k, n in (
                ("authentication certificate", auths),
                ("trusted root", roots)) if n))
    return obs, probs


# ------------------------------------------------------------- pytest glue


def _pki_base(config):
    if not hasattr(config, "_agw_pki_base"):
        # the controller sets AGW_SCENARIO_RUN before xdist starts workers
        uid = os.environ.setdefault("AGW_SCENARIO_RUN", uuid.uuid4().hex)
        config._agw_pki_base = Path(tempfile.gettempdir()) / f"agw-pki-{uid}"
    return config._agw_pki_base


def pytest_addoption(parser):
    g = parser.getgroup("agw", "agw-lab scenarios")
    g.addoption("--agw-matrix", action="store_true",
                help="render the conformance matrix at the end "
                     "(terminal, build/report/matrix.md, matrix.html)")


def pytest_configure(config):
    for m, h in (("v1", "runs an Application Gateway v1 (Standard)"),
                 ("v2", "runs an Application Gateway v2 (Standard_v2)"),
                 ("rotation", "a certificate rotation rehearsal"),
                 ("slow", "takes more than a few seconds"),
                 ("matrix", "a cell of the conformance matrix"),
                 ("routing", "listeners, rules, path maps, multi-site"),
                 ("lb", "round robin, affinity, draining"),
                 ("sni", "SNI and Host rules"),
                 ("probe", "health probes and healthProbeLog texts"),
                 ("errors", "gateway-made 502/504 and passed-through 5xx"),
                 ("config", "configuration validation and reloads"),
                 ("agw", "the gateway is configured with agw commands")):
        config.addinivalue_line("markers", f"{m}: {h}")
    config._agw_t0 = time.monotonic()
    # `pytest -n N scenarios` keeps each matrix mode on one worker
    if getattr(config.option, "dist", None) == "load":
        config.option.dist = "loadgroup"
    if not hasattr(config, "workerinput"):
        os.environ["AGW_SCENARIO_RUN"] = uuid.uuid4().hex
        _pki_base(config)
        cells = report_dir(config) / "cells"
        if cells.exists():
            shutil.rmtree(cells, ignore_errors=True)


def pytest_configure_node(node):
    pass


def pytest_collect_file(parent, file_path):
    if file_path.suffix not in (".yaml", ".yml"):
        return None
    if "scenarios" not in file_path.parts:
        return None
    if file_path.name in ("matrix.yaml", "matrix.yml"):
        return MatrixFile.from_parent(parent, path=file_path)
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    def collect(self):
        text = self.path.read_text()
        try:
            doc = load_scenario(text, self.path.name)
        except ScenarioError as e:
            yield BrokenItem.from_parent(self, name=self.path.stem,
                                         error=str(e))
            return
        item = ScenarioItem.from_parent(self, name=doc["name"], doc=doc)
        for m in doc["markers"]:
            item.add_marker(m)
        yield item


class BrokenItem(pytest.Item):
    def __init__(self, *, error, **kw):
        super().__init__(**kw)
        self.error = error

    def runtest(self):
        raise ScenarioError(self.error)

    def repr_failure(self, excinfo):
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, 0, f"scenario {self.name} (malformed)"


class ScenarioItem(pytest.Item):
    def __init__(self, *, doc, **kw):
        super().__init__(**kw)
        self.doc = doc

    def runtest(self):
        doc = self.doc
        certs = doc.get("certs", "default")
        profile = None
        if isinstance(certs, dict) and certs.get("profile"):
            profile = (self.path.parent / certs["profile"]).resolve()
        pki = Pki.get(_pki_base(self.config), profile)
        wd = self.config._tmp_path_factory.mktemp(
            re.sub(r"[^\w-]", "_", doc["name"])[:40])
        lab = Lab(wd, doc["sku"], pki, float(doc.get("probe_scale", 0.05)))
        sc = Scenario(doc, lab, self.path.name)
        errs = []
        try:
            sc.run()
        finally:
            errs = lab.stop()
            for n in sc.notes:  # junit.xml <property name="load">
                self.user_properties.append(("load", n))
        if errs:
            raise ScenarioError("the scenario passed but a process did not "
                                "exit cleanly:\n" + "\n".join(errs))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (ScenarioError, AssertionError)):
            return f"{self.path.name}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"scenario {self.name}"


class MatrixFile(pytest.File):
    def collect(self):
        doc = yaml.safe_load(self.path.read_text())
        try:
            modes, cells = expand_matrix(doc, self.path.name)
        except ScenarioError as e:
            yield BrokenItem.from_parent(self, name="matrix", error=str(e))
            return
        variants = list(doc["variants"])
        for v, m, exp in cells:
            item = CellItem.from_parent(self, name=f"{m}::{v}", mode=m,
                                        variant=v, expected=exp,
                                        modes=modes, variants=variants)
            item.add_marker("matrix")
            item.add_marker(modes[m]["sku"])
            # one worker per mode: one farm and one gateway per mode
            item.add_marker(pytest.mark.xdist_group(name=f"matrix-{m}"))
            yield item


class CellItem(pytest.Item):
    def __init__(self, *, mode, variant, expected, modes, variants, **kw):
        super().__init__(**kw)
        self.mode, self.variant, self.expected = mode, variant, expected
        self.modes, self.variants = modes, variants

    def runtest(self):
        lab = None
        try:
            lab = MatrixLab.get(self.config, self.modes, self.variants,
                                self.mode)
            obs, probs = run_cell(lab, self.variant, self.expected)
        except Exception as e:  # noqa: BLE001 - recorded in the matrix
            obs, probs = {"status": None, "error": str(e)[:200]}, [str(e)]
        res = {"variant": self.variant, "mode": self.mode,
               "expected": self.expected, "observed": obs,
               "passed": not probs, "problems": probs}
        d = report_dir(self.config) / "cells"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{self.mode}__{self.variant}.json").write_text(
            json.dumps(res, indent=1))
        if probs and lab is None:
            raise ScenarioError("\n".join(probs))
        if probs:
            raise ScenarioError(format_failure(
                f"cell {self.variant} x {self.mode}", probs, lab.log_tail(),
                {"backendAddressPools": [
                    p for p in (lab.health() or {}).get(
                        "backendAddressPools", [])
                    if p.get("backendAddressPool", {}).get("id", "")
                    .endswith(f"/pool-{self.variant}")]}))

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, (ScenarioError, AssertionError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"matrix {self.variant} x {self.mode}"


def pytest_sessionfinish(session, exitstatus):
    MatrixLab.stop_all()
    config = session.config
    if hasattr(config, "workerinput"):
        return
    base = getattr(config, "_agw_pki_base", None)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)
    if not config.getoption("agw_matrix"):
        return
    mfile = ROOT / "scenarios" / "matrix.yaml"
    if not mfile.exists():
        return
    doc = yaml.safe_load(mfile.read_text())
    modes, _ = expand_matrix(doc)
    results = {}
    for f in (report_dir(config) / "cells").glob("*.json"):
        r = json.loads(f.read_text())
        results[(r["variant"], r["mode"])] = r
    tr = config.pluginmanager.get_plugin("terminalreporter")
    counts = {}
    if tr is not None:
        counts = {"passed": len(tr.stats.get("passed", [])),
                  "failed": len(tr.stats.get("failed", [])) +
                  len(tr.stats.get("error", []))}
    elapsed = time.monotonic() - config._agw_t0
    with contextlib.suppress(ValueError):
        # tests/run.sh passes when it started pytest: the wall time
        elapsed = time.time() - float(os.environ.get("AGW_RUN_T0", "x"))
    text, md, htm = render_matrix(
        modes, list(doc["variants"]), results, REASONS, elapsed, counts)
    rd = report_dir(config)
    rd.mkdir(parents=True, exist_ok=True)
    (rd / "matrix.md").write_text(md)
    (rd / "matrix.html").write_text(htm)
    (rd / "matrix.txt").write_text(text + "\n")
    config._agw_matrix_text = text


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """The matrix after every other summary (failures included), its
    summary line the last line of the run (with -qq, which drops pytest's
    own stats line: tests/run.sh matrix)."""
    text = getattr(config, "_agw_matrix_text", None)
    if not text:
        return
    tr = terminalreporter
    # without the "@matrix-MODE" xdist group suffix: ids to rerun with
    failed = [re.sub(r"@matrix-[\w-]+$", "", r.nodeid)
              for k in ("failed", "error") for r in tr.stats.get(k, [])
              if getattr(r, "nodeid", None)]
    tr.write_sep("=", "agw-lab conformance matrix")
    if failed:
        tr.write_line(f"failed ({len(failed)}, details above):")
        for n in failed:
            tr.write_line(f"  {n}")
    tr.write_line(f"reports: {report_dir(config)}/matrix.md, matrix.html, "
                  f"matrix.txt, junit.xml")
    tr.write_line(text)
