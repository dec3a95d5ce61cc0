"""End-to-end tests of agw-sim: driven with curl and Python clients (ssl,
http.client, raw sockets). Certificates are minted per test session with the
openssl command (agw-certs layout and manifest), never committed."""
import http.client
import json
import re
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest

from agwtest import Proc, binary, run

# ---- a small PKI in the agw-certs layout --------------------------------


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True)


def _leaf(d, name, cn, issuer, sans):
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
             "-subj", f"/CN={cn}", "-out", f"{name}.csr", cwd=d)
    ext = d / f"{name}.ext"
    ext.write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{issuer}.pem",
             "-CAkey", f"{issuer}.key", "-CAcreateserial", "-days", "30",
             "-extfile", ext.name, "-out", f"{name}.pem", cwd=d)
    (d / f"{name}.chain.pem").write_text(
        (d / f"{name}.pem").read_text() + (d / f"{issuer}.pem").read_text())


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", "farm-int.key",
             "-subj", "/CN=farm-int", "-days", "30", "-out", "farm-int.pem",
             "-addext", "basicConstraints=critical,CA:TRUE", cwd=d)
    items = {"farm-int": {"variant": "farm-int", "issuer_item": None}}
    for name, cn in [("ca-signed", "backend.test"),
                     ("other", "other.test"),
                     ("rotated", "backend.test")]:
        _leaf(d, name, cn, "farm-int", f"DNS:{cn}")
        items[name] = {"variant": name, "issuer_item": "farm-int"}
    for name, it in items.items():
        it.update(cert=f"{name}.pem", key=f"{name}.key",
                  chain=f"{name}.chain.pem" if name != "farm-int"
                  else f"{name}.pem")
    # wrong-order: the intermediate before the leaf
    (d / "wrong-order.chain.pem").write_text(
        (d / "farm-int.pem").read_text() + (d / "ca-signed.pem").read_text())
    items["wrong-order"] = dict(items["ca-signed"], variant="wrong-order",
                                chain="wrong-order.chain.pem")
    (d / "manifest.json").write_text(json.dumps({"version": 1,
                                                 "items": items}))
    return d


def der(pki, name):
    return ssl.PEM_cert_to_DER_cert((pki / f"{name}.pem").read_text())


# ---- the farm under test -------------------------------------------------


def start_sim(tmp_path, backends, manifest=None, name="sim", args=()):
    farm = {"backends": backends}
    if manifest is not None:
        farm["manifest"] = str(manifest)
    f = tmp_path / f"{name}.json"
    f.write_text(json.dumps(farm))
    p = Proc([binary("agw-sim"), "--farm", str(f), *args], tmp_path, name)
    p.start()
    return p


@pytest.fixture
def farm(tmp_path, pki):
    p = start_sim(tmp_path, [
        {"name": "h1", "listen": "127.0.1.1:0", "protocol": "http"},
        {"name": "s1", "listen": "127.0.1.2:0", "protocol": "https",
         "tls": {"variant": "ca-signed"},
         "sni": {"other.test": {"variant": "other"}}},
        {"name": "e1", "listen": "127.0.1.3:0", "protocol": "https",
         "tls": {"variant": "ca-signed"}, "behaviour": {"echo": True}},
    ], manifest=pki / "manifest.json")
    yield p
    p.stop()


def backend(p, name):
    for b in p.ready_json()["backends"]:
        if b["name"] == name:
            return b
    raise KeyError(name)


def client_ctx(max_tls=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if max_tls:
        ctx.maximum_version = max_tls
    return ctx


def connect(p, name, sni=None, session=None, ctx=None):
    """An HTTPConnection (TLS when the backend is https) to a backend."""
    b = backend(p, name)
    if b["protocol"] == "http":
        c = http.client.HTTPConnection(b["address"], b["port"], timeout=10)
        c.connect()
        return c
    c = http.client.HTTPSConnection(b["address"], b["port"], timeout=10,
                                    context=ctx or client_ctx())
    sock = socket.create_connection((b["address"], b["port"]), timeout=10)
    c.sock = (ctx or client_ctx()).wrap_socket(sock, server_hostname=sni,
                                               session=session)
    return c


def get(p, name, path="/", sni=None, headers=None, method="GET"):
    c = connect(p, name, sni=sni)
    c.request(method, path, headers=headers or {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r, body


def control(p, method, path, body=None):
    host, port = p.ready_json()["control"].rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=10)
    c.request(method, path, body=json.dumps(body) if body is not None
              else None)
    r = c.getresponse()
    doc = json.loads(r.read() or b"null")
    c.close()
    return r.status, doc


def behave(p, name, beh):
    st, doc = control(p, "PUT", f"/backends/{name}/behaviour", beh)
    assert st == 200, doc


def ctl(p, *args, check=True):
    return run([binary("agw-sim"), "ctl", "--control",
                p.ready_json()["control"], *args], check=check)


def raw(p, name, data, timeout=5):
    """Send raw bytes over plain TCP; return everything read until close."""
    b = backend(p, name)
    s = socket.create_connection((b["address"], b["port"]), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    finally:
        s.close()
    return out


# ---- start-up and the ready file -----------------------------------------


def test_sim_ready_file_has_real_ports_and_control(farm):
    ready = farm.ready_json()
    assert ready["pid"] == farm.proc.pid
    assert ready["control"].startswith("127.0.0.1:")
    names = [b["name"] for b in ready["backends"]]
    assert names == ["h1", "s1", "e1"]
    s1 = backend(farm, "s1")
    assert s1["address"] == "127.0.1.2" and s1["port"] > 0
    assert s1["protocol"] == "https"
    log = farm.log_text()
    assert f"backend s1 listening on 127.0.1.2:{s1['port']}" in log
    assert "farm ready: 3 backends" in log


def test_sim_default_response_names_the_backend(farm):
    r, body = get(farm, "h1")
    assert r.status == 200
    assert r.getheader("X-Backend") == "h1"
    assert b"h1" in body


def test_sim_curl_https_answers_with_x_backend(farm):
    b = backend(farm, "s1")
    cp = run(["curl", "-sk", "-D", "-", "--resolve",
              f"backend.test:{b['port']}:127.0.1.2",
              f"https://backend.test:{b['port']}/"])
    assert "x-backend: s1" in cp.stdout.lower()


# ---- echo -----------------------------------------------------------------


def test_sim_echo_reports_every_field(farm):
    c = connect(farm, "e1", sni="backend.test")
    c.request("GET", "/some/path?a=1&b=2", headers={
        "Host": "front.test", "X-Forwarded-For": "10.1.2.3",
        "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443",
        "X-Original-Host": "orig.test", "Cookie": "k=v"})
    r = c.getresponse()
    doc = json.loads(r.read())
    local = c.sock.getsockname()
    c.close()
    assert r.getheader("X-Backend") == "e1"
    assert doc["method"] == "GET"
    assert doc["path"] == "/some/path"
    assert doc["query"] == "a=1&b=2"
    h = doc["headers"]
    assert h["Host"] == "front.test"
    assert h["X-Forwarded-For"] == "10.1.2.3"
    assert h["X-Forwarded-Proto"] == "https"
    assert h["X-Forwarded-Port"] == "443"
    assert h["X-Original-Host"] == "orig.test"
    assert h["Cookie"] == "k=v"
    assert doc["sni"] == "backend.test"
    assert doc["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert doc["cipher"]
    assert doc["resumed"] is False
    assert doc["client"] == f"{local[0]}:{local[1]}"
    assert doc["client_address"] == local[0]
    assert doc["backend"] == "e1"
    assert doc["request_count"] == 1


def test_sim_echo_without_sni_says_null(farm):
    _, body = get(farm, "e1")
    assert json.loads(body)["sni"] is None


def test_sim_get_echo_path_echoes_on_any_backend(farm):
    r, body = get(farm, "h1", "/echo?x=y")
    doc = json.loads(body)
    assert doc["backend"] == "h1" and doc["query"] == "x=y"
    assert doc["tls_version"] is None


def test_sim_request_counter_counts(farm):
    c = connect(farm, "e1")
    for i in range(1, 4):
        c.request("GET", "/")
        doc = json.loads(c.getresponse().read())
        assert doc["request_count"] == i
    c.close()


# ---- SNI ------------------------------------------------------------------


def test_sim_sni_selects_the_certificate(farm, pki):
    c = connect(farm, "s1", sni="other.test")
    assert c.sock.getpeercert(binary_form=True) == der(pki, "other")
    c.close()


def test_sim_no_sni_gets_the_default_certificate(farm, pki):
    c = connect(farm, "s1")
    assert c.sock.getpeercert(binary_form=True) == der(pki, "ca-signed")
    c.close()


def test_sim_unknown_sni_gets_the_default_certificate(farm, pki):
    c = connect(farm, "s1", sni="nobody.test")
    assert c.sock.getpeercert(binary_form=True) == der(pki, "ca-signed")
    c.close()


def test_sim_presents_the_chain_in_file_order(farm, pki):
    b = backend(farm, "s1")
    cp = run(["openssl", "s_client", "-connect",
              f"127.0.1.2:{b['port']}", "-showcerts"], input="")
    subjects = [l for l in cp.stdout.splitlines()
                if l.strip().startswith("0 s:") or
                l.strip().startswith("1 s:")]
    assert "backend.test" in subjects[0] and "farm-int" in subjects[1]


def test_sim_wrong_order_chain_is_presented_as_written(tmp_path, pki):
    p = start_sim(tmp_path, [{"name": "w", "listen": "127.0.1.4:0",
                              "protocol": "https",
                              "tls": {"variant": "wrong-order"}}],
                  manifest=pki / "manifest.json")
    try:
        b = backend(p, "w")
        cp = run(["openssl", "s_client", "-connect",
                  f"127.0.1.4:{b['port']}", "-showcerts"], input="")
        first = [l for l in cp.stdout.splitlines()
                 if l.strip().startswith("0 s:")][0]
        assert "farm-int" in first
    finally:
        p.stop()


# ---- counters and the control API -----------------------------------------


def test_sim_counters_count_handshakes_sni_hosts_and_versions(farm):
    get(farm, "s1", sni="other.test", headers={"Host": "h.test"})
    get(farm, "s1")
    st, doc = control(farm, "GET", "/backends/s1")
    assert st == 200
    assert doc["requests"] == 2 and doc["handshakes"] == 2
    assert doc["sni_seen"] == {"other.test": 1, "": 1}
    assert doc["hosts_seen"]["h.test"] == 1
    assert sum(doc["tls_versions"].values()) == 2
    assert doc["last_request"]["backend"] == "s1"
    assert doc["up"] is True


def test_sim_resumed_session_is_counted(farm):
    ctx = client_ctx(max_tls=ssl.TLSVersion.TLSv1_2)
    c = connect(farm, "e1", ctx=ctx)
    c.request("GET", "/")
    c.getresponse().read()
    sess = c.sock.session
    c.close()
    c = connect(farm, "e1", ctx=ctx, session=sess)
    c.request("GET", "/")
    doc = json.loads(c.getresponse().read())
    c.close()
    assert doc["resumed"] is True
    _, st = control(farm, "GET", "/backends/e1")
    assert st["resumed"] == 1 and st["handshakes"] == 2


def test_sim_reset_zeroes_counters(farm):
    get(farm, "h1")
    assert ctl(farm, "reset").returncode == 0
    _, doc = control(farm, "GET", "/backends/h1")
    assert doc["requests"] == 0 and doc["hosts_seen"] == {}


def test_sim_ctl_list_prints_table_and_json(farm):
    get(farm, "h1")
    out = ctl(farm, "list").stdout
    assert "h1" in out and "127.0.1.1:" in out
    doc = json.loads(ctl(farm, "list", "-o", "json").stdout)
    assert [b["name"] for b in doc["backends"]] == ["h1", "s1", "e1"]
    assert doc["backends"][0]["requests"] == 1


def test_sim_control_unknown_backend_is_404_with_error(farm):
    st, doc = control(farm, "GET", "/backends/nope")
    assert st == 404 and "nope" in doc["error"]
    cp = ctl(farm, "show", "nope", check=False)
    assert cp.returncode == 1 and "nope" in cp.stderr


def test_sim_control_bad_behaviour_is_400_naming_the_key(farm):
    st, doc = control(farm, "PUT", "/backends/h1/behaviour",
                      {"status": "x"})
    assert st == 400 and "status" in doc["error"]


# ---- behaviours -----------------------------------------------------------


def test_sim_behaviour_status_headers_body(farm):
    ctl(farm, "behaviour", "h1", json.dumps(
        {"status": 503, "headers": {"X-Test": "yes"}, "body": "sorry"}))
    r, body = get(farm, "h1")
    assert r.status == 503 and r.getheader("X-Test") == "yes"
    assert body == b"sorry"


def test_sim_behaviour_body_bytes(farm):
    behave(farm, "h1", {"body_bytes": 100000})
    r, body = get(farm, "h1")
    assert int(r.getheader("Content-Length")) == 100000
    assert len(body) == 100000


def test_sim_behaviour_chunked(farm):
    behave(farm, "h1", {"chunked": True, "body_bytes": 40000})
    out = raw(farm, "h1", b"GET / HTTP/1.1\r\nHost: x\r\n"
              b"Connection: close\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in head
    assert body.endswith(b"0\r\n\r\n")
    r, data = get(farm, "h1")
    assert len(data) == 40000


def test_sim_behaviour_delay_before_headers(farm):
    behave(farm, "h1", {"delay_ms": 300})
    t0 = time.monotonic()
    r, _ = get(farm, "h1")
    assert r.status == 200 and time.monotonic() - t0 >= 0.3


def test_sim_behaviour_slow_body(farm):
    behave(farm, "h1", {"body": "abcdef", "slow_body": {
        "bytes": 2, "interval_ms": 100}})
    t0 = time.monotonic()
    r, body = get(farm, "h1")
    assert body == b"abcdef" and time.monotonic() - t0 >= 0.2


def test_sim_behaviour_reset_sends_rst(farm):
    behave(farm, "h1", {"reset": True})
    with pytest.raises(ConnectionResetError):
        raw(farm, "h1", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")


def test_sim_behaviour_close_after_headers(farm):
    behave(farm, "h1", {"close_after_headers": True, "body": "hello"})
    out = raw(farm, "h1", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"Content-Length: 5" in head and body == b""


def test_sim_behaviour_truncate_body(farm):
    behave(farm, "h1", {"truncate_body": True, "body_bytes": 1000})
    out = raw(farm, "h1", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = out.partition(b"\r\n\r\n")
    assert b"Content-Length: 1000" in head and len(body) == 500


def test_sim_behaviour_stall_handshake(farm):
    behave(farm, "s1", {"stall_handshake": True})
    b = backend(farm, "s1")
    s = socket.create_connection((b["address"], b["port"]), timeout=0.5)
    with pytest.raises((socket.timeout, TimeoutError)):
        client_ctx().wrap_socket(s)
    s.close()
    _, doc = control(farm, "GET", "/backends/s1")
    assert doc["handshakes"] == 0


def test_sim_behaviour_never_read(farm):
    behave(farm, "h1", {"never_read": True})
    b = backend(farm, "h1")
    s = socket.create_connection((b["address"], b["port"]), timeout=0.5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises((socket.timeout, TimeoutError)):
        s.recv(100)
    s.close()
    _, doc = control(farm, "GET", "/backends/h1")
    assert doc["requests"] == 0


def test_sim_behaviour_health_fails_while_traffic_works(farm):
    behave(farm, "h1", {"health": {"path": "/health", "status": 503,
                                   "body": "unwell"}})
    r, body = get(farm, "h1", "/health")
    assert r.status == 503 and body == b"unwell"
    r, _ = get(farm, "h1", "/")
    assert r.status == 200


def test_sim_behaviour_health_passes_while_traffic_fails(farm):
    behave(farm, "h1", {"status": 500, "health": {"path": "/hc",
                                                  "status": 200}})
    assert get(farm, "h1", "/hc")[0].status == 200
    assert get(farm, "h1", "/")[0].status == 500


def test_sim_behaviour_down_refuses_connections(farm):
    behave(farm, "h1", {"down": True})
    farm.wait_log("backend h1 down")
    with pytest.raises(ConnectionRefusedError):
        get(farm, "h1")


def test_sim_head_request_has_no_body(farm):
    c = connect(farm, "h1")
    c.request("HEAD", "/")
    r = c.getresponse()
    assert r.status == 200 and r.read() == b""
    c.request("GET", "/")  # the connection is still in sync
    assert c.getresponse().read() == b"backend h1\n"
    c.close()


def test_sim_bad_request_gets_400(farm):
    out = raw(farm, "h1", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400")


# ---- down/up and rotation ---------------------------------------------------


def test_sim_down_and_up_keep_the_port(farm):
    ctl(farm, "down", "h1")
    farm.wait_log("backend h1 down")
    with pytest.raises(ConnectionRefusedError):
        get(farm, "h1")
    _, doc = control(farm, "GET", "/backends/h1")
    assert doc["up"] is False
    ctl(farm, "up", "h1")
    farm.wait_log("backend h1 up")
    r, _ = get(farm, "h1")
    assert r.status == 200


def test_sim_rotation_new_handshake_new_cert_old_connection_lives(farm, pki):
    old = connect(farm, "s1", sni="backend.test")
    old.request("GET", "/")
    assert old.getresponse().read() == b"backend s1\n"
    ctl(farm, "tls", "s1", "--variant", "rotated")
    farm.wait_log("backend s1 certificate rotated")
    new = connect(farm, "s1", sni="backend.test")
    assert new.sock.getpeercert(binary_form=True) == der(pki, "rotated")
    new.close()
    old.request("GET", "/")
    assert old.getresponse().read() == b"backend s1\n"
    assert old.sock.getpeercert(binary_form=True) == der(pki, "ca-signed")
    old.close()


def test_sim_rotation_of_one_sni_name_with_files(farm, pki):
    ctl(farm, "tls", "s1", "--cert", str(pki / "rotated.pem"), "--key",
        str(pki / "rotated.key"), "--sni", "other.test")
    c = connect(farm, "s1", sni="other.test")
    assert c.sock.getpeercert(binary_form=True) == der(pki, "rotated")
    c.close()
    c = connect(farm, "s1")
    assert c.sock.getpeercert(binary_form=True) == der(pki, "ca-signed")
    c.close()


def test_sim_rotation_with_mismatched_key_is_refused(farm, pki):
    cp = ctl(farm, "tls", "s1", "--cert", str(pki / "rotated.pem"),
             "--key", str(pki / "other.key"), check=False)
    assert cp.returncode == 1
    assert "rotated.pem" in cp.stderr and "other.key" in cp.stderr


# ---- bad input --------------------------------------------------------------


def run_bad_farm(tmp_path, backends, manifest=None):
    farm = {"backends": backends}
    if manifest:
        farm["manifest"] = str(manifest)
    f = tmp_path / "bad.json"
    f.write_text(json.dumps(farm))
    cp = run([binary("agw-sim"), "--farm", str(f)], check=False, timeout=20)
    assert cp.returncode == 1
    return cp.stderr


def test_sim_mismatched_cert_and_key_fail_at_start_naming_both(tmp_path,
                                                                pki):
    err = run_bad_farm(tmp_path, [{
        "name": "b1", "listen": "127.0.1.1:0", "protocol": "https",
        "tls": {"cert": str(pki / "ca-signed.pem"),
                "key": str(pki / "other.key")}}])
    assert "ca-signed.pem" in err and "other.key" in err and "b1" in err


def test_sim_address_in_use_names_the_address(tmp_path):
    s = socket.socket()
    s.bind(("127.0.1.9", 0))
    s.listen()
    port = s.getsockname()[1]
    try:
        err = run_bad_farm(tmp_path, [{"name": "b1",
                                       "listen": f"127.0.1.9:{port}"}])
    finally:
        s.close()
    assert f"127.0.1.9:{port}" in err and "in use" in err


def test_sim_spec_error_names_backend_and_json_path(tmp_path):
    err = run_bad_farm(tmp_path, [
        {"name": "ok", "listen": "127.0.1.1:0"},
        {"name": "b2", "listen": "127.0.1.2:0",
         "behaviour": {"slow_body": {"bytes": 0}}}])
    assert 'backend "b2"' in err
    assert "backends[1].behaviour.slow_body.bytes" in err


def test_sim_sigterm_exits_zero_and_logs(tmp_path):
    p = start_sim(tmp_path, [{"name": "b1", "listen": "127.0.1.1:0"}])
    assert p.stop() == 0
    assert "farm stopped" in p.log_text()


def test_sim_runs_300_backends_on_their_own_addresses(tmp_path):
    # How fast they start is measured by tests/bench/sim.sh, not here.
    n = 300
    backends = [{"name": f"b{i}", "listen": f"127.0.{2 + i // 250}."
                 f"{1 + i % 250}:0"} for i in range(n)]
    p = start_sim(tmp_path, backends)
    try:
        assert len(p.ready_json()["backends"]) == n
        assert get(p, f"b{n - 1}")[0].getheader("X-Backend") == f"b{n - 1}"
    finally:
        p.stop()


def test_sim_behaviour_server_header_replaces_the_default(farm):
    behave(farm, "h1", {"headers": {"Server": "Microsoft-IIS/10.0"}})
    r, _ = get(farm, "h1")
    assert r.getheader("Server") == "Microsoft-IIS/10.0"
    assert len([v for k, v in r.getheaders() if k == "Server"]) == 1


def test_sim_behaviour_framing_headers_are_refused(farm):
    st, doc = control(farm, "PUT", "/backends/h1/behaviour",
                      {"headers": {"Content-Length": "3"}})
    assert st == 400 and "Content-Length" in doc["error"]


@pytest.mark.parametrize("name", ["basic-http.json", "faults.json"])
def test_sim_fixture_farms_start_and_stop(tmp_path, name):
    src = Path(__file__).resolve().parents[2] / "fixtures" / "farms" / name
    p = Proc([binary("agw-sim"), "--farm", str(src)], tmp_path, "fx")
    p.start()
    try:
        doc = p.ready_json()
        assert len(doc["backends"]) == len(
            json.loads(src.read_text())["backends"])
    finally:
        p.stop()


def test_sim_pipelined_requests_are_answered_in_order(farm):
    reqs = b"".join(b"GET /echo?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
                    for i in range(50))
    out = raw(farm, "h1", reqs + b"GET /last HTTP/1.1\r\nHost: x\r\n"
              b"Connection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 51
    for i in (0, 25, 49):
        assert b'"query":"n=%d"' % i in out


def test_sim_tls_version_limits_apply(tmp_path, pki):
    p = start_sim(tmp_path, [
        {"name": "t12", "listen": "127.0.1.5:0", "tls": {"variant":
         "ca-signed"}, "max_tls": "1.2", "behaviour": {"echo": True}},
        {"name": "t13", "listen": "127.0.1.6:0", "tls": {"variant":
         "ca-signed"}, "min_tls": "1.3"}],
        manifest=pki / "manifest.json")
    try:
        _, body = get(p, "t12")
        assert json.loads(body)["tls_version"] == "TLSv1.2"
        _, doc = control(p, "GET", "/backends/t12")
        assert doc["tls_versions"] == {"TLSv1.2": 1}
        with pytest.raises(ssl.SSLError):
            connect(p, "t13", ctx=client_ctx(max_tls=ssl.TLSVersion.TLSv1_2))
        deadline = time.monotonic() + 10
        while control(p, "GET", "/backends/t13")[1]["handshake_errors"] < 1:
            assert time.monotonic() < deadline
        assert control(p, "GET", "/backends/t13")[1]["handshakes"] == 0
    finally:
        p.stop()


def test_sim_client_closing_without_close_notify_is_no_handshake_error(
        tmp_path, pki):
    """OpenSSL 3 takes an EOF without close_notify as a fatal error; that
    comes after a completed handshake and must not count as a failed one."""
    p = start_sim(tmp_path, [{"name": "t", "listen": "127.0.1.5:0",
                              "tls": {"variant": "ca-signed"}}],
                  manifest=pki / "manifest.json",
                  args=["--log-level", "debug"])
    try:
        c = connect(p, "t", sni="backend.test")
        c.request("GET", "/")
        assert c.getresponse().read() == b"backend t\n"
        local = "%s:%d" % c.sock.getsockname()[:2]
        c.sock.close()  # no close_notify
        p.wait_log(f"backend t: connection from {local} closed")
        _, doc = control(p, "GET", "/backends/t")
        assert doc["handshakes"] == 1 and doc["handshake_errors"] == 0
    finally:
        p.stop()


def test_sim_backend_down_at_start_keeps_a_port_for_up(tmp_path):
    p = start_sim(tmp_path, [{"name": "d", "listen": "127.0.1.7:0",
                              "behaviour": {"down": True}}])
    try:
        assert backend(p, "d")["port"] > 0
        with pytest.raises(ConnectionRefusedError):
            get(p, "d")
        ctl(p, "up", "d")
        assert get(p, "d")[0].status == 200
    finally:
        p.stop()


def test_sim_ctl_bad_behaviour_json_exits_one(farm):
    cp = ctl(farm, "behaviour", "h1", "{not json", check=False)
    assert cp.returncode == 1 and "JSON" in cp.stderr


def test_sim_sigterm_with_busy_connections_exits_zero(tmp_path, pki):
    p = start_sim(tmp_path, [
        {"name": "slow", "listen": "127.0.1.8:0",
         "behaviour": {"delay_ms": 60000}},
        {"name": "stall", "listen": "127.0.1.8:0", "tls": {"variant":
         "ca-signed"}, "behaviour": {"stall_handshake": True}}],
        manifest=pki / "manifest.json")
    socks = []
    for name in ("slow", "stall"):
        b = backend(p, name)
        s = socket.create_connection((b["address"], b["port"]), timeout=5)
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    # the delayed request is in once the backend counted it
    deadline = time.monotonic() + 10
    while control(p, "GET", "/backends/slow")[1]["requests"] < 1:
        assert time.monotonic() < deadline
    assert p.stop() == 0
    for s in socks:
        s.close()


def test_sim_echo_reports_the_request_body(farm):
    c = connect(farm, "e1")
    c.request("POST", "/upload", body=b"hello body",
              headers={"Content-Type": "text/plain"})
    doc = json.loads(c.getresponse().read())
    assert doc["method"] == "POST"
    assert doc["body_bytes"] == 10 and doc["body"] == "hello body"
    c.request("GET", "/")  # the next request starts clean
    doc = json.loads(c.getresponse().read())
    assert doc["body_bytes"] == 0 and doc["body"] == ""
    c.close()


def test_sim_echo_counts_a_chunked_request_body(farm):
    out = raw(farm, "h1", b"POST /echo HTTP/1.1\r\nHost: x\r\n"
              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
              b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    doc = json.loads(out.partition(b"\r\n\r\n")[2])
    assert doc["body_bytes"] == 11 and doc["body"] == "hello world"


def test_sim_wildcard_sni_key_matches_one_label(tmp_path, pki):
    p = start_sim(tmp_path, [{"name": "w", "listen": "127.0.1.10:0",
                              "tls": {"variant": "ca-signed"},
                              "sni": {"*.other.test": {"variant": "other"},
                                      "x.other.test": {"variant":
                                                       "rotated"}}}],
                  manifest=pki / "manifest.json")
    try:
        def cert(sni):
            c = connect(p, "w", sni=sni)
            d = c.sock.getpeercert(binary_form=True)
            c.close()
            return d
        assert cert("a.other.test") == der(pki, "other")
        assert cert("x.other.test") == der(pki, "rotated")
        assert cert("a.b.other.test") == der(pki, "ca-signed")
        assert cert("other.test") == der(pki, "ca-signed")
    finally:
        p.stop()


def test_sim_presents_weak_keys_on_purpose(tmp_path):
    """The farm serves a 1024-bit RSA key (the weak-rsa1024 variant): the
    server side must not refuse it by OpenSSL's default security level, so
    the gateway gets to judge it."""
    _openssl("req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout",
             "weak.key", "-subj", "/CN=backend.test", "-days", "30",
             "-out", "weak.pem", cwd=tmp_path)
    p = start_sim(tmp_path, [{"name": "w", "listen": "127.0.1.5:0",
                              "protocol": "https",
                              "tls": {"cert": str(tmp_path / "weak.pem"),
                                      "key": str(tmp_path / "weak.key")}}])
    try:
        b = backend(p, "w")
        cp = run(["openssl", "s_client", "-connect",
                  f"127.0.1.5:{b['port']}", "-cipher", "DEFAULT@SECLEVEL=0"],
                 input="", check=False)
        assert "Server public key is 1024 bit" in cp.stdout, cp.stdout
    finally:
        p.stop()


# ---- the ctl command line ------------------------------------------------

CTL_VERBS = ["list", "show", "behaviour", "tls", "down", "up", "reset"]


def sim_cmd(*args, check=False):
    return run([binary("agw-sim"), *args], check=check)


@pytest.fixture
def quiet_control():
    """A loopback listener standing in for the control API; the test fails
    if anything connected to it (usage errors must come before traffic)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield "127.0.0.1:%d" % s.getsockname()[1]
    s.setblocking(False)
    try:
        with pytest.raises(BlockingIOError):
            s.accept()
    finally:
        s.close()


@pytest.mark.parametrize("verb,words", [
    ("list", ["[-o json]", "SNI-SEEN", "GET /backends"]),
    ("show", ["show NAME", "GET /backends/NAME"]),
    ("behaviour", ["behaviour NAME JSON", "PUT /backends/NAME/behaviour"]),
    ("tls", ["tls NAME", "--variant V", "--cert C", "--chain X",
             "--sni HOST", "PUT /backends/NAME/tls"]),
    ("down", ["down NAME", "POST /backends/NAME/down"]),
    ("up", ["up NAME", "POST /backends/NAME/up"]),
    ("reset", ["POST /reset"]),
])
def test_sim_ctl_each_verb_has_its_own_help(verb, words):
    assert verb in CTL_VERBS
    cp = sim_cmd("ctl", verb, "--help")
    assert cp.returncode == 0 and cp.stderr == ""
    out = cp.stdout
    assert out.startswith(f"usage: agw-sim ctl --control ADDR:PORT {verb}")
    for w in words:
        assert w in out, w
    assert f"example:\n  agw-sim ctl --control 127.0.0.1:9900 {verb}" in out
    assert out != sim_cmd("ctl", "--help").stdout


def test_sim_ctl_help_lists_every_verb():
    for args in (["ctl", "--help"], ["ctl", "-h"], ["--help"]):
        cp = sim_cmd(*args)
        assert cp.returncode == 0 and cp.stderr == ""
        listed = re.findall(r"^  (\S+) ", cp.stdout, re.M)
        assert listed == CTL_VERBS, args
        assert "agw-sim ctl VERB --help" in cp.stdout


@pytest.mark.parametrize("args", [
    ["bogus"], ["bogus", "b1", "x", "y"], ["bogus", "--variant"],
    ["bogus", "--help"], ["-o", "yaml", "bogus"]])
def test_sim_ctl_unknown_verb_is_named_before_any_check(quiet_control,
                                                        args):
    cp = sim_cmd("ctl", "--control", quiet_control, *args)
    assert cp.returncode == 2 and cp.stdout == ""
    assert cp.stderr == ("agw-sim ctl: unknown verb 'bogus' (verbs: "
                         + ", ".join(CTL_VERBS) + ")\n")


@pytest.mark.parametrize("args,message", [
    (["show"], "ctl show: NAME needed; see agw-sim ctl show --help"),
    (["behaviour", "h1"], "ctl behaviour: JSON needed"),
    (["list", "h1"], "ctl list: extra argument h1"),
    (["reset", "now"], "ctl reset: extra argument now"),
    (["list", "--variant", "v"], "--variant is an option of tls only"),
    (["-o", "yaml", "list"], "-o yaml: only -o json is known"),
    (["list", "--sni"], "ctl list: --sni needs HOST"),
    (["list", "--bogus"], "ctl list: unknown option --bogus"),
    (["show", "a/b"], "backend names have no '/' or blanks"),
    (["tls", "s1"], "a certificate needed: --variant V, or --cert C"),
    (["tls", "s1", "--variant", "v", "--cert", "c"], "exclude each other"),
    (["tls", "s1", "--cert", "c"], "--key K needed with --cert"),
    (["tls", "s1", "--manifest", "m", "--cert", "c", "--key", "k"],
     "--manifest M goes with --variant V"),
    (["tls", "s1", "--variant", "a", "--variant", "b"],
     "--variant given twice"),
])
def test_sim_ctl_usage_errors_name_the_argument(quiet_control, args,
                                                message):
    cp = sim_cmd("ctl", "--control", quiet_control, *args)
    assert cp.returncode == 2 and cp.stdout == ""
    assert message in cp.stderr
    assert cp.stderr.rstrip().endswith("--help")


def test_sim_ctl_without_control_or_verb_says_what_is_needed():
    cp = sim_cmd("ctl", "list")
    assert cp.returncode == 2
    assert "--control ADDR:PORT needed" in cp.stderr
    assert "ready file" in cp.stderr
    cp = sim_cmd("ctl", "--control", "127.0.0.1:1")
    assert cp.returncode == 2
    assert "a verb needed (verbs: " + ", ".join(CTL_VERBS) in cp.stderr
    cp = sim_cmd("ctl", "list", "--control")
    assert cp.returncode == 2 and "--control needs ADDR:PORT" in cp.stderr


def test_sim_ctl_unreachable_control_says_where_to_look():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    addr = "127.0.0.1:%d" % s.getsockname()[1]
    s.close()  # nobody listens there now
    cp = sim_cmd("ctl", "--control", addr, "list")
    assert cp.returncode == 1
    assert f"cannot reach the control API at {addr}" in cp.stderr
    assert "ready file" in cp.stderr


@pytest.mark.parametrize("args,message", [
    (["--farm"], "--farm needs FILE"),
    (["--farm", "f.json", "--ready-file"], "--ready-file needs FILE"),
    (["--farm", "a.json", "--farm", "b.json"], "--farm given twice"),
    (["farm.json"], "unknown argument farm.json (a farm file goes after "
     "--farm)"),
    (["--log-level", "loud", "--farm", "f.json"],
     "--log-level loud: unknown level (debug, info, warn or error)"),
    ([], "--farm FILE needed"),
])
def test_sim_usage_errors_name_the_argument(args, message):
    cp = sim_cmd(*args)
    assert cp.returncode == 2 and message in cp.stderr


# Every counter of BACKEND and its column in the ctl list table.
LIST_COUNTERS = {"requests": "REQUESTS", "handshakes": "HANDSHAKES",
                 "resumed": "RESUMED", "handshake_errors": "HS-ERRORS",
                 "sni_seen": "SNI-SEEN", "hosts_seen": "HOSTS-SEEN",
                 "tls_versions": "TLS-VERSIONS"}


def table(text):
    """The ctl list table as {name: {column: cell}}, after checking that
    every cell lines up with its heading (left, or right for numbers)."""
    lines = text.splitlines()
    heads = [(m.group(), m.start(), m.end())
             for m in re.finditer(r"\S+", lines[0])]
    rows = {}
    for line in lines[1:]:
        cells = [(m.group(), m.start(), m.end())
                 for m in re.finditer(r"\S+", line)]
        assert len(cells) == len(heads), line
        for (h, hs, he), (c, cs, ce) in zip(heads, cells):
            assert cs == hs or ce == he, (h, c, line)
        rows[cells[0][0]] = {h[0]: c[0] for h, c in zip(heads, cells)}
    return rows


def test_sim_ctl_list_table_shows_every_counter(farm):
    get(farm, "s1", sni="other.test", headers={"Host": "h.test"})
    get(farm, "s1")
    rows = table(ctl(farm, "list").stdout)
    assert list(rows) == ["h1", "s1", "e1"]
    s1 = rows["s1"]
    assert s1["REQUESTS"] == "2" and s1["HANDSHAKES"] == "2"
    assert s1["RESUMED"] == "0" and s1["HS-ERRORS"] == "0"
    assert s1["SNI-SEEN"] == "other.test=1,(none)=1"
    assert "h.test=1" in s1["HOSTS-SEEN"].split(",")
    assert re.fullmatch(r"TLSv1\.[23]=2", s1["TLS-VERSIONS"])
    assert rows["h1"]["SNI-SEEN"] == "-" and rows["h1"]["UP"] == "yes"
    # the table keeps up with the API: every counter it reports has a column
    _, doc = control(farm, "GET", "/backends/s1")
    counters = {k for k, v in doc.items()
                if isinstance(v, (int, dict)) and not isinstance(v, bool)
                and k not in ("port", "behaviour", "last_request")}
    assert counters == set(LIST_COUNTERS)
    for key, head in LIST_COUNTERS.items():
        assert head in s1, key
