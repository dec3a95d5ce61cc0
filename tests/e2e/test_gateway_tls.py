"""agw-gateway Https frontends: sslCertificates from a base64 PFX and its
password, certificate choice by SNI on multi-site listeners,
requireServerNameIndication; and an Https upstream verified against a v2
trusted root (a wrong root gives the 502 page with the reason)."""
import base64
import http.client
import json
import socket
import ssl
import subprocess

import pytest

from agwtest import Gateway, backend_group, gateway_config


def mint(tmp_path, cn, ca=None, is_ca=False):
    """A key and certificate for cn (signed by ca=(cert, key), else
    self-signed) with the openssl command; returns (cert, key) paths."""
    key, crt = tmp_path / f"{cn}.key", tmp_path / f"{cn}.pem"
    ext = tmp_path / f"{cn}.ext"
    ext.write_text(f"subjectAltName=DNS:{cn}\nbasicConstraints=critical,"
                   f"CA:{'TRUE' if is_ca else 'FALSE'}\n"
                   + ("keyUsage=critical,keyCertSign,cRLSign\n" if is_ca
                      else ""))
    if ca is None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", crt, "-days", "2",
                        "-subj", f"/CN={cn}", "-extensions", "v3",
                        "-config", "/dev/stdin"],
                       input=f"[req]\ndistinguished_name=dn\n[dn]\n[v3]\n"
                             f"{ext.read_text()}",
                       text=True, check=True, capture_output=True)
        return crt, key
    csr = tmp_path / f"{cn}.csr"
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", csr, "-subj", f"/CN={cn}"],
                   check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0],
                    "-CAkey", ca[1], "-CAcreateserial", "-days", "1",
                    "-extfile", ext, "-out", crt],
                   check=True, capture_output=True)
    return crt, key


def pfx_b64(tmp_path, crt, key, password="secret"):
    out = tmp_path / (crt.stem + ".pfx")
    subprocess.run(["openssl", "pkcs12", "-export", "-in", crt, "-inkey",
                    key, "-out", out, "-passout", f"pass:{password}"],
                   check=True, capture_output=True)
    return base64.b64encode(out.read_bytes()).decode()


def der_b64(crt):
    return base64.b64encode(
        ssl.PEM_cert_to_DER_cert(crt.read_text())).decode()


@pytest.fixture
def env(tmp_path):
    made = []
    yield made
    for m in made:
        if isinstance(m, Gateway):
            m.stop()
        else:
            m.close()


def https_get(port, sni, cafile=None, path="/"):
    """(status line, headers+body bytes, peer certificate CN)."""
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    if cafile is None:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=sni) as t:
            der = t.getpeercert(binary_form=True)
            host = sni or "127.0.0.1"
            t.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n"
                      f"Connection: close\r\n\r\n".encode())
            out = b""
            while True:
                d = t.recv(65536)
                if not d:
                    break
                out += d
    pem = ssl.DER_cert_to_PEM_cert(der)
    return out, pem


def https_frontend(tmp_path, env, names, require_sni=False):
    (b,) = backend_group(1)
    env.append(b)
    certs, listeners, rules = [], [], []
    for i, name in enumerate(names):
        crt, key = mint(tmp_path, name)
        certs.append({"name": f"c{i}", "data": pfx_b64(tmp_path, crt, key),
                      "password": "secret"})
        listeners.append({"name": f"l{i}", "frontendIPConfiguration": "fip",
                          "frontendPort": "port443", "protocol": "Https",
                          "sslCertificate": f"c{i}", "hostName": name,
                          "requireServerNameIndication": require_sni})
        rules.append({"name": f"r{i}", "ruleType": "Basic",
                      "httpListener": f"l{i}", "backendAddressPool": "pool1",
                      "backendHttpSettings": "s1"})
    cfg = gateway_config(members=[b.host], backend_port=b.port,
                         ports=[{"name": "port443", "port": 443}],
                         listeners=listeners, rules=rules,
                         sslCertificates=certs)
    g = Gateway(tmp_path, cfg)
    env.append(g)
    g.start()
    return g, b


def test_gateway_https_listener_from_pfx(tmp_path, env):
    g, b = https_frontend(tmp_path, env, ["www.contoso.test"])
    out, _ = https_get(g.port("port443"), "www.contoso.test",
                       cafile=tmp_path / "www.contoso.test.pem")
    assert out.startswith(b"HTTP/1.1 200 OK")
    rec = json.loads(out.split(b"\r\n\r\n", 1)[1])
    h = dict(rec["headers"])
    assert h["X-Forwarded-Proto"] == "https"
    assert h["X-Forwarded-Port"] == "443"


def test_gateway_https_sni_picks_the_listener_certificate(tmp_path, env):
    g, b = https_frontend(tmp_path, env, ["a.contoso.test",
                                          "b.contoso.test"])
    for name in ["a.contoso.test", "b.contoso.test"]:
        out, pem = https_get(g.port("port443"), name,
                             cafile=tmp_path / f"{name}.pem")
        assert out.startswith(b"HTTP/1.1 200 OK")
        assert pem.strip() == (tmp_path / f"{name}.pem").read_text().strip()


def test_gateway_https_require_sni_refuses_no_sni(tmp_path, env):
    g, b = https_frontend(tmp_path, env, ["www.contoso.test"],
                          require_sni=True)
    with pytest.raises((ssl.SSLError, ConnectionError)):
        https_get(g.port("port443"), None)
    out, _ = https_get(g.port("port443"), "www.contoso.test")
    assert out.startswith(b"HTTP/1.1 200 OK")


def test_gateway_reload_switches_a_port_between_http_and_https(tmp_path,
                                                               env):
    g, b = https_frontend(tmp_path, env, ["www.contoso.test"])
    port = g.port("port443")
    https_cfg = json.loads(g.config_path.read_text())
    plain = json.loads(json.dumps(https_cfg))
    lp = plain["properties"]["httpListeners"][0]["properties"]
    lp["protocol"] = "Http"
    del lp["sslCertificate"], lp["requireServerNameIndication"]
    plain["properties"]["sslCertificates"] = []
    g.write_config(plain)
    st, body = g.admin("/reload", "POST")
    assert st == 200, body
    # The same socket, now plain; the listener list says so.
    assert g.reread_ready()["listeners"][0]["protocol"] == "Http"
    kept = socket.create_connection(("127.0.0.1", port), timeout=10)
    req = b"GET / HTTP/1.1\r\nHost: www.contoso.test\r\n\r\n"
    kept.sendall(req)
    r = http.client.HTTPResponse(kept)
    r.begin()
    assert r.status == 200 and not r.will_close
    r.read()
    g.write_config(https_cfg)
    assert g.admin("/reload", "POST")[0] == 200
    assert g.reread_ready()["listeners"][0]["port"] == port
    # A plain connection kept alive across the switch is not served as if
    # it were Https: it is closed.
    kept.sendall(req)
    assert kept.recv(65536) == b""
    kept.close()
    out, _ = https_get(port, "www.contoso.test",
                       cafile=tmp_path / "www.contoso.test.pem")
    assert out.startswith(b"HTTP/1.1 200 OK")


def https_backend_gateway(tmp_path, env, trusted):
    root = mint(tmp_path, "root.test", is_ca=True)
    leaf = mint(tmp_path, "backend.test", ca=root)
    (b,) = backend_group(1, tls=(str(leaf[0]), str(leaf[1])))
    env.append(b)
    other = mint(tmp_path, "other-root.test", is_ca=True)
    anchor = root if trusted else other
    cfg = gateway_config(
        members=[b.host],
        settings=[{"name": "s1", "port": b.port, "protocol": "Https",
                   "cookieBasedAffinity": "Disabled", "requestTimeout": 5,
                   "hostName": "backend.test",
                   "trustedRootCertificates": ["root1"]}],
        trustedRootCertificates=[{"name": "root1",
                                  "data": der_b64(anchor[0])}])
    g = Gateway(tmp_path, cfg, ["--debug-headers"])
    env.append(g)
    g.start()
    return g, b


def test_gateway_https_upstream_verified_by_trusted_root(tmp_path, env):
    import http.client
    g, b = https_backend_gateway(tmp_path, env, trusted=True)
    c = http.client.HTTPConnection("127.0.0.1", g.port(), timeout=10)
    c.request("GET", "/")
    r = c.getresponse()
    body = r.read()
    assert r.status == 200, body
    assert dict(json.loads(body)["headers"])["Host"] == "backend.test"


def test_gateway_https_upstream_wrong_root_is_502(tmp_path, env):
    import http.client
    g, b = https_backend_gateway(tmp_path, env, trusted=False)
    c = http.client.HTTPConnection("127.0.0.1", g.port(), timeout=10)
    c.request("GET", "/live")
    r = c.getresponse()
    r.read()
    assert r.status == 502
    assert not any(q["path"] == "/live" for q in b.requests)
