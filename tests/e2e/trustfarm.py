"""Helpers shared by test_probe.py and test_trust.py (no tests here): a
PKI minted by agw-certs, a farm of agw-sim backends on one port across
127.0.N.x addresses, a gateway with fast probes, and waits on the admin API
(/backendhealth), never on sleeps."""
import http.client
import json
import random
import socket
import time
import urllib.request
from pathlib import Path

from agwtest import Gateway, Proc, binary, gateway_config, run

# Every probe interval/timeout is multiplied by this (30 s -> 1.5 s):
# short enough for fast tests, long enough that a loaded CI machine does
# not turn slow handshakes into probe timeouts.
SCALE = "0.05"


def mint_pki(d):
    """agw-certs generate --out d; returns d (a Path)."""
    d = Path(d)
    run([binary("agw-certs"), "generate", "--out", str(d)])
    return d


def cer(pki, item):
    """The base64 DER of an item's certificate (ARM "data")."""
    return (Path(pki) / f"{item}.cer").read_text().strip()


def free_port_net():
    """A random 127.0.N.0/24 (N in 20..250) and a port free on its .1, so
    one test's backends share one port on distinct addresses."""
    for _ in range(50):
        n = random.randint(20, 250)
        s = socket.socket()
        try:
            s.bind((f"127.0.{n}.1", 0))
            return n, s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise AssertionError("no free loopback port")


class Farm:
    """agw-sim with backends NAME -> (address suffix, tls variant or None,
    behaviour or None) on 127.0.N.suffix:PORT (one port for all)."""

    def __init__(self, tmp_path, pki, backends, name="sim"):
        self.net, self.port = free_port_net()
        spec = {"manifest": str(Path(pki) / "manifest.json"),
                "backends": []}
        self.addr = {}
        for bname, (suffix, variant, behaviour) in backends.items():
            a = f"127.0.{self.net}.{suffix}"
            self.addr[bname] = a
            b = {"name": bname, "listen": f"{a}:{self.port}"}
            if variant:
                b["protocol"] = "https"
                b["tls"] = {"variant": variant}
            if behaviour:
                b["behaviour"] = behaviour
            spec["backends"].append(b)
        f = Path(tmp_path) / f"{name}.farm.json"
        f.write_text(json.dumps(spec))
        self.proc = Proc([binary("agw-sim"), "--farm", str(f)], tmp_path,
                         name)

    def start(self):
        self.proc.start()
        self.control = self.proc.ready_json()["control"]
        return self

    def stop(self):
        self.proc.stop()

    def call(self, path, method="GET", body=None):
        data = json.dumps(body).encode() if body is not None else (
            b"" if method in ("POST", "PUT") else None)
        req = urllib.request.Request(f"http://{self.control}{path}",
                                     data=data, method=method)
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read().decode())

    def backend(self, name):
        return self.call(f"/backends/{name}")

    def behaviour(self, name, behaviour):
        return self.call(f"/backends/{name}/behaviour", "PUT", behaviour)

    def tls(self, name, variant, pki):
        return self.call(f"/backends/{name}/tls", "PUT",
                         {"variant": variant,
                          "manifest": str(Path(pki) / "manifest.json")})


def https_settings(name="s1", port=443, **props):
    s = {"name": name, "port": port, "protocol": "Https",
         "cookieBasedAffinity": "Disabled", "requestTimeout": 5}
    s.update(props)
    return s


def http_settings(name="s1", port=80, **props):
    s = {"name": name, "port": port, "protocol": "Http",
         "cookieBasedAffinity": "Disabled", "requestTimeout": 5}
    s.update(props)
    return s


def probe(name="p1", protocol="Http", **props):
    p = {"name": name, "protocol": protocol, "path": "/", "interval": 30,
         "timeout": 30, "unhealthyThreshold": 3,
         "pickHostNameFromBackendHttpSettings": False, "minServers": 0}
    p.update(props)
    return p


def config(sku, members, settings, **extra):
    """gateway_config with one pool of members and one setting."""
    return gateway_config(sku=sku, members=members, settings=[settings],
                          **extra)


def start_gateway(tmp_path, cfg, pki, extra=(), name="gw", debug=True):
    g = Gateway(tmp_path, cfg, ["--probe-scale", SCALE, "--workers", "1",
                                "--well-known-cas",
                                str(Path(pki) / "public-root.pem")]
                + (["--debug-headers"] if debug else []) + list(extra),
                name=name)
    g.start()
    return g


def servers(g):
    """{address: server} of every server in /backendhealth."""
    status, body = g.admin("/backendhealth")
    assert status == 200, body
    out = {}
    for p in json.loads(body)["backendAddressPools"]:
        for s in p["backendHttpSettingsCollection"]:
            for srv in s["servers"]:
                out[srv["address"]] = srv
    return out


def wait_health(g, address, health, text=None, timeout=30.0):
    """Poll /backendhealth until address shows health (and text, when
    given, as a substring of healthProbeLog). Returns the server."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = servers(g).get(address)
        if last is not None and last["health"] == health and (
                text is None or text in last.get("healthProbeLog", "")):
            return last
        time.sleep(0.02)
    raise AssertionError(f"{address} not {health} ({text!r}): {last}\n"
                         f"{g.log_text()[-3000:]}")


def get(g, path="/", host="client.test", port="port80"):
    """(status, headers dict, body) of one request through the gateway."""
    c = http.client.HTTPConnection("127.0.0.1", g.port(port), timeout=15)
    try:
        c.request("GET", path, headers={"Host": host})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, \
            r.read().decode(errors="replace")
    finally:
        c.close()


# The service's texts (spec section 4), for exact comparisons.
TEXT = {
    "connect": "Application Gateway could not connect to the backend. "
               "Check that the backend responds on the port used for the "
               "probe. Also check whether any NSG/UDR/Firewall is "
               "blocking access to the Ip and port of this backend.",
    "timeout": "Time taken by the backend to respond to application "
               "gateway's health probe is more than the timeout threshold "
               "in the probe setting.",
    "dns": "Application Gateway could not create a probe for this backend. "
           "This usually happens when the FQDN of the backend is not "
           "entered correctly.",
    "status": "Status code of the backend's HTTP response did not match "
              "the probe setting. Expected:{e} Received:{r}.",
    "body": "Body of the backend's HTTP response did not match the probe "
            "setting. Received response body doesn't contain {s}.",
    "v1_whitelist": "Backend server certificate is not whitelisted with "
                    "Application Gateway.",
    "v1_cn": "The Common Name (CN) of the backend certificate doesn't "
             "match.",
    "v2_cn": "The Common Name of the leaf certificate presented by the "
             "backend server does not match the Probe or Backend Setting "
             "hostname of the application gateway.",
    "expired": "Backend certificate is invalid. Current date isn't within "
               "the \"Valid from\" and \"Valid to\" date range on the "
               "certificate.",
    "int_missing": "The Intermediate certificate is missing from the "
                   "certificate chain presented by the backend server. "
                   "Ensure the certificate chain is complete and correctly "
                   "ordered on the backend server.",
    "leaf_not_first": "The Leaf certificate isn't the topmost certificate "
                      "in the chain presented by the backend server. Ensure "
                      "the certificate chain is correctly ordered on the "
                      "backend server.",
    "root_mismatch_no_root": "The Intermediate certificate not signed by "
                             "any Root certificates uploaded to the "
                             "application gateway. Ensure the certificate "
                             "chain is complete and correctly ordered on "
                             "the backend server.",
    "leaf_not_well_known": "The backend Server certificate isn't signed by "
                           "a well-known Certificate Authority (CA). To use "
                           "unknown CA certificates, its Root certificate "
                           "must be uploaded to the Backend Setting of the "
                           "application gateway.",
}
