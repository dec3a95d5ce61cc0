"""Shared helpers for agw-lab's pytest suites (e2e tests and the scenario
driver): where the binaries are, starting a process and waiting on its ready
file (never on a sleep), stopping it and checking it exited cleanly.

Append new helpers at the end; keep the existing signatures stable.
"""
import hashlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("AGW_BUILD", ROOT / "build"))
BIN = Path(os.environ.get("AGW_BIN", BUILD / "bin"))


def binary(name):
    """Path of one of the project's binaries (agw-gateway, agw-sim, ...)."""
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `make build`")
    return str(path)


def run(args, check=True, **kw):
    """Run a command to completion; returns CompletedProcess (text mode)."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    cp = subprocess.run(args, **kw)
    if check and cp.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {cp.returncode}\n"
            f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def wait_for_file(path, timeout=15.0, proc=None, log=None):
    """Wait until path exists and is non-empty; fail early if proc died.
    Polls the file system (the ready file is written atomically)."""
    deadline = time.monotonic() + timeout
    path = Path(path)
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 0:
            return path.read_text()
        if proc is not None and proc.poll() is not None:
            tail = Path(log).read_text()[-4000:] if log else ""
            raise AssertionError(
                f"process exited {proc.returncode} before writing {path}\n"
                f"{tail}")
        time.sleep(0.01)
    raise AssertionError(f"{path} not written within {timeout}s")


class Proc:
    """A long-running project process started with a ready file.

    p = Proc([binary("agw-sim"), "--farm", f], tmp_path, "sim")
    p.start()          # waits for the ready file, returns its text
    p.stop()           # SIGTERM, waits, asserts exit 0
    Its stderr goes to tmp_path/NAME.log (p.log_text()).
    """

    def __init__(self, args, workdir, name, ready_flag="--ready-file",
                 env=None):
        self.workdir = Path(workdir)
        self.name = name
        self.ready = self.workdir / f"{name}.ready"
        self.log = self.workdir / f"{name}.log"
        self.args = list(args)
        if ready_flag:
            self.args += [ready_flag, str(self.ready)]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.ready_text = None

    def start(self, timeout=20.0):
        if self.ready.exists():
            self.ready.unlink()
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self._logf,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.ready_text = wait_for_file(self.ready, timeout, self.proc,
                                        self.log)
        return self.ready_text

    def ready_json(self):
        return json.loads(self.ready_text)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() \
            else ""

    def wait_log(self, needle, timeout=15.0):
        """Wait until needle appears in the process's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"{needle!r} not logged by {self.name}:\n"
                             f"{self.log_text()[-4000:]}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0, check=True):
        """SIGTERM and wait; with check, assert a clean exit 0."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError(f"{self.name} ignored SIGTERM")
        self._logf.close()
        rc = self.proc.returncode
        if check and rc != 0:
            raise AssertionError(f"{self.name} exited {rc}:\n"
                                 f"{self.log_text()[-4000:]}")
        return rc

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)


# --- gateway helpers (engineer P) -------------------------------------------

_GW_ID = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
          "agw-lab/providers/Microsoft.Network/applicationGateways/")

_GW_REFS = {
    "frontendIPConfiguration": "frontendIPConfigurations",
    "frontendPort": "frontendPorts",
    "sslCertificate": "sslCertificates",
    "backendAddressPool": "backendAddressPools",
    "backendHttpSettings": "backendHttpSettingsCollection",
    "defaultBackendAddressPool": "backendAddressPools",
    "defaultBackendHttpSettings": "backendHttpSettingsCollection",
    "httpListener": "httpListeners",
    "urlPathMap": "urlPathMaps",
    "probe": "probes",
    "trustedRootCertificates": "trustedRootCertificates",
    "authenticationCertificates": "authenticationCertificates",
}


def _gw_props(gw, props):
    """Turn reference names in props into ARM {"id": ...} references."""
    out = {}
    for k, v in props.items():
        if k in _GW_REFS and v is not None:
            coll = _GW_REFS[k]
            if isinstance(v, list):
                out[k] = [{"id": f"{_GW_ID}{gw}/{coll}/{n}"} for n in v]
            else:
                out[k] = {"id": f"{_GW_ID}{gw}/{coll}/{v}"}
        elif k == "pathRules":
            out[k] = [{"name": r["name"],
                       "properties": _gw_props(gw, {x: y for x, y in
                                                   r.items()
                                                   if x != "name"})}
                      for r in v]
        else:
            out[k] = v
    return out


def gateway_config(sku="v2", members=("127.0.1.1",), backend_port=80,
                   name="gw", ports=None, pools=None, settings=None,
                   listeners=None, rules=None, path_maps=None, **extra):
    """A Microsoft.Network/applicationGateways resource (ARM template
    shape) built from a few parameters. Collections are lists of dicts with
    a "name" and the properties; references are given by name. Defaults: one
    frontend port "port80" (80), pool "pool1" of members, Http setting "s1"
    on backend_port, listener "l1", one Basic rule "r1".
    Extra collections (sslCertificates, probes, trustedRootCertificates,
    authenticationCertificates) go through **extra the same way."""
    v1 = sku == "v1"
    ports = ports or [{"name": "port80", "port": 80}]
    pools = pools or [{"name": "pool1", "backendAddresses": [
        {"fqdn": m} if any(c.isalpha() for c in m) else {"ipAddress": m}
        for m in members]}]
    settings = settings or [{"name": "s1", "port": backend_port,
                             "protocol": "Http",
                             "cookieBasedAffinity": "Disabled",
                             "requestTimeout": 20}]
    listeners = listeners or [{"name": "l1", "frontendIPConfiguration": "fip",
                               "frontendPort": ports[0]["name"],
                               "protocol": "Http"}]
    if rules is None:
        rules = [{"name": "r1", "ruleType": "Basic", "httpListener": "l1",
                  "backendAddressPool": pools[0]["name"],
                  "backendHttpSettings": settings[0]["name"]}]
    for i, r in enumerate(rules):
        if v1:
            r.pop("priority", None)
        else:
            r.setdefault("priority", 100 + 10 * i)
    props = {
        "sku": {"name": "Standard_Medium" if v1 else "Standard_v2",
                "tier": "Standard" if v1 else "Standard_v2", "capacity": 1},
        "frontendIPConfigurations": [{"name": "fip", "properties": {
            "privateIPAddress": "127.0.0.1",
            "privateIPAllocationMethod": "Static"}}],
    }
    colls = {"frontendPorts": ports, "backendAddressPools": pools,
             "backendHttpSettingsCollection": settings,
             "httpListeners": listeners, "requestRoutingRules": rules,
             "urlPathMaps": path_maps or []}
    colls.update(extra)
    for coll, items in colls.items():
        props[coll] = [{"name": it["name"],
                        "properties": _gw_props(name, {k: v for k, v in
                                                       it.items()
                                                       if k != "name"})}
                       for it in items]
    return {"type": "Microsoft.Network/applicationGateways",
            "apiVersion": "2023-09-01", "name": name,
            "location": "westeurope", "properties": props}


class Gateway(Proc):
    """agw-gateway on a generated config, with ephemeral frontend ports and
    an admin API on port 0.

    g = Gateway(tmp_path, gateway_config(...)); g.start()
    g.url("port80") -> "http://127.0.0.1:PORT"; g.admin_get("/status")
    """

    def __init__(self, workdir, config, extra_args=(), name="gw",
                 ephemeral=True):
        self.config_path = Path(workdir) / f"{name}.json"
        self.write_config(config)
        args = [binary("agw-gateway"), "--config", str(self.config_path),
                "--admin", "127.0.0.1:0", "--log-level", "debug"]
        if ephemeral:
            args.append("--ephemeral-ports")
        super().__init__(args + list(extra_args), workdir, name)

    def reread_ready(self):
        """Read the ready file again (a reload that changes the frontend
        ports rewrites it)."""
        self.ready_text = self.ready.read_text()
        return self.ready_json()

    def write_config(self, config):
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(config, indent=1))
        os.replace(tmp, self.config_path)

    def port(self, frontend_port="port80"):
        for l in self.ready_json()["listeners"]:
            if l["frontendPort"] == frontend_port or \
                    str(l["configured"]) == str(frontend_port):
                return l["port"]
        raise KeyError(frontend_port)

    def url(self, frontend_port="port80", scheme="http"):
        return f"{scheme}://127.0.0.1:{self.port(frontend_port)}"

    def admin(self, path, method="GET"):
        """(status, body text) of one admin API call."""
        import urllib.request
        import urllib.error
        req = urllib.request.Request(
            f"http://{self.ready_json()['admin']}{path}", method=method,
            data=b"" if method == "POST" else None)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


class Backend:
    """A small scriptable HTTP/1.1 backend on 127.0.1.x, port 0, in a
    thread (keep-alive, counts connections, records requests). Paths:
    /status/N, /reset (RST, no answer), /malformed, /cut (a head that
    promises 5 bytes, then close), /sleep/SECONDS, /sleepon/NAME/SECONDS
    (only the backend called NAME sleeps), /stallon/NAME/SECONDS (NAME
    sends a head, stalls, then its 5 body bytes), /chunked, /big/BYTES;
    anything
    else echoes the request as JSON {"server", "method", "path",
    "headers": [[k, v]], "body_len", "body_sha256", "conn"}.
    With tls=(certfile, keyfile) it serves Https."""

    def __init__(self, host="127.0.1.1", name=None, tls=None, port=0):
        import socket
        import ssl
        import threading
        self.name = name or host
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(128)
        self.host, self.port = self.sock.getsockname()
        self.ctx = None
        if tls:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*tls)
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _accept(self):
        import threading
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                conn_id = self.connections
            threading.Thread(target=self._serve, args=(c, conn_id),
                             daemon=True).start()

    @staticmethod
    def _read_until(c, buf, sep):
        while sep not in buf:
            d = c.recv(65536)
            if not d:
                return None, buf
            buf += d
        i = buf.index(sep) + len(sep)
        return buf[:i], buf[i:]

    def _body(self, c, buf, headers, digest):
        """Read the request body (digest: a hashlib object it is fed to);
        returns (length, the bytes after it)."""
        te = headers.get("transfer-encoding", "")
        if "chunked" in te.lower():
            total = 0
            while True:
                line, buf = self._read_until(c, buf, b"\r\n")
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    _, buf = self._read_until(c, buf, b"\r\n")
                    return total, buf
                while len(buf) < size + 2:
                    buf += c.recv(65536)
                digest.update(buf[:size])
                total += size
                buf = buf[size + 2:]
        n = int(headers.get("content-length", "0"))
        got = min(n, len(buf))
        digest.update(buf[:got])
        buf = buf[got:]
        while got < n:
            d = c.recv(min(65536, n - got))
            if not d:
                break
            digest.update(d)
            got += len(d)
        return got, buf

    def _serve(self, c, conn_id):
        import socket
        import struct
        try:
            if self.ctx:
                c = self.ctx.wrap_socket(c, server_side=True)
            buf = b""
            while True:
                head, buf = self._read_until(c, buf, b"\r\n\r\n")
                if head is None:
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                hl = [l.split(":", 1) for l in lines[1:] if l]
                hl = [[k, v.strip()] for k, v in hl]
                headers = {k.lower(): v for k, v in hl}
                digest = hashlib.sha256()
                n, buf = self._body(c, buf, headers, digest)
                rec = {"server": self.name, "method": method, "path": path,
                       "headers": hl, "body_len": n,
                       "body_sha256": digest.hexdigest(), "conn": conn_id}
                with self.lock:
                    self.requests.append(rec)
                if path == "/reset":
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                 struct.pack("ii", 1, 0))
                    c.close()
                    return
                if path == "/cut":
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                              b"\r\n")
                    c.close()
                    return
                if path == "/malformed":
                    c.sendall(b"HTTP/1.1 abc\r\nthis is not http\r\n\r\n")
                    c.close()
                    return
                if path.startswith("/sleep/"):
                    time.sleep(float(path.split("/")[2]))
                if path.startswith("/sleepon/"):  # /sleepon/NAME/SECONDS
                    _, _, who, secs = path.split("/", 3)
                    if who == self.name:
                        time.sleep(float(secs))
                if path.startswith("/stallon/"):  # /stallon/NAME/SECONDS
                    _, _, who, secs = path.split("/", 3)
                    if who == self.name:  # a head, then nothing for a while
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5"
                                  b"\r\n\r\n")
                        time.sleep(float(secs))
                        c.sendall(b"late!")
                        continue
                if path.startswith("/status/"):
                    code = int(path.split("/")[2])
                    body = f"backend says {code}\n".encode()
                    c.sendall(f"HTTP/1.1 {code} Backend Error\r\n"
                              f"Server: pyback\r\nContent-Length: "
                              f"{len(body)}\r\n\r\n".encode() + body)
                    continue
                if path == "/chunked":
                    c.sendall(b"HTTP/1.1 200 OK\r\nServer: pyback\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\n"
                              b"5;ext=1\r\nhello\r\n6\r\n world\r\n"
                              b"0\r\nX-Trailer: yes\r\n\r\n")
                    continue
                if path.startswith("/big/"):
                    size = int(path.split("/")[2])
                    c.sendall(f"HTTP/1.1 200 OK\r\nServer: pyback\r\n"
                              f"Content-Length: {size}\r\n\r\n".encode())
                    chunk = b"x" * 65536
                    left = size
                    while left > 0:
                        c.sendall(chunk[:min(left, 65536)])
                        left -= 65536
                    continue
                body = json.dumps(rec).encode()
                extra = "" if method != "HEAD" else ""
                c.sendall(f"HTTP/1.1 200 OK\r\nServer: pyback\r\n"
                          f"Content-Type: application/json\r\n{extra}"
                          f"Content-Length: {len(body)}\r\n\r\n".encode()
                          + (body if method != "HEAD" else b""))
        except (OSError, ValueError, AttributeError, TypeError):
            return  # the peer went away mid-message
        finally:
            try:
                c.close()
            except OSError:
                pass


def http_raw(port, data, host="127.0.0.1", timeout=10.0, read_all=True):
    """Send raw bytes to host:port and return everything read until the
    peer closes (or the timeout)."""
    import socket
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(data)
        out = b""
        while True:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            out += d
            if not read_all:
                break
        return out
    finally:
        s.close()


def backend_group(n, tls=None, first=1):
    """n Backends on 127.0.1.<first>.. sharing one port (a pool's members
    differ by address, as in a real pool). Retries when another test holds
    the port on one of the addresses."""
    for _ in range(50):
        made = []
        try:
            for i in range(n):
                made.append(Backend(f"127.0.1.{first + i}", tls=tls,
                                    port=made[0].port if made else 0))
            return made
        except OSError:
            for b in made:
                b.close()
    raise AssertionError("no common free port for the backends")
