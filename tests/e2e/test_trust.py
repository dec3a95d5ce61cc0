"""End-to-end tests of backend trust through the gateway (spec sections 2,
3, 4 and 6): the SNI and Host the backend saw for live traffic and for
probes, a representative set of certificate variant x trust mode cells
(status through the gateway and the exact healthProbeLog), and rotation
(a backend's certificate swapped at run time; a reload that removes an
authentication certificate closes pooled upstream connections)."""
import json
import time

import pytest

from trustfarm import (TEXT, Farm, cer, config, get,
                                https_settings, mint_pki, probe,
                                start_gateway, wait_health)

TEXT_INT_NOT_WELL_KNOWN = (
    "The Intermediate certificate isn't signed by a well-known Certificate "
    "Authority (CA). Ensure the certificate chain is complete and correctly "
    "ordered on the backend server.")
TEXT_LEAF_NOT_FIRST = TEXT["leaf_not_first"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return mint_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def trust_gw(tmp_path, pki):
    """start(sku, variant, member, sprops, trust, probes) -> (farm, g).
    member "ip" or an FQDN (resolved to the backend with --resolve); trust
    "root" (v2 farm-root), "well-known" (v2, none), "auth:ITEM" (v1)."""
    started = []

    def start(sku="v2", variant="ca-signed", member="ip", trust="root",
              probes=None, behaviour=None, debug=True, extra=(), **sprops):
        farm = Farm(tmp_path, pki, {"b1": (1, variant, behaviour or
                                           {"echo": True})}).start()
        started.append(farm)
        a = farm.addr["b1"]
        extra_args = list(extra)
        if member != "ip":
            extra_args += ["--resolve", f"{member}:{a}"]
        s = https_settings(port=farm.port, **sprops)
        kw = {}
        if trust == "root":
            kw["trustedRootCertificates"] = [
                {"name": "root", "data": cer(pki, "farm-root")}]
            s["trustedRootCertificates"] = ["root"]
        elif trust.startswith("auth:"):
            kw["authenticationCertificates"] = [
                {"name": "auth", "data": cer(pki, trust[5:])}]
            s["authenticationCertificates"] = ["auth"]
        if probes:
            s["probe"] = probes[0]["name"]
            kw["probes"] = probes
        g = start_gateway(tmp_path, config(sku, [a if member == "ip"
                                                 else member], s, **kw),
                          pki, extra_args, debug=debug)
        started.append(g)
        return farm, g, (a if member == "ip" else member)

    yield start
    for p in reversed(started):
        p.stop()


def echo(g, host="client.test"):
    status, headers, body = get(g, host=host)
    assert status == 200, (status, headers, body)
    return json.loads(body)


# --- (a) SNI and Host, probes and live traffic ------------------------------

# (name, sku, member, settings props, probe, probe SNI ("" none),
#  probe Host, client Host, live SNI (None), live Host)
SNI_CASES = [
    ("v2-ip-member", "v2", "ip", {}, None, "", "127.0.0.1",
     "b1.backend.test", "b1.backend.test", "b1.backend.test"),
    ("v2-fqdn-member", "v2", "b2.backend.test", {}, None,
     "b2.backend.test", "127.0.0.1", "client.test", "b2.backend.test",
     "client.test"),
    ("v2-hostname", "v2", "ip", {"hostName": "b3.backend.test"}, None,
     "b3.backend.test", "127.0.0.1", "client.test", "b3.backend.test",
     "b3.backend.test"),
    ("v2-pick-from-address", "v2", "b4.backend.test",
     {"pickHostNameFromBackendAddress": True}, None, "b4.backend.test",
     "127.0.0.1", "client.test", "b4.backend.test", "b4.backend.test"),
    ("v2-sniname", "v2", "ip", {"hostName": "b5.backend.test",
                                "sniName": "b6.backend.test"}, None,
     "b5.backend.test", "127.0.0.1", "client.test", "b6.backend.test",
     "b5.backend.test"),
    ("v2-custom-probe-host", "v2", "ip", {"hostName": "b7.backend.test"},
     probe(protocol="Https", host="b8.backend.test"), "b8.backend.test",
     "b8.backend.test", "client.test", "b7.backend.test",
     "b7.backend.test"),
    ("v2-probe-pick-from-settings", "v2", "ip",
     {"hostName": "b1.backend.test"},
     probe(protocol="Https", pickHostNameFromBackendHttpSettings=True),
     "b1.backend.test", "b1.backend.test", "client.test",
     "b1.backend.test", "b1.backend.test"),
    ("v1-ip-member-hostname", "v1", "ip", {"hostName": "b3.backend.test"},
     None, "", "127.0.0.1", "client.test", None, "b3.backend.test"),
    ("v1-fqdn-member", "v1", "b2.backend.test",
     {"hostName": "b3.backend.test"}, None, "b2.backend.test",
     "127.0.0.1", "client.test", "b2.backend.test", "b3.backend.test"),
]


@pytest.mark.parametrize("case", SNI_CASES, ids=[c[0] for c in SNI_CASES])
def test_trust_sni_and_host_seen(trust_gw, case):
    (_, sku, member, sprops, pr, probe_sni, probe_host, client_host,
     live_sni, live_host) = case
    farm, g, addr = trust_gw(sku=sku, member=member,
                             trust="root" if sku == "v2"
                             else "auth:ca-signed",
                             probes=[pr] if pr else None, **sprops)
    wait_health(g, addr, "Healthy")
    b = farm.backend("b1")
    # only probes so far
    assert set(b["sni_seen"]) == {probe_sni}, b["sni_seen"]
    assert set(b["hosts_seen"]) == {probe_host}, b["hosts_seen"]
    e = echo(g, host=client_host)
    assert e["sni"] == live_sni
    assert e["headers"]["Host"] == live_host


# --- (b) variant x mode cells ---------------------------------------------

# (sku, variant, member, trust, settings props, health, text, live status)
CELLS = [
    ("v2", "ca-signed", "ip", "root", {"hostName": "backend.test"},
     "Healthy", "Success. Received 200 status code", 200),
    ("v2", "wrong-host", "ip", "root", {"hostName": "backend.test"},
     "Unhealthy", TEXT["v2_cn"], 502),
    ("v2", "expired", "ip", "root", {"hostName": "backend.test"},
     "Unhealthy", TEXT["expired"], 502),
    ("v2", "leaf-only", "ip", "root", {"hostName": "backend.test"},
     "Unhealthy", TEXT["int_missing"], 502),
    ("v2", "wrong-order", "ip", "root", {"hostName": "backend.test"},
     "Unhealthy", TEXT_LEAF_NOT_FIRST, 502),
    ("v2", "untrusted-root", "ip", "root", {"hostName": "backend.test"},
     "Unhealthy", TEXT["root_mismatch_no_root"], 502),
    ("v2", "ca-signed", "ip", "well-known", {"hostName": "backend.test"},
     "Unhealthy", TEXT_INT_NOT_WELL_KNOWN, 502),
    ("v2", "public-ca-signed", "ip", "well-known",
     {"hostName": "backend.test"}, "Healthy",
     "Success. Received 200 status code", 200),
    ("v2", "wrong-host", "ip", "root",
     {"hostName": "backend.test", "validateSNI": False}, "Healthy",
     "Success. Received 200 status code", 200),
    ("v1", "ca-signed", "b1.backend.test", "auth:ca-signed", {}, "Healthy",
     "Success. Received 200 status code", 200),
    ("v1", "ca-signed", "b1.backend.test", "auth:public-ca-signed", {},
     "Unhealthy", TEXT["v1_whitelist"], 502),
    ("v1", "wrong-host", "b1.backend.test", "auth:wrong-host", {},
     "Unhealthy", TEXT["v1_cn"], 502),
    ("v1", "wrong-host", "ip", "auth:wrong-host", {}, "Healthy",
     "Success. Received 200 status code", 200),
    ("v1", "expired", "ip", "auth:expired", {}, "Unhealthy",
     TEXT["expired"], 502),
]


@pytest.mark.parametrize("cell", CELLS, ids=[
    f"{c[0]}-{c[1]}-{c[3]}-{'fqdn' if c[2] != 'ip' else 'ip'}"
    + ("-novalidatesni" if c[4].get("validateSNI") is False else "")
    for c in CELLS])
def test_trust_cell(trust_gw, cell):
    sku, variant, member, trust, sprops, health, text, live = cell
    farm, g, addr = trust_gw(sku=sku, variant=variant, member=member,
                             trust=trust, behaviour={}, **sprops)
    srv = wait_health(g, addr, health, text)
    assert srv["healthProbeLog"] == text
    status, headers, body = get(g)
    assert status == live, (status, headers, body)
    if live == 502:
        # a failed verification never sends the request
        assert "client.test" not in farm.backend("b1")["hosts_seen"]
        assert headers["x-agw-reason"] in ("pool.no_healthy_member",) or \
            headers["x-agw-reason"].startswith(("v1.", "v2.", "cert."))


def test_trust_live_traffic_fails_with_its_own_sni(trust_gw):
    # The default probe sends no SNI to an IP member (no name check), so
    # the member is healthy; live traffic sends the client's Host as SNI,
    # which the certificate does not cover: 502 with the v2 CN reason.
    farm, g, addr = trust_gw(variant="ca-signed", member="ip", trust="root")
    wait_health(g, addr, "Healthy")
    status, headers, _ = get(g, host="nothere.example")
    assert status == 502
    assert headers["x-agw-reason"] == "v2.cn_mismatch"
    assert "nothere.example" not in farm.backend("b1")["hosts_seen"]
    metrics = g.admin("/metrics")[1]
    assert "v2.cn_mismatch" in metrics


def test_trust_reason_header_only_with_debug_headers(trust_gw, tmp_path):
    # Without --debug-headers the 502 page carries no X-AGW-Reason; the
    # reason still reaches the access log and /metrics.
    log = tmp_path / "access.log"
    farm, g, addr = trust_gw(variant="ca-signed", member="ip", trust="root",
                             debug=False, extra=["--access-log", str(log)])
    wait_health(g, addr, "Healthy")
    status, headers, body = get(g, host="nothere.example")
    assert status == 502
    assert "x-agw-reason" not in headers
    assert headers["server"] == "Microsoft-Azure-Application-Gateway/v2"
    assert "<center><h1>502 Bad Gateway</h1></center>" in body
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in log.read_text().splitlines()] \
            if log.exists() else []
        if lines:
            break
        time.sleep(0.02)
    assert [x["reason"] for x in lines] == ["v2.cn_mismatch"]
    assert 'v2.cn_mismatch' in g.admin("/metrics")[1]


# --- (d) rotation -----------------------------------------------------------

def test_trust_rotation_backend_cert_swap_health_follows(trust_gw, pki):
    farm, g, addr = trust_gw(variant="ca-signed", member="ip", trust="root",
                             hostName="backend.test")
    wait_health(g, addr, "Healthy")
    farm.tls("b1", "untrusted-root", pki)
    srv = wait_health(g, addr, "Unhealthy", TEXT["root_mismatch_no_root"])
    assert srv["healthProbeLog"] == TEXT["root_mismatch_no_root"]
    assert get(g)[0] == 502
    farm.tls("b1", "rotated", pki)
    wait_health(g, addr, "Healthy")
    assert get(g)[0] == 200


def test_trust_reload_removing_auth_cert_closes_pooled(trust_gw):
    # minServers 1 keeps the member eligible whatever the probes say, so
    # the request after the reload reaches the upstream path: a pooled
    # connection verified under the old trust must not be reused.
    farm, g, addr = trust_gw(
        sku="v1", variant="ca-signed", member="b1.backend.test",
        trust="auth:ca-signed",
        probes=[probe(protocol="Https", host="b1.backend.test",
                      minServers=1)])
    wait_health(g, addr, "Healthy", "Success")
    first = echo(g)
    second = echo(g)
    assert first["client_port"] == second["client_port"]  # pooled
    cfg = json.loads(g.config_path.read_text())
    props = cfg["properties"]
    props["authenticationCertificates"] = []
    props["backendHttpSettingsCollection"][0]["properties"][
        "authenticationCertificates"] = []
    g.write_config(cfg)
    status, body = g.admin("/reload", "POST")
    assert status == 200, body
    status, headers, body = get(g)
    assert status == 502, (status, headers, body)
    assert headers["x-agw-reason"] == "v1.not_whitelisted"
    srv = wait_health(g, addr, "Healthy", TEXT["v1_whitelist"])
    assert srv["health"] == "Healthy"  # forced by minServers
