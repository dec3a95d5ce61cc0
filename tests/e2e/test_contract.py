"""Black-box checks of the process contracts (shared/design/architecture.md)
and the spec's texts (shared/spec/backend-tls.md), as an outside tester
would run them: only flags, files, endpoints and texts the documents name."""
import json
import os
import socket
import time

import pytest

from agwtest import (ROOT, Backend, Gateway, binary, gateway_config,
                     http_raw, run)

CONNECT_TEXT = (
    "Application Gateway could not connect to the backend. Check that the "
    "backend responds on the port used for the probe. Also check whether "
    "any NSG/UDR/Firewall is blocking access to the Ip and port of this "
    "backend.")


def closed_port(host):
    """A port on host that nothing listens on (bound, then released)."""
    s = socket.socket()
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def health_servers(body):
    doc = json.loads(body)
    return [srv for pool in doc["backendAddressPools"]
            for hs in pool["backendHttpSettingsCollection"]
            for srv in hs["servers"]]


def wait_health(get, want_log, timeout=15.0):
    """Poll the backend-health JSON until every server shows want_log."""
    deadline = time.monotonic() + timeout
    servers = None
    while time.monotonic() < deadline:
        status, body = get()
        assert status == 200
        servers = health_servers(body)
        if servers and all(s["healthProbeLog"] == want_log
                           for s in servers):
            return servers
        time.sleep(0.05)
    raise AssertionError(f"healthProbeLog never {want_log!r}: {servers}")


@pytest.mark.parametrize("name", sorted(
    p.name for p in (ROOT / "fixtures" / "gateways").glob("*.json")))
def test_contract_check_prints_exactly_configuration_ok(name):
    cp = run([binary("agw-gateway"), "--config",
              str(ROOT / "fixtures" / "gateways" / name), "--check"])
    assert cp.stdout == "configuration OK\n"


def test_contract_check_lists_every_error_and_exits_1(tmp_path):
    cfg = gateway_config("v2", settings=[
        {"name": "s1", "port": 80, "protocol": "Http",
         "trustedRootCertificates": ["r1"]},
        {"name": "s2", "port": 443, "protocol": "Https", "probe": "nope"}],
        trustedRootCertificates=[{"name": "r1", "data": "AAAA"}])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    cp = run([binary("agw-gateway"), "--config", str(path), "--check"],
             check=False)
    assert cp.returncode == 1
    out = cp.stdout + cp.stderr
    assert "configuration OK" not in out
    assert "ApplicationGatewayBackendHttpSettingsCannotHaveTrustedRoot" \
        "Certificate" in out
    assert "backendHttpSettingsCollection[1]" in out and "nope" in out


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_contract_refused_https_probe_has_connect_text(tmp_path, sku):
    """A refused connect on an Https setting is the spec's connect-failure
    text, not a TLS handshake failure."""
    port = closed_port("127.0.1.7")
    cfg = gateway_config(sku, members=("127.0.1.7",), settings=[
        {"name": "s1", "port": port, "protocol": "Https",
         "requestTimeout": 5}])
    with Gateway(tmp_path, cfg) as g:
        servers = wait_health(lambda: g.admin("/backendhealth"),
                              CONNECT_TEXT)
        assert servers[0]["health"] == "Unhealthy"
        assert servers[0]["address"] == "127.0.1.7"


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_contract_refused_https_live_traffic_reason_is_connect(tmp_path,
                                                                sku):
    """Live traffic to a refused Https member (kept in rotation by
    minServers) is a 502 whose reason is connect.failed, not a TLS
    handshake failure: the access log, /metrics and X-AGW-Reason agree with
    the probe's text."""
    port = closed_port("127.0.1.8")
    cfg = gateway_config(sku, members=("127.0.1.8",), settings=[
        {"name": "s1", "port": port, "protocol": "Https",
         "requestTimeout": 5, "probe": "p1"}],
        probes=[{"name": "p1", "protocol": "Https", "host": "backend.test",
                 "path": "/", "interval": 30, "timeout": 30,
                 "unhealthyThreshold": 3, "minServers": 1}])
    with Gateway(tmp_path, cfg, extra_args=["--debug-headers"]) as g:
        out = http_raw(g.port(), b"GET / HTTP/1.1\r\nHost: a\r\n"
                       b"Connection: close\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 502 "), out[:200]
        assert b"\r\nX-AGW-Reason: connect.failed\r\n" in out, out[:400]


def test_contract_listen_address(tmp_path):
    b = Backend("127.0.1.6")
    try:
        cfg = gateway_config("v2", members=("127.0.1.6",),
                             backend_port=b.port)
        with Gateway(tmp_path, cfg,
                     extra_args=["--listen-address", "127.0.0.2"]) as g:
            (lst,) = g.ready_json()["listeners"]
            assert lst["address"] == "127.0.0.2"
            out = http_raw(lst["port"], b"GET / HTTP/1.1\r\nHost: a\r\n"
                           b"Connection: close\r\n\r\n", host="127.0.0.2")
            assert out.startswith(b"HTTP/1.1 200 ")
            assert b"\r\nServer: pyback\r\n" in out
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", lst["port"]),
                                         timeout=2).close()
    finally:
        b.close()


class Agw:
    def __init__(self, tmp_path):
        self.env = dict(os.environ, AGW_HOME=str(tmp_path / "home"))

    def __call__(self, line, rc=0):
        cp = run([binary("agw")] + line.split(), check=False, env=self.env)
        assert cp.returncode == rc, (line, cp.stdout, cp.stderr)
        return cp


def test_contract_az_doc_lines_v2_refuses_auth_cert(tmp_path):
    agw = Agw(tmp_path)
    pki = tmp_path / "pki"
    run([binary("agw-certs"), "generate", "--out", str(pki)])
    agw("network application-gateway create --name myAppGateway "
        "--location eastus --resource-group myResourceGroupAG --capacity 2 "
        "--sku Standard_v2 --http-settings-cookie-based-affinity Enabled "
        "--public-ip-address myAGPublicIPAddress --vnet-name myVNet "
        "--subnet myAGSubnet --servers 10.0.0.4 10.0.0.5 --priority 100 "
        "-o none")
    cp = agw("network application-gateway auth-cert create "
             "--resource-group myResourceGroupAG --gateway-name "
             f"myAppGateway --name myAuthCert --cert-file "
             f"{pki}/ca-signed.cer", rc=1)
    assert "ApplicationGatewayFeatureCannotBeEnabledForSelectedSku" in \
        cp.stderr
    assert "does not support AuthenticationCertificates for the selected " \
        "SKU tier Standard_v2. Supported SKU tiers are Standard,WAF." in \
        cp.stderr
    agw(f"network application-gateway root-cert create --cert-file "
        f"{pki}/farm-root.cer --gateway-name myAppGateway --name myRoot "
        "--resource-group myResourceGroupAG -o none")
    doc = json.loads(agw("network application-gateway show -g "
                         "myResourceGroupAG -n myAppGateway").stdout)
    assert [a for p in doc["backendAddressPools"]
            for a in p["backendAddresses"]] == [
        {"ipAddress": "10.0.0.4"}, {"ipAddress": "10.0.0.5"}]
    assert [r["name"] for r in doc["trustedRootCertificates"]] == ["myRoot"]


def test_contract_show_backend_health_table_has_a_row_per_server(tmp_path):
    agw = Agw(tmp_path)
    port = closed_port("127.0.1.8")
    agw("network application-gateway create -g rg -n gw --sku "
        f"Standard_Medium --servers 127.0.1.8 --http-settings-port {port} "
        "-o none")
    agw("network application-gateway start -g rg -n gw -o none")
    try:
        deadline = time.monotonic() + 15
        while True:
            cp = agw("network application-gateway show-backend-health "
                     "-g rg -n gw -o json")
            srv = health_servers(cp.stdout)
            if srv[0]["healthProbeLog"] == CONNECT_TEXT or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
        lines = agw("network application-gateway show-backend-health "
                    "-g rg -n gw -o table").stdout.splitlines()
        assert lines[0].split() == ["Pool", "Settings", "Address", "Health",
                                    "HealthProbeLog"]
        assert set(lines[1]) <= {"-", " "}
        assert len(lines) == 3
        assert lines[2].split()[:4] == [
            "appGatewayBackendPool", "appGatewayBackendHttpSettings",
            "127.0.1.8", "Unhealthy"]
        assert lines[2].endswith(CONNECT_TEXT)
        cp = agw("network application-gateway show-backend-health -g rg "
                 "-n gw --query backendAddressPools[0]."
                 "backendHttpSettingsCollection[0].servers[0].health -o tsv")
        assert cp.stdout == "Unhealthy\n"
    finally:
        agw("network application-gateway stop -g rg -n gw")


def test_contract_status_reports_last_reload_error(tmp_path):
    import signal
    cfg = gateway_config("v2", members=("127.0.1.5",),
                         backend_port=closed_port("127.0.1.5"))
    with Gateway(tmp_path, cfg) as g:
        doc = json.loads(g.admin("/status")[1])
        assert doc["sku"] == "v2" and doc["generation"] == 1
        assert doc["last_reload_error"] is None
        g.write_config({"name": "broken"})
        status, body = g.admin("/reload", "POST")
        assert status == 409
        doc = json.loads(g.admin("/status")[1])
        assert doc["generation"] == 1
        assert "sku" in doc["last_reload_error"]
        assert doc["last_reload"]["ok"] is False
        g.write_config(cfg)
        g.signal(signal.SIGHUP)
        deadline = time.monotonic() + 15
        while json.loads(g.admin("/status")[1])["generation"] != 2:
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            time.sleep(0.05)
        assert json.loads(g.admin("/status")[1])["last_reload_error"] \
            is None


def test_contract_certs_manifest_has_the_named_facts(tmp_path):
    out = tmp_path / "pki"
    run([binary("agw-certs"), "generate", "--out", str(out), "--now",
         "2030-01-01T00:00:00Z"])
    m = json.loads((out / "manifest.json").read_text())
    it = m["items"]["ca-signed"]
    assert (out / it["cert"]).exists() and (out / it["key"]).exists()
    assert it["subject"] == "CN=backend.test"
    assert "DNS:b1.backend.test" in it["sans"]
    assert it["not_before"] < "2030-01-01T00:00:01Z" < it["not_after"]
    assert it["issuer"] == "CN=agw-lab Farm Intermediate CA"
    assert len(it["thumbprint"]) == 40 and it["thumbprint"] == it["sha1"]
    assert len(it["sha256"]) == 64 and len(it["spki_sha256"]) == 64
