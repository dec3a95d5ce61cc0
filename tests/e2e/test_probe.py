"""End-to-end tests of the health probes (spec sections 4, 5 and 6):
agw-sim backends, agw-gateway with --probe-scale 0.05, states and the exact
healthProbeLog texts read from /backendhealth."""
import re

import pytest

from trustfarm import (TEXT, Farm, config, get, http_settings,
                                mint_pki, probe, servers, start_gateway,
                                wait_health)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return mint_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def farm_gw(tmp_path, pki):
    """start(backends, sku, settings_props, probes) -> (farm, gateway)."""
    started = []

    def start(backends, sku="v2", probes=None, extra=(), **sprops):
        farm = Farm(tmp_path, pki, backends).start()
        started.append(farm)
        members = [farm.addr[n] for n in backends]
        s = http_settings(port=farm.port, **sprops)
        kw = {}
        if probes:
            s["probe"] = probes[0]["name"]
            kw["probes"] = probes
        g = start_gateway(tmp_path, config(sku, members, s, **kw), pki,
                          extra)
        started.append(g)
        return farm, g

    yield start
    for p in reversed(started):
        p.stop()


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_probe_default_probe_host_and_success(farm_gw, sku):
    farm, g = farm_gw({"b1": (1, None, None)}, sku=sku)
    srv = wait_health(g, farm.addr["b1"], "Healthy", "Success")
    assert srv["healthProbeLog"] == "Success. Received 200 status code"
    b = farm.backend("b1")
    assert set(b["hosts_seen"]) == {"127.0.0.1"}
    assert b["last_request"]["path"] == "/"
    status, _, body = get(g)
    assert status == 200 and body == "backend b1\n"


def test_probe_unhealthy_until_first_success_never_contacted(farm_gw):
    # The probe path answers 503: the member never turns healthy, and live
    # traffic gets 502 without the backend ever seeing the client's Host.
    farm, g = farm_gw({"b1": (1, None, {"health": {"path": "/health",
                                                     "status": 503}})},
                      probes=[probe(path="/health", host="probe.test")])
    text = TEXT["status"].format(e="200-399", r=503)
    srv = wait_health(g, farm.addr["b1"], "Unhealthy", text)
    assert srv["healthProbeLog"] == text
    status, headers, _ = get(g, host="client.test")
    assert status == 502
    assert headers["x-agw-reason"] == "pool.no_healthy_member"
    b = farm.backend("b1")
    assert "client.test" not in b["hosts_seen"]
    assert b["requests"] == b["hosts_seen"]["probe.test"]


def test_probe_threshold_then_one_success_heals(farm_gw):
    farm, g = farm_gw({"b1": (1, None, None)},
                      probes=[probe(path="/health", host="probe.test",
                                    unhealthyThreshold=3)])
    a = farm.addr["b1"]
    wait_health(g, a, "Healthy")
    farm.behaviour("b1", {"health": {"path": "/health", "status": 500}})
    wait_health(g, a, "Unhealthy", TEXT["status"].format(e="200-399",
                                                          r=500))
    log = g.log_text()
    key = f"pool1/{a}/s1"
    fails = [log.index(f"probe {key}: failure {i}/3") for i in (1, 2, 3)]
    turn = log.index(f"backend health {key}: Healthy -> Unhealthy")
    assert fails[0] < fails[1] < fails[2] < turn
    # still healthy (and serving) after two failures
    assert log.count(f"backend health {key}: Healthy -> Unhealthy") == 1
    farm.behaviour("b1", {})
    srv = wait_health(g, a, "Healthy", "Success")
    assert srv["healthProbeLog"] == "Success. Received 200 status code"
    # one success heals: no failure counted between the last failure and
    # the turn back
    log = g.log_text()
    assert f"backend health {key}: Unhealthy -> Healthy" in log
    assert get(g)[0] == 200


def test_probe_status_match_ranges(farm_gw):
    farm, g = farm_gw({"b1": (1, None, None), "b2": (2, None, {"status":
                                                                 201})},
                      probes=[probe(host="probe.test",
                                    match={"statusCodes": ["201",
                                                           "300-302"]})])
    text = TEXT["status"].format(e="201,300-302", r=200)
    srv = wait_health(g, farm.addr["b1"], "Unhealthy", text)
    assert srv["healthProbeLog"] == text
    srv = wait_health(g, farm.addr["b2"], "Healthy", "Success")
    assert srv["healthProbeLog"] == "Success. Received 201 status code"
    status, headers, _ = get(g)
    assert status == 201 and headers["x-agw-member"] == farm.addr["b2"]


def test_probe_body_match(farm_gw):
    farm, g = farm_gw({"b1": (1, None, {"body": "warming up\n"})},
                      probes=[probe(host="probe.test",
                                    match={"body": "ready"})])
    a = farm.addr["b1"]
    srv = wait_health(g, a, "Unhealthy", TEXT["body"].format(s="ready"))
    assert srv["healthProbeLog"] == TEXT["body"].format(s="ready")
    farm.behaviour("b1", {"body": "all ready\n"})
    wait_health(g, a, "Healthy")


def test_probe_min_servers(farm_gw):
    farm, g = farm_gw({"b1": (1, None, {"status": 500}),
                       "b2": (2, None, {"status": 500}),
                       "b3": (3, None, {"status": 500})},
                      probes=[probe(host="probe.test", minServers=2)])
    wait_health(g, farm.addr["b3"], "Unhealthy")
    srv = servers(g)
    assert [srv[farm.addr[n]]["health"] for n in ("b1", "b2", "b3")] == \
        ["Healthy", "Healthy", "Unhealthy"]
    # forced members take traffic (their 500 passes through)
    assert get(g)[0] == 500


def test_probe_timeout_text(farm_gw):
    # timeout 30 s x 0.05 = 1.5 s; the backend answers after 4 s
    farm, g = farm_gw({"b1": (1, None, {"delay_ms": 4000})})
    srv = wait_health(g, farm.addr["b1"], "Unhealthy", TEXT["timeout"])
    assert srv["healthProbeLog"] == TEXT["timeout"]
    assert "probe.timeout" in g.log_text()


def test_probe_connect_refused_text(farm_gw):
    farm, g = farm_gw({"b1": (1, None, None), "b2": (2, None, None)})
    wait_health(g, farm.addr["b2"], "Healthy")
    farm.call("/backends/b2/down", "POST")
    srv = wait_health(g, farm.addr["b2"], "Unhealthy", TEXT["connect"])
    assert srv["healthProbeLog"] == TEXT["connect"]
    # traffic only goes to the healthy member
    for _ in range(4):
        status, headers, _ = get(g)
        assert status == 200 and headers["x-agw-member"] == farm.addr["b1"]
    farm.call("/backends/b2/up", "POST")
    wait_health(g, farm.addr["b2"], "Healthy")


def test_probe_dns_failure_text(farm_gw):
    farm, g = farm_gw({"b1": (1, None, None)},
                      extra=["--resolve", "ok.backend.test:127.0.0.9"])
    # a second gateway config would be heavier: reload with an FQDN member
    # that does not resolve (.invalid never does)
    cfg = g.config_path.read_text().replace(
        '"ipAddress": "%s"' % farm.addr["b1"], '"fqdn": "nx.invalid"')
    g.config_path.write_text(cfg)
    assert g.admin("/reload", "POST")[0] == 200
    srv = wait_health(g, "nx.invalid", "Unhealthy", TEXT["dns"])
    assert srv["healthProbeLog"] == TEXT["dns"]


def test_probe_all_unhealthy_502_page_by_sku(farm_gw):
    farm, g = farm_gw({"b1": (1, None, {"status": 503})}, sku="v1")
    wait_health(g, farm.addr["b1"], "Unhealthy")
    before = farm.backend("b1")["requests"]
    status, headers, body = get(g, host="client.test")
    assert status == 502
    assert headers["server"] == "Microsoft-Azure-Application-Gateway/v1"
    assert headers["x-agw-reason"] == "pool.no_healthy_member"
    assert "502 - Web server received an invalid response" in body
    b = farm.backend("b1")
    assert "client.test" not in b["hosts_seen"]
    assert re.search(r"pool\.no_healthy_member", g.log_text())
    assert b["requests"] >= before


def _log_time(log, needle):
    """The time (seconds) of the first log line containing needle."""
    from datetime import datetime
    for line in log.splitlines():
        if needle in line:
            stamp = line.split(" ", 1)[0].rstrip("Z")
            return datetime.fromisoformat(stamp).timestamp()
    raise AssertionError(f"{needle!r} not logged")


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_probe_v1_retries_quickly_v2_waits_interval(farm_gw, sku):
    # interval 20 s x 0.05 = 1 s; v1 retries a failed probe after
    # PROBE_V1_RETRY_S (1 s x 0.05 = 50 ms), v2 waits the interval.
    farm, g = farm_gw({"b1": (1, None, None)},
                      sku=sku,
                      probes=[probe(path="/health", host="probe.test",
                                    interval=20, unhealthyThreshold=3)])
    a = farm.addr["b1"]
    wait_health(g, a, "Healthy")
    farm.behaviour("b1", {"health": {"path": "/health", "status": 500}})
    wait_health(g, a, "Unhealthy", timeout=20)
    log = g.log_text()
    key = f"pool1/{a}/s1"
    first = _log_time(log, f"probe {key}: failure 1/3")
    turn = _log_time(log, f"backend health {key}: Healthy -> Unhealthy")
    if sku == "v1":
        assert turn - first < 0.9
    else:
        assert turn - first >= 1.9
