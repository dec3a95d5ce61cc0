"""agw-gateway end to end: the data path against small Python backends on
127.0.1.x (agwtest.Backend), the gateway on ephemeral ports."""
import hashlib
import http.client
import json
import signal
import socket
import threading
import time

import pytest

from agwtest import Gateway, backend_group, binary, gateway_config, http_raw, run

# The spec's v2 502 page, byte for byte (spec section 5).
V2_502 = (b"<html>\n<head><title>502 Bad Gateway</title></head>\n"
          b"<body>\n<center><h1>502 Bad Gateway</h1></center>\n"
          b"<hr><center>Microsoft-Azure-Application-Gateway/v2</center>\n"
          b"</body>\n</html>\n")
V1_502_HEADING = (b"502 - Web server received an invalid response while "
                  b"acting as a gateway or proxy server.")


@pytest.fixture
def backends():
    made = []

    def make(n=1, **kw):
        group = backend_group(n, **kw)
        made.extend(group)
        return group
    yield make
    for b in made:
        b.close()


@pytest.fixture
def gateway(tmp_path):
    made = []

    def make(config, extra_args=()):
        g = Gateway(tmp_path, config, extra_args, name=f"gw{len(made)}")
        made.append(g)
        g.start()
        return g
    yield make
    for g in made:
        g.stop()


def traffic(b):
    """The requests a backend got from live traffic (not from probes)."""
    return [q for q in b.requests
            if not any(k.lower() == "user-agent" and v.endswith("-probe")
                       for k, v in q["headers"])]


def pool_of(bs, name="pool1"):
    return {"name": name, "backendAddresses": [{"ipAddress": b.host}
                                               for b in bs]}


def setting(port, name="s1", **kw):
    d = {"name": name, "port": port, "protocol": "Http",
         "cookieBasedAffinity": "Disabled", "requestTimeout": 20}
    d.update(kw)
    return d


def get(g, path, headers=None, method="GET", body=None, port="port80"):
    c = http.client.HTTPConnection("127.0.0.1", g.port(port), timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def simple(gateway, backends, sku="v2", n=1, extra_args=(), **skw):
    bs = backends(n)
    cfg = gateway_config(sku=sku, pools=[pool_of(bs)],
                         settings=[setting(bs[0].port, **skw)])
    return gateway(cfg, extra_args), bs


# --- routing and headers ---------------------------------------------------

@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_gateway_basic_forwarding_and_x_forwarded(gateway, backends, sku):
    g, (b,) = simple(gateway, backends, sku)
    r, data = get(g, "/hello?x=1", {"X-Forwarded-For": "10.0.0.9",
                                    "Connection": "keep-alive, X-Drop",
                                    "X-Drop": "secret"})
    assert r.status == 200
    assert r.getheader("Server") == "pyback"
    rec = json.loads(data)
    assert rec["path"] == "/hello?x=1"
    h = {k.lower(): v for k, v in rec["headers"]}
    assert h["x-forwarded-for"].startswith("10.0.0.9, 127.0.0.1:")
    assert h["x-forwarded-proto"] == "http"
    assert h["x-forwarded-port"] == "80"
    assert h["host"] == f"127.0.0.1:{g.port()}"
    assert "x-drop" not in h and "connection" not in h
    assert ("x-original-host" in h) == (sku == "v2")


def test_gateway_round_robin_over_members(gateway, backends):
    g, bs = simple(gateway, backends, n=3)
    seen = [json.loads(get(g, "/")[1])["server"] for _ in range(6)]
    assert sorted(set(seen)) == sorted(b.name for b in bs)
    assert seen[:3] != [seen[0]] * 3
    for name in set(seen):
        assert seen.count(name) == 2


def test_gateway_host_name_setting_and_pick_from_backend(gateway, backends):
    bs = backends(1)
    cfg = gateway_config(pools=[pool_of(bs)],
                         settings=[setting(bs[0].port, hostName="api.test")])
    g = gateway(cfg)
    h = dict(json.loads(get(g, "/")[1])["headers"])
    assert h["Host"] == "api.test"


@pytest.mark.parametrize("sku,expect", [("v1", "/images/*"),
                                        ("v2", "/images/logo.png")])
def test_gateway_path_map_order_by_sku(gateway, backends, sku, expect):
    a, b, d = backends(3)
    pools = [pool_of([a], "pa"), pool_of([b], "pb"), pool_of([d], "pd")]
    maps = [{"name": "map1", "defaultBackendAddressPool": "pd",
             "defaultBackendHttpSettings": "s1",
             "pathRules": [
                 {"name": "wild", "paths": ["/images/*"],
                  "backendAddressPool": "pa", "backendHttpSettings": "s1"},
                 {"name": "exact", "paths": ["/images/logo.png"],
                  "backendAddressPool": "pb",
                  "backendHttpSettings": "s1"}]}]
    rules = [{"name": "r1", "ruleType": "PathBasedRouting",
              "httpListener": "l1", "urlPathMap": "map1"}]
    cfg = gateway_config(sku=sku, pools=pools,
                         settings=[setting(a.port)], rules=rules,
                         path_maps=maps)
    g = gateway(cfg)
    who = json.loads(get(g, "/images/logo.png")[1])["server"]
    assert who == (a.name if expect == "/images/*" else b.name)
    assert json.loads(get(g, "/other")[1])["server"] == d.name


def test_gateway_multi_site_before_basic(gateway, backends):
    a, b = backends(2)
    listeners = [
        {"name": "basic", "frontendIPConfiguration": "fip",
         "frontendPort": "port80", "protocol": "Http"},
        {"name": "site", "frontendIPConfiguration": "fip",
         "frontendPort": "port80", "protocol": "Http",
         "hostNames": ["*.contoso.test"]}]
    rules = [{"name": "rb", "ruleType": "Basic", "httpListener": "basic",
              "backendAddressPool": "pa", "backendHttpSettings": "s1"},
             {"name": "rs", "ruleType": "Basic", "httpListener": "site",
              "backendAddressPool": "pb", "backendHttpSettings": "s1"}]
    cfg = gateway_config(pools=[pool_of([a], "pa"), pool_of([b], "pb")],
                         settings=[setting(a.port)], listeners=listeners,
                         rules=rules)
    g = gateway(cfg)
    r, data = get(g, "/", {"Host": "www.contoso.test"})
    assert json.loads(data)["server"] == b.name
    r, data = get(g, "/", {"Host": "other.test"})
    assert json.loads(data)["server"] == a.name


def test_gateway_affinity_cookie_sticks(gateway, backends):
    g, bs = simple(gateway, backends, n=3, cookieBasedAffinity="Enabled")
    r, data = get(g, "/")
    cookies = r.msg.get_all("Set-Cookie")
    assert len(cookies) == 2
    main = [c for c in cookies if c.startswith("ApplicationGatewayAffinity=")]
    cors = [c for c in cookies
            if c.startswith("ApplicationGatewayAffinityCORS=")]
    assert main and cors and "Path=/" in main[0]
    assert "SameSite=None" in cors[0] and "Secure" in cors[0]
    value = main[0].split(";")[0].split("=", 1)[1]
    assert len(value) == 32
    first = json.loads(data)["server"]
    for _ in range(5):
        r, data = get(g, "/", {"Cookie": f"ApplicationGatewayAffinity={value}"})
        assert json.loads(data)["server"] == first


# --- upstream behaviour ---------------------------------------------------

@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_gateway_backend_5xx_passes_through(gateway, backends, sku):
    g, _ = simple(gateway, backends, sku)
    r, data = get(g, "/status/503")
    assert r.status == 503 and data == b"backend says 503\n"
    assert r.getheader("Server") == "pyback"


@pytest.mark.parametrize("path", ["/reset", "/malformed", "/cut"])
def test_gateway_bad_upstream_gives_v2_502_page(gateway, backends, path):
    g, _ = simple(gateway, backends, "v2", extra_args=["--debug-headers"])
    r, data = get(g, path)
    assert r.status == 502
    assert data == V2_502
    assert r.getheader("Server") == "Microsoft-Azure-Application-Gateway/v2"
    assert r.getheader("X-AGW-Reason") in ("upstream.reset",
                                           "upstream.invalid_response")


def test_gateway_bad_upstream_gives_v1_iis_page(gateway, backends):
    g, _ = simple(gateway, backends, "v1")
    r, data = get(g, "/reset")
    assert r.status == 502
    assert V1_502_HEADING in data
    assert r.getheader("Server") == "Microsoft-Azure-Application-Gateway/v1"


def test_gateway_refused_connection_is_502(gateway, backends):
    (b,) = backends(1)
    cfg = gateway_config(pools=[pool_of([b])], settings=[setting(1)])
    g = gateway(cfg)
    r, data = get(g, "/")
    assert r.status == 502 and data == V2_502


def test_gateway_timeout_v1_is_502(gateway, backends):
    g, _ = simple(gateway, backends, "v1", requestTimeout=1)
    r, data = get(g, "/sleep/3")
    assert r.status == 502 and V1_502_HEADING in data


def test_gateway_timeout_v2_retries_then_504(gateway, backends):
    g, bs = simple(gateway, backends, "v2", n=2, requestTimeout=1)
    r, data = get(g, "/sleep/3")
    assert r.status == 504
    assert b"<center><h1>504 Gateway Time-out</h1></center>" in data
    tried = {q["server"] for b in bs for q in traffic(b)}
    assert tried == {b.name for b in bs}


def post_both(g, slow, body, chunked=False):
    """Two POSTs of body to /sleepon/SLOW/3 (round robin sends one of them
    to the slow member first); their (status, echo or None)."""
    out = []
    for _ in range(2):
        c = http.client.HTTPConnection("127.0.0.1", g.port(), timeout=30)
        c.request("POST", f"/sleepon/{slow}/3",
                  body=iter([body]) if chunked else body,
                  headers={} if chunked else {"Content-Length":
                                              str(len(body))},
                  encode_chunked=chunked)
        r = c.getresponse()
        data = r.read()
        c.close()
        out.append((r.status, json.loads(data) if r.status == 200
                    else None))
    return out


@pytest.mark.parametrize("chunked", [False, True])
def test_gateway_timeout_v2_retry_sends_the_body_again(gateway, backends,
                                                       chunked):
    g, (slow, fast) = simple(gateway, backends, "v2", n=2, requestTimeout=1)
    body = bytes(range(256)) * 200  # 50 KiB, under the 64 KiB kept
    want = hashlib.sha256(body).hexdigest()
    res = post_both(g, slow.name, body, chunked)
    assert [st for st, _ in res] == [200, 200]
    assert {e["server"] for _, e in res} == {fast.name}
    assert all(e["body_len"] == len(body) and e["body_sha256"] == want
               for _, e in res)
    # the slow member got the whole body too, before each retry
    got = [q for q in traffic(slow) if q["method"] == "POST"]
    assert got and all(q["body_sha256"] == want for q in got)


def test_gateway_timeout_v2_long_body_is_not_sent_twice(gateway, backends):
    g, (slow, fast) = simple(gateway, backends, "v2", n=2, requestTimeout=1)
    body = b"x" * (200 * 1024)  # more than the gateway keeps for a retry
    res = post_both(g, slow.name, body)
    statuses = [st for st, _ in res]
    assert 504 in statuses and set(statuses) <= {200, 504}
    # a 504 was never retried: the fast member saw only the 200s
    assert len([q for q in traffic(fast) if q["method"] == "POST"]) == \
        statuses.count(200)


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_gateway_request_timeout_waits_for_the_response_not_the_upload(
        gateway, backends, sku):
    # requestTimeout is the wait for the backend's response: a client that
    # takes longer than it to send its body is not a backend timeout.
    g, (b,) = simple(gateway, backends, sku, requestTimeout=1)
    before = b.connections
    s = socket.create_connection(("127.0.0.1", g.port()), timeout=30)
    s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10"
              b"\r\nConnection: close\r\n\r\nhello")
    deadline = time.monotonic() + 10
    while b.connections == before and time.monotonic() < deadline:
        time.sleep(0.01)  # until the gateway has connected upstream
    assert b.connections > before
    time.sleep(1.6)  # the stimulus: the upload stalls past requestTimeout
    s.sendall(b"world")
    r = http.client.HTTPResponse(s)
    r.begin()
    assert r.status == 200
    assert json.loads(r.read())["body_len"] == 10
    s.close()


def test_gateway_timeout_v2_never_retries_a_response_that_began(gateway,
                                                                backends):
    # The slow member has sent its head: the other member's response must
    # not be read as its body. No retry: the v2 504.
    g, (slow, fast) = simple(gateway, backends, "v2", n=2, requestTimeout=1)
    got = []
    for _ in range(2):
        r, data = get(g, f"/stallon/{slow.name}/3", method="POST", body=b"x")
        got.append((r.status, data))
    statuses = [st for st, _ in got]
    assert 504 in statuses and set(statuses) <= {200, 504}
    for st, data in got:
        if st == 200:
            assert json.loads(data)["server"] == fast.name
        else:
            assert b"504 Gateway Time-out" in data
    assert len([q for q in traffic(fast) if q["path"].startswith(
        "/stallon/")]) == statuses.count(200)


def test_gateway_timeout_while_the_client_awaits_100_continue(gateway,
                                                              backends):
    # The members never answer the head (they wait for the body, no 100):
    # requestTimeout still runs, retry, then the v2 504, long before the
    # client body timer (20 s here).
    g, _ = simple(gateway, backends, "v2", n=2, requestTimeout=1,
                  extra_args=["--header-timeout", "20"])
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", g.port()), timeout=15)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
              b"Expect: 100-continue\r\n\r\n")
    r = http.client.HTTPResponse(s)
    r.begin()
    assert r.status == 504
    assert time.monotonic() - t0 < 10
    s.close()


def test_gateway_upstream_keep_alive_reused(gateway, backends):
    g, (b,) = simple(gateway, backends)
    for _ in range(5):
        assert get(g, "/")[0].status == 200
    assert len(traffic(b)) == 5
    assert len({q["conn"] for q in traffic(b)}) == 1


def test_gateway_chunked_passes_through(gateway, backends):
    g, _ = simple(gateway, backends)
    out = http_raw(g.port(), b"GET /chunked HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    assert b"Transfer-Encoding: chunked" in out
    assert out.endswith(b"5;ext=1\r\nhello\r\n6\r\n world\r\n"
                        b"0\r\nX-Trailer: yes\r\n\r\n")


def test_gateway_large_bodies_stream_both_ways(gateway, backends):
    g, (b,) = simple(gateway, backends)
    size = 8 * 1024 * 1024
    r, data = get(g, "/big/%d" % size)
    assert r.status == 200 and len(data) == size
    r, data = get(g, "/upload", method="POST", body=b"y" * size)
    assert json.loads(data)["body_len"] == size


# --- bad input --------------------------------------------------------------

BAD_REQUESTS = {
    "cl_and_te": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled "
                 b"HTTP/1.1\r\nHost: x\r\n\r\n",
    "cl_mismatch": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                   b"Content-Length: 5\r\n\r\nabcde",
    "bad_cl": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "te_not_chunked": b"POST / HTTP/1.1\r\nHost: x\r\n"
                      b"Transfer-Encoding: gzip\r\n\r\n",
    "obs_fold": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "space_before_colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "bare_lf": b"GET / HTTP/1.1\nHost: x\n\n",
    "nul": b"GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
    "missing_host": b"GET / HTTP/1.1\r\n\r\n",
    "duplicate_host": b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "bad_version": b"GET / HTTP/2.7\r\nHost: x\r\n\r\n",
    "bad_method": b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad_target": b"GET /a\x01b HTTP/1.1\r\nHost: x\r\n\r\n",
    "bad_chunk": b"POST / HTTP/1.1\r\nHost: x\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    "te_chunked_twice": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                        b"chunked, chunked\r\n\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("sku", ["v1", "v2"])
@pytest.mark.parametrize("name", sorted(BAD_REQUESTS))
def test_gateway_malformed_request_gets_400(gateway, backends, sku, name):
    g, (b,) = simple(gateway, backends, sku)
    out = http_raw(g.port(), BAD_REQUESTS[name])
    assert out.startswith(b"HTTP/1.1 400 ") or \
        out.startswith(b"HTTP/1.0 400 "), out[:200]
    assert out.count(b"HTTP/1.") == 1, "a second response was smuggled"
    server = b"Microsoft-Azure-Application-Gateway/" + sku.encode()
    assert b"Server: " + server in out
    # nothing, or only a request that stopped at the bad body, reached it
    assert all(q["path"] != "/smuggled" for q in traffic(b))
    if name != "bad_chunk":
        assert traffic(b) == []


@pytest.mark.parametrize("sku", ["v1", "v2"])
def test_gateway_oversized_head_rejected(gateway, backends, sku):
    g, (b,) = simple(gateway, backends, sku)
    req = b"GET / HTTP/1.1\r\nHost: x\r\n" + \
        b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 500) for i in range(90)) + \
        b"\r\n"
    out = http_raw(g.port(), req)
    assert out.startswith(b"HTTP/1.1 400 ") or out.startswith(b"HTTP/1.1 431")
    assert (b"Request Header Or Cookie Too Large" in out) == (sku == "v2")
    assert traffic(b) == []


def test_gateway_pipelined_requests_answered_in_order(gateway, backends):
    g, (b,) = simple(gateway, backends)
    out = http_raw(g.port(), b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"GET /two HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    assert out.count(b"HTTP/1.1 200 OK") == 2
    assert out.index(b'"/one"') < out.index(b'"/two"')


def test_gateway_slow_client_times_out(gateway, backends):
    g, _ = simple(gateway, backends, extra_args=["--header-timeout", "1"])
    out = http_raw(g.port(), b"GET / HTTP/1.1\r\nHost: x\r\n", timeout=10)
    assert out == b""
    g.wait_log("client header timeout")


# --- reload, admin, process ------------------------------------------------

def test_gateway_reload_under_traffic_no_failed_request(gateway, backends,
                                                        tmp_path):
    a, b = backends(2)
    cfg = gateway_config(pools=[pool_of([a])], settings=[setting(a.port)])
    g = gateway(cfg)
    failures, statuses, stop = [], [], threading.Event()

    def load():
        c = http.client.HTTPConnection("127.0.0.1", g.port(), timeout=10)
        while not stop.is_set():
            try:
                c.request("GET", "/")
                r = c.getresponse()
                r.read()
                statuses.append(r.status)
                if r.status != 200:
                    failures.append(r.status)
            except Exception as e:  # noqa: BLE001 - any failure counts
                failures.append(repr(e))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", g.port(),
                                               timeout=10)
        c.close()
    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    def answered(n=5, timeout=10.0):
        """Wait until n more requests have been answered."""
        want, deadline = len(statuses) + n, time.monotonic() + timeout
        while len(statuses) < want and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(statuses) >= want, "traffic stalled"
    answered()
    for i in range(4):
        pool = [a, b] if i % 2 == 0 else [b]
        g.write_config(gateway_config(pools=[pool_of(pool)],
                                      settings=[setting(a.port)]))
        st, body = g.admin("/reload", "POST")
        assert st == 200, body
        answered()
    g.signal(signal.SIGHUP)
    g.wait_log("configuration generation 6 loaded")
    answered()
    stop.set()
    for t in threads:
        t.join()
    assert failures == []
    assert len(statuses) > 20
    assert traffic(b), "the new pool never served"


def test_gateway_bad_reload_refused_old_keeps_serving(gateway, backends):
    g, (b,) = simple(gateway, backends)
    g.config_path.write_text('{"properties": {"sku": {"tier": "Nope"}}}')
    st, body = g.admin("/reload", "POST")
    assert st == 409
    status = json.loads(body)
    assert status["last_reload"]["ok"] is False
    assert status["last_reload"]["errors"]
    assert status["generation"] == 1
    g.wait_log("reload refused:")
    assert get(g, "/")[0].status == 200
    st, body = g.admin("/status")
    assert json.loads(body)["last_reload"]["ok"] is False


def two_sites(b, ports):
    """A config with one Http listener and Basic rule per frontend port
    (names port<N>, l<N>, r<N>), all to backend b."""
    return gateway_config(
        pools=[pool_of([b])], settings=[setting(b.port)],
        ports=[{"name": f"port{n}", "port": n} for n in ports],
        listeners=[{"name": f"l{n}", "frontendIPConfiguration": "fip",
                    "frontendPort": f"port{n}", "protocol": "Http"}
                   for n in ports],
        rules=[{"name": f"r{n}", "ruleType": "Basic", "httpListener": f"l{n}",
                "backendAddressPool": "pool1", "backendHttpSettings": "s1"}
               for n in ports])


def refused(port):
    """Whether nothing listens on 127.0.0.1:port."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize("workers", [1, 2])
def test_gateway_reload_adds_and_drops_frontend_ports(gateway, backends,
                                                      workers):
    (b,) = backends(1)
    g = gateway(two_sites(b, [80]), ["--workers", str(workers)])
    old = g.port("port80")
    # Add a port: it listens once the reload is accepted.
    g.write_config(two_sites(b, [80, 8080]))
    st, body = g.admin("/reload", "POST")
    assert st == 200, body
    listeners = json.loads(g.admin("/status")[1])["listeners"]
    assert sorted(x["frontendPort"] for x in listeners) == \
        ["port80", "port8080"]
    ready = g.reread_ready()
    assert ready["generation"] == 2 and len(ready["listeners"]) == 2
    assert g.port("port80") == old
    for port in ("port80", "port8080"):
        for _ in range(8):  # every worker's listener
            assert get(g, "/", port=port)[0].status == 200
    g.wait_log("(frontendPort port8080)")
    # Drop the first: it has stopped listening when the reload answers;
    # the other goes on.
    g.write_config(two_sites(b, [8080]))
    assert g.admin("/reload", "POST")[0] == 200
    assert [x["frontendPort"] for x in g.reread_ready()["listeners"]] == \
        ["port8080"]
    assert refused(old)
    assert get(g, "/", port="port8080")[0].status == 200
    # And add it back.
    g.write_config(two_sites(b, [80, 8080]))
    assert g.admin("/reload", "POST")[0] == 200
    g.reread_ready()
    assert get(g, "/", port="port80")[0].status == 200
    assert json.loads(g.admin("/status")[1])["generation"] == 4


@pytest.mark.parametrize("workers", [1, 2])
def test_gateway_reload_drops_and_adds_back_a_fixed_port(tmp_path, backends,
                                                         workers):
    # Without --ephemeral-ports the port number is the real one: dropping
    # it frees it at once, so adding it back right away binds it again.
    (b,) = backends(1)
    first, second = free_port(), free_port()
    g = Gateway(tmp_path, two_sites(b, [first, second]),
                ["--workers", str(workers)], ephemeral=False)
    g.start()
    try:
        for _ in range(5):
            g.write_config(two_sites(b, [first]))
            st, body = g.admin("/reload", "POST")
            assert st == 200, body
            assert refused(second)
            g.write_config(two_sites(b, [first, second]))
            st, body = g.admin("/reload", "POST")
            assert st == 200, body
            assert get(g, "/", port=f"port{second}")[0].status == 200
    finally:
        g.stop()


def test_gateway_reload_renaming_a_frontend_port_rewrites_the_ready_file(
        gateway, backends):
    (b,) = backends(1)
    g = gateway(two_sites(b, [80]))
    port = g.port("port80")
    renamed = json.loads(json.dumps(two_sites(b, [80])).replace(
        "port80", "web"))
    g.write_config(renamed)
    assert g.admin("/reload", "POST")[0] == 200
    # the same socket under its new name, in the file and in /status
    assert [(x["frontendPort"], x["port"]) for x in
            g.reread_ready()["listeners"]] == [("web", port)]
    assert json.loads(g.admin("/status")[1])["listeners"][0][
        "frontendPort"] == "web"


def held_port(reuseport=False):
    """A socket listening on a free loopback port (SO_REUSEPORT on
    request), as somebody else's server would."""
    s = socket.socket()
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    return s, s.getsockname()[1]


def free_port():
    s, port = held_port()
    s.close()
    return port


def test_gateway_reload_adding_a_taken_port_is_refused(tmp_path, backends):
    (b,) = backends(1)
    holder, taken = held_port()
    first = free_port()
    g = Gateway(tmp_path, two_sites(b, [first]), ephemeral=False)
    g.start()
    try:
        g.write_config(two_sites(b, [first, taken]))
        st, body = g.admin("/reload", "POST")
        assert st == 409
        err = json.loads(body)["last_reload"]["errors"][0]
        assert err == (f"frontendPorts[port{taken}]: 127.0.0.1:{taken}: "
                       "Address already in use"), err
        # Nothing changed: the old port serves, the new one is not ours.
        status = json.loads(g.admin("/status")[1])
        assert status["generation"] == 1
        assert [x["port"] for x in status["listeners"]] == [first]
        assert get(g, "/", port=f"port{first}")[0].status == 200
    finally:
        holder.close()
        g.stop()


def test_gateway_workers_never_share_a_port_with_another_server(tmp_path,
                                                                backends):
    # Several workers listen with SO_REUSEPORT; another process that did
    # the same on the port must not silently get half the connections.
    (b,) = backends(1)
    holder, taken = held_port(reuseport=True)
    try:
        g = Gateway(tmp_path, two_sites(b, [taken]), ["--workers", "2"],
                    ephemeral=False)
        with pytest.raises(AssertionError):
            g.start(timeout=10)
        assert g.proc.wait(10) == 1
        assert f"frontendPorts[port{taken}]: 127.0.0.1:{taken}: Address " \
               "already in use" in g.log_text()
    finally:
        holder.close()


def test_gateway_admin_endpoints(gateway, backends):
    g, (b,) = simple(gateway, backends)
    get(g, "/")
    st, body = g.admin("/status")
    s = json.loads(body)
    assert s["sku"] == "v2" and s["generation"] == 1 and s["workers"] == 1
    assert s["listeners"][0]["port"] == g.port()
    st, body = g.admin("/config")
    assert json.loads(body)["name"] == "gw"
    st, body = g.admin("/metrics")
    assert 'agw_requests_total{listener="l1"' in body
    st, body = g.admin("/backendhealth")
    assert "backendAddressPools" in json.loads(body)


def test_gateway_check_flag(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(gateway_config()))
    cp = run([binary("agw-gateway"), "--config", str(good), "--check"])
    assert cp.stdout.strip().endswith("configuration OK")
    bad = tmp_path / "bad.json"
    cfg = gateway_config()
    cfg["properties"]["requestRoutingRules"][0]["properties"][
        "backendAddressPool"]["id"] += "-missing"
    bad.write_text(json.dumps(cfg))
    cp = run([binary("agw-gateway"), "--config", str(bad), "--check"],
             check=False)
    assert cp.returncode == 1
    assert "requestRoutingRules" in cp.stdout


def test_gateway_workers_and_sigterm_exit_zero(gateway, backends):
    g, _ = simple(gateway, backends, extra_args=["--workers", "3"])
    for _ in range(10):
        assert get(g, "/")[0].status == 200
    assert g.stop() == 0
    assert "stopped" in g.log_text()


def test_gateway_access_log_json_lines(gateway, backends, tmp_path):
    log = tmp_path / "access.log"
    g, _ = simple(gateway, backends, extra_args=["--access-log", str(log)])
    get(g, "/x")
    get(g, "/status/500")
    g.stop()
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    assert [l["status"] for l in lines] == [200, 500]
    assert lines[0]["rule"] == "r1" and lines[0]["pool"] == "pool1"
    assert lines[1]["upstream_status"] == 500


def test_gateway_sigterm_finishes_in_flight_request(gateway, backends):
    g, (b,) = simple(gateway, backends)
    result = {}

    def slow():
        result["r"] = get(g, "/sleep/1.5")
    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 10
    while not any(q["path"] == "/sleep/1.5" for q in traffic(b)):
        assert time.monotonic() < deadline, "request never forwarded"
        time.sleep(0.01)
    g.signal(signal.SIGTERM)
    t.join()
    r, data = result["r"]
    assert r.status == 200
    assert g.stop() == 0


def test_gateway_http10_head_and_expect_continue(gateway, backends):
    g, (b,) = simple(gateway, backends)
    out = http_raw(g.port(), b"GET /ten HTTP/1.0\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert b'"/ten"' in out
    out = http_raw(g.port(), b"HEAD /h HTTP/1.1\r\nHost: x\r\n"
                             b"Connection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b"\r\n\r\n")
    import socket
    s = socket.create_connection(("127.0.0.1", g.port()), timeout=10)
    s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
              b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
    s.sendall(b"hello")
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    assert b"HTTP/1.1 200 OK" in out
    assert json.loads(out.split(b"\r\n\r\n")[-1])["body_len"] == 5


def test_gateway_draining_member_keeps_affinity(gateway, backends):
    a, b = backends(2)
    drain = {"enabled": True, "drainTimeoutInSec": 60}
    cfg = gateway_config(pools=[pool_of([a, b])],
                         settings=[setting(a.port, cookieBasedAffinity=
                                           "Enabled",
                                           connectionDraining=drain)])
    g = gateway(cfg)
    r, data = get(g, "/")
    first = json.loads(data)["server"]
    value = [c for c in r.msg.get_all("Set-Cookie")
             if c.startswith("ApplicationGatewayAffinity=")][0]
    value = value.split(";")[0].split("=", 1)[1]
    gone, stay = (a, b) if first == a.name else (b, a)
    g.write_config(gateway_config(pools=[pool_of([stay])],
                                  settings=[setting(a.port,
                                                    cookieBasedAffinity=
                                                    "Enabled",
                                                    connectionDraining=
                                                    drain)]))
    st, body = g.admin("/reload", "POST")
    assert st == 200, body
    r, data = get(g, "/", {"Cookie": f"ApplicationGatewayAffinity={value}"})
    assert json.loads(data)["server"] == gone.name
    r, data = get(g, "/")
    assert json.loads(data)["server"] == stay.name
