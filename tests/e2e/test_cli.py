"""agw, the az command line, end to end: every group and verb, the
documentation's command lines verbatim, refusals that leave the state
byte-identical, the state loading in agw-gateway, start/reload/stop."""
import json
import os
import re
import signal
import socket
from pathlib import Path

import pytest

from agwtest import binary, run

RG = "rg"


class Agw:
    """Runs agw with AGW_HOME in a test's tmp_path."""

    def __init__(self, tmp_path):
        self.tmp = Path(tmp_path)
        self.home = self.tmp / "home"
        self.env = dict(os.environ, AGW_HOME=str(self.home))
        self.cwd = None

    def __call__(self, *args, rc=0):
        line = args[0].split() if len(args) == 1 else list(args)
        cp = run([binary("agw")] + line, check=False, env=self.env,
                 cwd=self.cwd)
        assert rc is None or cp.returncode == rc, (
            f"agw {' '.join(line)} exited {cp.returncode}, want {rc}\n"
            f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
        return cp

    def json(self, *args):
        return json.loads(self(*args).stdout)

    def state(self, gw):
        return self.home / RG / f"{gw}.json"


@pytest.fixture
def agw(tmp_path):
    return Agw(tmp_path)


def make_cert(tmp_path, cn, name):
    """A self-signed EC certificate: NAME.pem, NAME.cer (DER), NAME.key,
    NAME.pfx (password 'pw')."""
    d = Path(tmp_path)
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-keyout", d / f"{name}.key",
         "-out", d / f"{name}.pem", "-subj", f"/CN={cn}", "-days", "2"])
    run(["openssl", "x509", "-in", d / f"{name}.pem", "-outform", "DER",
         "-out", d / f"{name}.cer"])
    run(["openssl", "pkcs12", "-export", "-in", d / f"{name}.pem", "-inkey",
         d / f"{name}.key", "-out", d / f"{name}.pfx", "-passout", "pass:pw"])
    return d / f"{name}.cer"


def check_loads(path):
    """The gateway's own --check accepts the state agw wrote."""
    cp = run([binary("agw-gateway"), "--check", "--config", str(path)],
             check=False)
    assert cp.returncode == 0, cp.stdout + cp.stderr
    assert "configuration OK" in cp.stdout + cp.stderr


def v1(agw, name="gw1"):
    agw(f"network application-gateway create -g {RG} -n {name} "
        "--sku Standard_Medium --servers 127.0.1.1 b1.backend.test -o none")
    return agw.state(name)


def v2(agw, name="gw2"):
    agw(f"network application-gateway create -g {RG} -n {name} "
        "--sku Standard_v2 --priority 100 --servers 127.0.1.1 -o none")
    return agw.state(name)


def test_cli_create_v1_makes_az_defaults(agw):
    path = v1(agw)
    gw = agw.json(f"show -g {RG} -n gw1")
    assert gw["sku"] == {"name": "Standard_Medium", "tier": "Standard",
                         "capacity": 2}
    assert gw["provisioningState"] == "Succeeded"
    assert gw["etag"].startswith('W/"')
    names = {k: [e["name"] for e in gw[k]] for k in (
        "frontendIPConfigurations", "frontendPorts", "backendAddressPools",
        "backendHttpSettingsCollection", "httpListeners",
        "requestRoutingRules")}
    assert names == {
        "frontendIPConfigurations": ["appGatewayFrontendIP"],
        "frontendPorts": ["appGatewayFrontendPort"],
        "backendAddressPools": ["appGatewayBackendPool"],
        "backendHttpSettingsCollection": ["appGatewayBackendHttpSettings"],
        "httpListeners": ["appGatewayHttpListener"],
        "requestRoutingRules": ["rule1"]}
    assert gw["backendAddressPools"][0]["backendAddresses"] == [
        {"ipAddress": "127.0.1.1"}, {"fqdn": "b1.backend.test"}]
    rule = gw["requestRoutingRules"][0]
    assert rule["backendAddressPool"]["id"] == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
        "rg/providers/Microsoft.Network/applicationGateways/gw1/"
        "backendAddressPools/appGatewayBackendPool")
    assert "priority" not in rule
    check_loads(path)


def test_cli_create_v2_needs_priority(agw):
    cp = agw(f"create -g {RG} -n gw2 --sku Standard_v2", rc=2)
    assert "the following arguments are required: --priority" in cp.stderr
    assert not agw.state("gw2").exists()
    path = v2(agw)
    gw = json.loads(path.read_text())
    assert gw["sku"]["tier"] == "Standard_v2"
    assert gw["requestRoutingRules"][0]["priority"] == 100
    check_loads(path)


def test_cli_doc_auth_cert_commands_verbatim_v1(agw, tmp_path):
    path = v1(agw)
    cer = make_cert(tmp_path, "b1.backend.test", "backend")
    cer2 = make_cert(tmp_path, "b1.backend.test", "backend2")
    agw.cwd = tmp_path  # the documentation passes a relative file
    agw("network application-gateway auth-cert create --resource-group "
        f"{RG} --gateway-name gw1 --name mycert --cert-file {cer.name}")
    lst = agw.json("network application-gateway auth-cert list "
                   f"--resource-group {RG} --gateway-name gw1")
    assert [c["name"] for c in lst] == ["mycert"]
    before = lst[0]["data"]
    upd = agw.json("network application-gateway auth-cert update "
                   f"--resource-group {RG} --gateway-name gw1 --name mycert "
                   f"--cert-file {cer2.name}")
    assert upd["data"] != before
    hs = agw.json("network application-gateway http-settings create "
                  f"--resource-group {RG} --gateway-name gw1 --name hs443 "
                  "--port 443 --protocol Https --auth-certs mycert")
    assert hs["authenticationCertificates"][0]["id"].endswith(
        "/authenticationCertificates/mycert")
    check_loads(path)
    # still referenced: the delete is refused and changes nothing
    saved = path.read_bytes()
    cp = agw("network application-gateway auth-cert delete "
             f"--resource-group {RG} --gateway-name gw1 --name mycert", rc=1)
    assert "Code: InvalidResourceReference" in cp.stderr
    assert path.read_bytes() == saved
    agw(f"http-settings delete -g {RG} --gateway-name gw1 -n hs443")
    agw("network application-gateway auth-cert delete "
        f"--resource-group {RG} --gateway-name gw1 --name mycert")
    assert agw.json(f"auth-cert list -g {RG} --gateway-name gw1") == []


def test_cli_auth_cert_on_v2_refused_byte_identical(agw, tmp_path):
    path = v2(agw)
    cer = make_cert(tmp_path, "b1.backend.test", "backend")
    saved = path.read_bytes()
    cp = agw("network application-gateway auth-cert create "
             f"--resource-group {RG} --gateway-name gw2 --name c1 "
             f"--cert-file {cer}", rc=1)
    assert cp.stderr.startswith(
        "(ApplicationGatewayFeatureCannotBeEnabledForSelectedSku) ")
    assert "Code: ApplicationGatewayFeatureCannotBeEnabledForSelectedSku" \
        in cp.stderr
    assert ("does not support AuthenticationCertificates for the selected "
            "SKU tier Standard_v2. Supported SKU tiers are Standard,WAF."
            in cp.stderr)
    assert path.read_bytes() == saved


def test_cli_root_cert_v2_http_settings_without_auth_certs(agw, tmp_path):
    path = v2(agw)
    pem = make_cert(tmp_path, "root", "root").with_suffix(".pem")
    agw(f"network application-gateway root-cert create --resource-group {RG}"
        f" --gateway-name gw2 --name myroot --cert-file {pem} -o none")
    saved = path.read_bytes()
    cp = agw(f"http-settings create -g {RG} --gateway-name gw2 -n hs443 "
             "--port 443 --protocol Https --root-certs myroot", rc=1)
    assert "--host-name" in cp.stderr
    assert path.read_bytes() == saved
    hs = agw.json(f"network application-gateway http-settings create -g {RG}"
                  " --gateway-name gw2 -n hs443 --port 443 --protocol Https "
                  "--root-certs myroot --host-name-from-backend-pool true")
    assert hs["trustedRootCertificates"][0]["id"].endswith("/myroot")
    assert hs["validateSNI"] is True
    agw(f"network application-gateway http-settings create -g {RG} "
        "--gateway-name gw2 -n plain443 --port 443 --protocol Https -o none")
    check_loads(path)


def test_cli_missing_and_unknown_arguments_exit_2(agw):
    v1(agw)
    cp = agw(f"auth-cert create -g {RG} --gateway-name gw1 -n c1", rc=2)
    assert "the following arguments are required: --cert-file" in cp.stderr
    cp = agw(f"auth-cert create -g {RG} -n c1", rc=2)
    assert "required: --gateway-name" in cp.stderr
    cp = agw(f"probe create -g {RG} --gateway-name gw1 -n p --bogus 1", rc=2)
    assert "unrecognized arguments: --bogus" in cp.stderr
    cp = agw("network application-gateway nonsense list", rc=2)
    assert "misspelled or not recognized" in cp.stderr
    cp = agw("network vpn-gateway list", rc=2)
    assert "'vpn-gateway' is misspelled or not recognized" in cp.stderr
    cp = agw(f"http-settings create -g {RG} --gateway-name gw1 -n h "
             "--port 0", rc=2)
    assert "--port: must be between 1 and 65535" in cp.stderr


def test_cli_not_found_exit_3(agw):
    agw(f"show -g {RG} -n nope", rc=3)
    v1(agw)
    cp = agw(f"probe show -g {RG} --gateway-name gw1 -n nope", rc=3)
    assert "(NotFound) Item 'nope' not found in probes of application " \
        f"gateway 'gw1' of resource group '{RG}'." in cp.stderr
    cp = agw(f"auth-cert delete -g {RG} --gateway-name gw1 -n nope", rc=3)
    assert "Item 'nope' not found in authenticationCertificates" in cp.stderr
    cp = agw(f"url-path-map rule show -g {RG} --gateway-name gw1 "
             "--path-map-name m -n r", rc=3)
    assert "Item 'm' not found in urlPathMaps" in cp.stderr


SUBS = [
    # group, create args, update args, (key, value after update)
    ("frontend-port", "--port 8080", "--port 8081", ("port", 8081)),
    ("frontend-ip", "", "", ("name", "x")),
    ("address-pool", "--servers 127.0.1.2 app.backend.test",
     "--servers 127.0.1.3", ("backendAddresses", [{"ipAddress": "127.0.1.3"}])),
    ("probe", "--protocol Http --host h.test --path /health",
     "--path /ready", ("path", "/ready")),
    ("http-settings", "--port 8443 --protocol Https --timeout 30",
     "--timeout 40", ("requestTimeout", 40)),
    ("ssl-cert", "--cert-file {pfx} --cert-password pw",
     "--cert-password pw", ("password", "pw")),
    ("root-cert", "--cert-file {pem}", "--cert-file {pem}", ("name", "x")),
]


@pytest.mark.parametrize("group,cargs,uargs,after", SUBS,
                         ids=[s[0] for s in SUBS])
def test_cli_group_verbs(agw, tmp_path, group, cargs, uargs, after):
    path = v2(agw)
    make_cert(tmp_path, "www.test", "site")
    fmt = {"pfx": tmp_path / "site.pfx", "pem": tmp_path / "site.pem"}
    base = f"network application-gateway {group}"
    common = f"-g {RG} --gateway-name gw2 -n x"
    made = agw.json(f"{base} create {common} {cargs.format(**fmt)}")
    assert made["name"] == "x"
    assert made["id"].endswith("/x")
    assert made["provisioningState"] == "Succeeded"
    assert "x" in [e["name"] for e in agw.json(
        f"{base} list -g {RG} --gateway-name gw2")]
    upd = agw.json(f"{base} update {common} {uargs.format(**fmt)}")
    assert upd[after[0]] == after[1]
    assert upd["etag"] != made["etag"]
    assert agw.json(f"{base} show {common}")[after[0]] == after[1]
    check_loads(path)
    agw(f"{base} delete {common}")
    assert "x" not in [e["name"] for e in agw.json(
        f"{base} list -g {RG} --gateway-name gw2")]
    check_loads(path)


def test_cli_new_frontend_port_on_a_running_gateway(agw):
    # The documentation's way to add a site: a frontend port, a listener,
    # a rule; the running gateway listens on the new port at once.
    v2(agw)
    g = f"-g {RG} --gateway-name gw2"
    agw.json(f"network application-gateway start -g {RG} -n gw2")
    pid = json.loads((agw.home / RG / "gw2.run.json").read_text())["pid"]
    try:
        agw(f"frontend-port create {g} -n p8080 --port 8080 -o none")
        cp = agw(f"http-listener create {g} -n l2 --frontend-port p8080 "
                 "-o none")
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(frontendPort "
                      r"p8080, port 8080, Http\)", cp.stderr)
        assert m, cp.stderr
        run = json.loads((agw.home / RG / "gw2.run.json").read_text())
        assert {"frontendPort": "p8080", "configured": 8080,
                "address": "127.0.0.1", "port": int(m.group(1)),
                "protocol": "Http"} in run["listeners"]
        # `start` on the running gateway shows it too.
        shown = agw.json(f"network application-gateway start -g {RG} "
                         "-n gw2")
        assert int(m.group(1)) in [x["port"] for x in shown]
        agw(f"rule create {g} -n r2 --http-listener l2 --priority 200 "
            "-o none")
        with socket.create_connection(("127.0.0.1", int(m.group(1))),
                                      timeout=10) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: close\r\n\r\n")
            head = s.recv(12)
        assert head.startswith(b"HTTP/1.1 "), head  # served (502: no
        # backend on 127.0.1.1 here), not refused
        cp = agw(f"rule delete {g} -n r2")
        cp = agw(f"http-listener delete {g} -n l2")
        assert f"no longer listening on 127.0.0.1:{m.group(1)} (frontendPort " \
            "p8080, port 8080, Http)" in cp.stderr, cp.stderr
    finally:
        stop = agw(f"stop -g {RG} -n gw2", rc=None)
        if stop.returncode != 0:
            os.kill(pid, signal.SIGKILL)


def test_cli_listener_rule_and_path_maps(agw):
    path = v2(agw)
    g = f"-g {RG} --gateway-name gw2"
    agw(f"frontend-port create {g} -n p8080 --port 8080 -o none")
    lsn = agw.json(f"http-listener create {g} -n l2 --frontend-port p8080 "
                   "--host-name www.test")
    assert lsn["frontendIPConfiguration"]["id"].endswith(
        "/appGatewayFrontendIP")  # the only one
    assert lsn["protocol"] == "Http"
    agw(f"http-listener update {g} -n l2 --host-name api.test -o none")
    upm = agw.json(f"url-path-map create {g} -n map1 --paths /images/* "
                   "--rule-name images")
    assert upm["pathRules"][0]["name"] == "images"
    assert upm["pathRules"][0]["paths"] == ["/images/*"]
    assert upm["defaultBackendAddressPool"]["id"].endswith(
        "/appGatewayBackendPool")
    pr = agw.json(f"url-path-map rule create {g} --path-map-name map1 "
                  "-n video --paths /video/*")
    assert pr["backendHttpSettings"]["id"].endswith(
        "/appGatewayBackendHttpSettings")
    assert [r["name"] for r in agw.json(
        f"url-path-map rule list {g} --path-map-name map1")] == [
            "images", "video"]
    rule = agw.json(f"rule create {g} -n r2 --http-listener l2 "
                    "--rule-type PathBasedRouting --priority 200")
    assert rule["urlPathMap"]["id"].endswith("/urlPathMaps/map1")
    check_loads(path)
    agw(f"url-path-map rule delete {g} --path-map-name map1 -n video")
    agw(f"rule update {g} -n r2 --priority 300 -o none")
    assert agw.json(f"rule show {g} -n r2 --query priority") == 300
    agw(f"rule delete {g} -n r2")
    agw(f"url-path-map delete {g} -n map1")
    agw(f"http-listener delete {g} -n l2")
    check_loads(path)


def test_cli_output_table_tsv_query(agw):
    v1(agw)
    g = f"-g {RG} --gateway-name gw1"
    agw(f"frontend-port create {g} -n p2 --port 8080 -o none")
    tsv = agw(f"frontend-port list {g} --query [].port -o tsv").stdout
    assert tsv == "80\n8080\n"
    table = agw(f"frontend-port list {g} -o table").stdout.splitlines()
    assert table[0].split() == ["Name", "ProvisioningState", "Port"]
    assert table[1].startswith("-")
    assert table[3].split() == ["p2", "Succeeded", "8080"]
    q = agw.json("frontend-port", "list", "-g", RG, "--gateway-name", "gw1",
                 "--query", "[?port==`8080`].name")
    assert q == ["p2"]
    q = agw.json("show", "-g", RG, "-n", "gw1", "--query",
                 "{tier: sku.tier, pools: backendAddressPools[].name}")
    assert q == {"tier": "Standard", "pools": ["appGatewayBackendPool"]}
    gws = agw.json("list")
    assert [g["name"] for g in gws] == ["gw1"]


def test_cli_write_keeps_backup(agw):
    path = v1(agw)
    first = path.read_bytes()
    agw(f"frontend-port create -g {RG} --gateway-name gw1 -n p2 --port 81 "
        "-o none")
    assert Path(str(path) + ".bak").read_bytes() == first
    assert path.read_bytes() != first


@pytest.mark.parametrize("line", [
    "--help",
    "network --help",
    "network application-gateway --help",
    "auth-cert --help",
    "network application-gateway probe create --help",
    "create --help",
    "url-path-map rule create --help",
])
def test_cli_help_every_level(agw, line):
    cp = agw(line)
    assert "usage:" in cp.stdout
    assert cp.stderr == ""
    if "probe create" in line:
        assert "--timeout" in cp.stdout and "default 120" in cp.stdout
        assert "--port" in cp.stdout and "SKUs v2" in cp.stdout


def test_cli_help_says_which_v2_arguments_v1_refuses_or_ignores(agw):
    out = agw("http-settings create --help").stdout
    lines = out.splitlines()

    def skus(arg):
        line = next(x for x in lines if x.strip().startswith(arg + " "))
        return line.split("SKUs ", 1)[1]
    assert skus("--root-certs") == "v2"
    assert skus("--sni-name") == "v2 (other SKUs: kept, ignored, with a " \
        "warning)"
    # and so they behave
    v1(agw)
    g = f"-g {RG} --gateway-name gw1"
    cp = agw(f"http-settings update {g} -n appGatewayBackendHttpSettings "
             "--sni-name x.test -o none")
    assert "sniName: not used on v1" in cp.stderr
    cp = agw(f"http-settings update {g} -n appGatewayBackendHttpSettings "
             "--root-certs r1", rc=1)
    assert "ApplicationGatewayFeatureCannotBeEnabledForSelectedSku" in \
        cp.stderr


def test_cli_start_reload_health_stop(agw):
    v2(agw)
    out = agw.json(f"network application-gateway start -g {RG} -n gw2")
    assert out and out[0]["port"] > 0
    runj = json.loads((agw.home / RG / "gw2.run.json").read_text())
    pid = runj["pid"]
    try:
        cp = agw(f"address-pool update -g {RG} --gateway-name gw2 "
                 "-n appGatewayBackendPool --servers 127.0.1.9 -o none")
        assert "gateway reloaded (generation 2)" in cp.stderr
        health = agw.json(f"show-backend-health -g {RG} -n gw2")
        pool = health["backendAddressPools"][0]
        assert pool["backendAddressPool"]["id"].endswith(
            "/appGatewayBackendPool")
        servers = pool["backendHttpSettingsCollection"][0]["servers"]
        assert [s["address"] for s in servers] == ["127.0.1.9"]
    finally:
        stop = agw(f"stop -g {RG} -n gw2", rc=None)
        if stop.returncode != 0:  # leave nothing running behind
            os.kill(pid, signal.SIGKILL)
    assert stop.returncode == 0, stop.stderr
    assert not Path(f"/proc/{pid}").exists() or \
        "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
    cp = agw(f"show-backend-health -g {RG} -n gw2", rc=1)
    assert "ApplicationGatewayNotRunning" in cp.stderr
