"""Tests of the scenario driver itself (tests/e2e/agwscenario.py): parsing,
variable substitution, expectations and failure messages, ARM fragments,
the matrix expansion and rendering. Pure Python: no process is started."""
import json
from pathlib import Path

import pytest
import yaml

import agwscenario as d
from agwscenario import ScenarioError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
sku: v2
farm:
  backends:
    - {name: b1}
gateway:
  arm:
    backendAddressPools: [{name: pool, backendAddresses: [{ipAddress: "${b1.ip}"}]}]
steps:
  - send: {count: 2}
    expect: {status: 200}
"""


def resp(status=200, backend="b1", reason=None, body=b"", headers=None):
    h = {"x-backend": backend} if backend else {}
    if reason:
        h["x-agw-reason"] = reason
    h.update({k.lower(): v for k, v in (headers or {}).items()})
    return d.Resp(status, h, body)


# ---- parsing ---------------------------------------------------------------


def test_scenario_driver_parses_minimal_scenario_with_defaults():
    doc = d.load_scenario(MINIMAL, "scenarios/x-basic.yaml")
    assert doc["name"] == "x-basic"
    assert doc["markers"] == ["v2"]
    assert doc["certs"] == "default"
    assert doc["farm"]["backends"][0]["protocol"] == "http"


def test_scenario_driver_https_backend_needs_a_variant():
    text = MINIMAL.replace("{name: b1}", "{name: b1, protocol: https}")
    with pytest.raises(ScenarioError, match=r"x.yaml: farm.backends\[0\].tls"):
        d.load_scenario(text, "x.yaml")


def test_scenario_driver_rejects_unknown_top_level_key():
    with pytest.raises(ScenarioError, match="unknown key 'stepz'"):
        d.load_scenario(MINIMAL + "stepz: []\n", "x.yaml")


def test_scenario_driver_rejects_bad_sku():
    with pytest.raises(ScenarioError, match="sku: must be v1 or v2"):
        d.load_scenario(MINIMAL.replace("sku: v2", "sku: v3"), "x.yaml")


def test_scenario_driver_rejects_step_with_two_kinds():
    text = MINIMAL + "  - {down: b1, up: b1}\n"
    with pytest.raises(ScenarioError, match=r"steps\[1\]: a step has exactly"):
        d.load_scenario(text, "x.yaml")


def test_scenario_driver_checks_steps_nested_in_load():
    text = MINIMAL + "  - load: {during: [{bogus: 1}]}\n"
    with pytest.raises(ScenarioError,
                       match=r"steps\[1\].load.during\[0\]"):
        d.load_scenario(text, "x.yaml")


def test_scenario_driver_rejects_duplicate_backend_names():
    text = MINIMAL.replace("- {name: b1}", "- {name: b1}\n    - {name: b1}")
    with pytest.raises(ScenarioError, match="'b1' twice"):
        d.load_scenario(text, "x.yaml")


def test_scenario_driver_reports_yaml_syntax_errors_with_the_file():
    with pytest.raises(ScenarioError, match="x.yaml: not valid YAML"):
        d.load_scenario("sku: [v2", "x.yaml")


def test_scenario_driver_every_library_file_parses():
    files = sorted((ROOT / "scenarios").glob("*.yaml"))
    assert len(files) >= 30
    for f in files:
        if f.name == "matrix.yaml":
            continue
        doc = d.load_scenario(f.read_text(), f.name)
        assert doc["description"], f.name


# ---- variables -------------------------------------------------------------


def test_scenario_driver_substitutes_inside_strings_and_keeps_types():
    v = {"port": 8443, "b1.ip": "127.10.1.1"}
    out = d.substitute({"port": "${port}", "url": "http://${b1.ip}:${port}/",
                        "list": ["${b1.ip}"]}, v)
    assert out == {"port": 8443, "url": "http://127.10.1.1:8443/",
                   "list": ["127.10.1.1"]}


def test_scenario_driver_unknown_variable_names_path_and_near_names():
    v = {"b1.ip": "x", "b1.port": 1}
    with pytest.raises(ScenarioError) as e:
        d.substitute({"steps": [{"send": {"path": "/${b1.ipp}"}}]}, v)
    msg = str(e.value)
    assert "${b1.ipp}" in msg and "steps[0].send.path" in msg
    assert "b1.ip" in msg


def test_scenario_driver_no_variable_leaves_text_alone():
    assert d.substitute("price $5 {x}", {}) == "price $5 {x}"


# ---- counts and cells ------------------------------------------------------


@pytest.mark.parametrize("spec,n,ok", [
    (5, 5, True), (5, 4, False), ("4..6", 6, True), ("4..6", 7, False),
    (">=1", 0, False), (">=1", 9, True), ("<=2", 3, False),
    ("10±2", 8, True), ("10+-2", 13, False), (">0", 1, True)])
def test_scenario_driver_count_specs(spec, n, ok):
    assert d.count_ok(spec, n) is ok


def test_scenario_driver_bad_count_spec_says_the_grammar():
    with pytest.raises(ScenarioError, match="use N, A..B"):
        d.parse_count("lots")


def test_scenario_driver_parses_matrix_cells():
    assert d.parse_cell(200) == {"status": 200, "reason": "ok", "code": None}
    assert d.parse_cell("502 v2.verify_failed 68") == {
        "status": 502, "reason": "v2.verify_failed", "code": 68}
    assert d.cell_str(d.parse_cell("502 v2.verify_failed 68")) == \
        "502 v2.verify_failed 68"
    with pytest.raises(ScenarioError, match="status first"):
        d.parse_cell("v2.cn_mismatch 502")


# ---- expectations and failure messages --------------------------------------


def test_scenario_driver_backends_exact_counts_pass():
    rs = [resp(backend=b) for b in ["b1", "b2"] * 5]
    assert d.check_responses({"backends": {"b1": 5, "b2": 5}}, rs) == []


def test_scenario_driver_backends_mismatch_says_expected_and_got():
    rs = [resp(backend="b1")] * 7 + [resp(backend="b2")] * 3
    probs = d.check_responses({"backends": {"b1": 5, "b2": "5±1"}}, rs)
    assert any("b1 expected 5 of 10, got 7" in p for p in probs)
    assert any("b2 expected 5±1 of 10, got 3" in p for p in probs)


def test_scenario_driver_unlisted_backend_is_a_failure():
    rs = [resp(backend="b1"), resp(backend="b3")]
    probs = d.check_responses({"backends": {"b1": ">=1"}}, rs)
    assert probs == ["backends: b3 answered 1 of 2, expected none "
                     "(all: {'b1': 1, 'b3': 1})"]


def test_scenario_driver_status_failure_summarises_what_came_back():
    rs = [resp(502, reason="v2.cn_mismatch")] * 2 + [resp(200)]
    probs = d.check_responses({"status": 200}, rs)
    assert probs == ["status: expected 200 on all 3, got "
                     "502 v2.cn_mismatch x2, 200 x1"]


def test_scenario_driver_connection_errors_count_as_failed():
    rs = [d.Resp(error="ConnectionResetError: reset"), resp(200)]
    assert d.check_responses({"failed": 0}, rs) == [
        "failed: expected 0, got 1 of 2 (0 (ConnectionResetError: reset) x1,"
        " 200 x1)"]


def test_scenario_driver_v2_page_must_match_exactly():
    page = d.PAGES["v2-502"].encode()
    good = resp(502, backend=None, body=page, headers={
        "Server": "Microsoft-Azure-Application-Gateway/v2"})
    assert d.check_responses({"page": "v2-502"}, [good]) == []
    bad = resp(502, backend=None, body=b"<html>oops</html>", headers={
        "Server": "nginx"})
    probs = d.check_responses({"page": "v2-502"}, [bad])
    assert "expected the v2-502 page" in probs[0] and "nginx" in probs[0]


def test_scenario_driver_headers_regex_and_absent():
    r = resp(headers={"Set-Cookie": "ApplicationGatewayAffinity=" + "a" * 32 +
                      "; Path=/"})
    assert d.check_responses({"headers": {
        "Set-Cookie": "ApplicationGatewayAffinity=[0-9a-f]{32}; Path=/",
        "X-Nope": None}}, [r]) == []
    probs = d.check_responses({"headers": {"X-Backend": None}}, [r])
    assert probs == ["header X-Backend: expected absent, got 'b1'"]


def test_scenario_driver_affinity_needs_one_backend_and_the_cookie():
    ck = {"Set-Cookie": "ApplicationGatewayAffinity=" + "0" * 32 + "; Path=/"}
    rs = [resp(headers=ck), resp(), resp()]
    assert d.check_responses({"affinity": True}, rs) == []
    rs = [resp(headers=ck), resp(backend="b2")]
    assert "expected one backend" in d.check_responses(
        {"affinity": True}, rs)[0]
    rs = [resp()]
    assert "should set ApplicationGatewayAffinity" in d.check_responses(
        {"affinity": True}, rs)[0]


def test_scenario_driver_echo_checks_sni_and_host():
    doc = {"backend": "b1", "sni": "b1.backend.test",
           "headers": {"Host": "b1.backend.test"}}
    r = resp(body=json.dumps(doc).encode())
    assert d.check_responses({"echo": {"sni": "b1.backend.test",
                                       "host": "b1.backend.test"}}, [r]) == []
    probs = d.check_responses({"echo": {"sni": None}}, [r])
    assert probs == ["echo from b1: sni: expected None, got "
                     "'b1.backend.test'"]


def test_scenario_driver_unknown_expectation_is_reported():
    assert "unknown expectation 'stauts'" in d.check_responses(
        {"stauts": 200}, [resp()])[0]


def test_scenario_driver_failure_message_has_health_and_log():
    health = {"backendAddressPools": [{
        "backendAddressPool": {"id": "x/backendAddressPools/pool"},
        "backendHttpSettingsCollection": [{
            "backendHttpSettings": {"id": "x/backendHttpSettingsCollection/s"},
            "servers": [{"address": "127.10.1.1", "health": "Unhealthy",
                         "healthProbeLog": "Backend server certificate is "
                         "not whitelisted with Application Gateway."}]}]}]}
    msg = d.format_failure("steps[1] (send)", ["status: expected 200"],
                           "line one\nline two\n", health)
    assert msg.splitlines()[0] == "step steps[1] (send):"
    assert "  - status: expected 200" in msg
    assert "pool/s 127.10.1.1: Unhealthy: Backend server certificate" in msg
    assert "gateway log (last lines):\n  line one\n  line two" in msg


# ---- the reason table --------------------------------------------------------


def test_scenario_driver_reads_reason_table_from_reason_c():
    t = d.reason_table((ROOT / "gateway" / "reason.c").read_text())
    assert t["v1.not_whitelisted"] == ("Backend server certificate is not "
                                      "whitelisted with Application Gateway.")
    assert t["cert.expired"].endswith('"Valid from" and "Valid to" date '
                                      'range on the certificate.')
    assert "{errorCode}" in t["v2.verify_failed"]


def test_scenario_driver_maps_texts_back_to_reasons():
    t = d.reason_table((ROOT / "gateway" / "reason.c").read_text())
    text = d.reason_text(t, "v2.verify_failed", 66)
    assert text.endswith("error code 66")
    assert d.reason_for_text(t, text) == "v2.verify_failed"
    assert d.reason_for_text(t, t["v2.root_mismatch_no_root"]) == \
        "v2.root_mismatch_no_root"
    assert d.reason_for_text(t, "something else") is None


# ---- ARM fragments -----------------------------------------------------------


def test_scenario_driver_merge_by_name_and_delete():
    base = {"properties": {"trustedRootCertificates": [
        {"name": "old", "properties": {"data": "A"}}]}}
    out = d.merge_arm(base, {"trustedRootCertificates": [
        {"name": "new", "data": "B"}, {"name": "old", "delete": True}]})
    assert out["trustedRootCertificates"] == [{"name": "new", "data": "B"}]


def test_scenario_driver_merge_updates_an_item_and_replaces_plain_lists():
    base = {"backendHttpSettingsCollection": [
        {"name": "s", "port": 443, "trustedRootCertificates": [{"id": "a"}]}]}
    out = d.merge_arm(base, {"backendHttpSettingsCollection": [
        {"name": "s", "trustedRootCertificates": ["b"], "hostName": None}]})
    assert out["backendHttpSettingsCollection"] == [
        {"name": "s", "port": 443, "trustedRootCertificates": ["b"]}]


def test_scenario_driver_expand_refs_fills_defaults_and_ids():
    doc = d.expand_refs({
        "sku": {"tier": "Standard_v2"},
        "backendAddressPools": [{"name": "pool"}],
        "backendHttpSettingsCollection": [{
            "name": "s", "trustedRootCertificates": ["root"],
            "probe": "hp"}]}, "rg", "gw")
    pre = ("/subscriptions/00000000-0000-0000-0000-000000000000/"
           "resourceGroups/rg/providers/Microsoft.Network/"
           "applicationGateways/gw")
    rule = doc["requestRoutingRules"][0]
    assert rule["priority"] == 100
    assert rule["backendAddressPool"] == {"id": pre +
                                          "/backendAddressPools/pool"}
    assert rule["httpListener"] == {"id": pre + "/httpListeners/listener"}
    s = doc["backendHttpSettingsCollection"][0]
    assert s["trustedRootCertificates"] == [
        {"id": pre + "/trustedRootCertificates/root"}]
    assert s["probe"] == {"id": pre + "/probes/hp"}
    assert doc["frontendPorts"] == [{"name": "http", "port": 80,
                                     "id": pre + "/frontendPorts/http"}]


def test_scenario_driver_v1_default_rule_has_no_priority():
    doc = d.expand_refs({"sku": {"tier": "Standard"},
                         "backendAddressPools": [{"name": "p"}],
                         "backendHttpSettingsCollection": [{"name": "s"}]})
    assert "priority" not in doc["requestRoutingRules"][0]


def test_scenario_driver_to_arm_nests_properties():
    arm = d.to_arm({"name": "gw", "sku": {"name": "Standard_v2"},
                    "frontendPorts": [{"name": "p", "id": "i", "port": 80}]})
    assert arm == {"name": "gw", "properties": {
        "sku": {"name": "Standard_v2"},
        "frontendPorts": [{"name": "p", "id": "i",
                           "properties": {"port": 80}}]}}


# ---- the matrix ----------------------------------------------------------------


MATRIX = """
modes:
  a: {title: mode A, sku: v1, about: first}
  b: {title: mode B, sku: v2}
variants:
  good: {a: 200, b: 200}
  bad: {a: 502 v1.not_whitelisted, b: 502 v2.verify_failed 66}
"""


def test_scenario_driver_expands_matrix_into_cells():
    modes, cells = d.expand_matrix(yaml.safe_load(MATRIX))
    assert list(modes) == ["a", "b"]
    assert [(v, m) for v, m, _ in cells] == [
        ("good", "a"), ("good", "b"), ("bad", "a"), ("bad", "b")]
    assert cells[3][2] == {"status": 502, "reason": "v2.verify_failed",
                           "code": 66}


def test_scenario_driver_matrix_missing_cell_names_it():
    doc = yaml.safe_load(MATRIX)
    del doc["variants"]["bad"]["b"]
    with pytest.raises(ScenarioError, match="variants.bad.b: missing"):
        d.expand_matrix(doc)


def test_scenario_driver_matrix_unknown_mode_names_it():
    doc = yaml.safe_load(MATRIX)
    doc["variants"]["good"]["c"] = 200
    with pytest.raises(ScenarioError, match="variants.good.c: no such mode"):
        d.expand_matrix(doc)


def test_scenario_driver_library_matrix_has_every_mode_per_variant():
    doc = yaml.safe_load((ROOT / "scenarios" / "matrix.yaml").read_text())
    modes, cells = d.expand_matrix(doc)
    assert list(modes) == ["v1-auth", "v1-wrongauth", "v1-noauth", "v2-root",
                           "v2-wrongroot", "v2-wellknown", "v2-nocheck"]
    assert len(cells) == 7 * len(doc["variants"]) >= 150


@pytest.mark.parametrize("spec, msg", [
    ({"sku": "v3"}, r"modes.x.sku: must be v1 or v2"),
    ({"sku": "v1", "rootz": []}, r"modes.x: unknown key 'rootz'"),
    ({"sku": "v2", "auth": "own"}, r"modes.x.auth: .* v1 only"),
    ({"sku": "v1", "roots": ["farm-root"]}, r"modes.x.roots: .* v2 only"),
    ({"sku": "v2", "wrong_root": "next-root"}, r"modes.x.wrong_root: a list"),
    ({"sku": "v2", "roots": ["a"], "wrong_root": ["b"]}, r"exclude each"),
    ({"sku": "v2", "settings": [1]}, r"modes.x.settings: a map"),
])
def test_scenario_driver_matrix_mode_keys_are_checked(spec, msg):
    doc = yaml.safe_load(MATRIX)
    doc["modes"] = {"x": spec}
    doc["variants"] = {"good": {"x": 200}}
    with pytest.raises(ScenarioError, match=msg):
        d.expand_matrix(doc)


MANIFEST = {"items": {
    "farm-root": {"issuer_item": None}, "next-root": {"issuer_item": None},
    "rogue-root": {"issuer_item": None},
    "farm-int": {"issuer_item": "farm-root"},
    "next-int": {"issuer_item": "next-root"},
    "ca-signed": {"issuer_item": "farm-int"},
    "rotated-next-ca": {"issuer_item": "next-int"},
    "self-signed": {"issuer_item": None}, "listener": {"issuer_item":
                                                       "farm-root"}}}


def test_scenario_driver_mode_uploads_auth_own_or_one_item():
    own = {"sku": "v1", "auth": "own"}
    assert d.mode_uploads(own, MANIFEST, "ca-signed") == (["ca-signed"], [])
    wrong = {"sku": "v1", "auth": "listener"}
    assert d.mode_uploads(wrong, MANIFEST, "self-signed") == (["listener"],
                                                              [])
    assert d.mode_uploads({"sku": "v1"}, MANIFEST, "ca-signed") == ([], [])
    with pytest.raises(ScenarioError, match="no agw-certs item 'nope'"):
        d.mode_uploads({"sku": "v1", "auth": "nope"}, MANIFEST, "ca-signed")


def test_scenario_driver_wrong_root_is_one_the_variant_does_not_chain_to():
    spec = {"sku": "v2", "wrong_root": ["next-root", "rogue-root"]}
    assert d.issuer_path(MANIFEST, "rotated-next-ca") == ["next-int",
                                                          "next-root"]
    assert d.mode_uploads(spec, MANIFEST, "ca-signed") == ([], ["next-root"])
    assert d.mode_uploads(spec, MANIFEST, "self-signed") == ([],
                                                             ["next-root"])
    assert d.mode_uploads(spec, MANIFEST, "rotated-next-ca") == (
        [], ["rogue-root"])
    with pytest.raises(ScenarioError, match="chains to every one of"):
        d.mode_uploads({"sku": "v2", "wrong_root": ["next-root"]}, MANIFEST,
                       "rotated-next-ca")
    fixed = {"sku": "v2", "roots": ["farm-root"]}
    assert d.mode_uploads(fixed, MANIFEST, "ca-signed") == ([],
                                                            ["farm-root"])


def _results():
    ok = {"status": 200, "reason": "ok", "code": None}
    nw = {"status": 502, "reason": "v1.not_whitelisted", "code": None}
    return {
        ("good", "a"): {"expected": ok, "observed": ok, "passed": True},
        ("good", "b"): {"expected": ok, "observed": dict(
            nw, reason="v2.cn_mismatch"), "passed": False,
            "problems": ["expected 200, got 502 v2.cn_mismatch"]},
        ("bad", "a"): {"expected": nw, "observed": nw, "passed": True},
    }


def test_scenario_driver_renders_matrix_text_with_marks_and_summary():
    modes, _ = d.expand_matrix(yaml.safe_load(MATRIX))
    text, md, htm = d.render_matrix(modes, ["good", "bad"], _results(),
                                    {"v1.not_whitelisted": "TEXT1",
                                     "v2.cn_mismatch": "TEXT2"}, 12.5,
                                    {"passed": 2, "failed": 1})
    lines = text.splitlines()
    assert lines[1].split() == ["variant", "mode", "A", "mode", "B"]
    assert lines[2].split() == ["good", "200", "!", "502", "v2.cn_mismatch"]
    assert lines[3].split() == ["bad", "502", "v1.not_whitelisted", "not",
                                "run"]
    assert "good x mode B: expected 200, got 502 v2.cn_mismatch" in text
    assert lines[-1] == ("scenarios: 2 passed, 1 failed; matrix: 2/4 cells "
                         "as expected, 1 differ; time 12.5s")


def test_scenario_driver_renders_markdown_and_html_with_legend():
    modes, _ = d.expand_matrix(yaml.safe_load(MATRIX))
    _, md, htm = d.render_matrix(modes, ["good", "bad"], _results(),
                                 {"v1.not_whitelisted": "TEXT <1>",
                                  "v2.cn_mismatch": "TEXT2"})
    assert "| good | 200 | **✗ 502 v2.cn_mismatch** |" in md
    assert "- `v1.not_whitelisted`: TEXT <1>" in md
    assert "<td class='bad'>502 v2.cn_mismatch</td>" in htm
    assert "<dt>v1.not_whitelisted</dt><dd>TEXT &lt;1&gt;</dd>" in htm
    assert htm.startswith("<!DOCTYPE html>")


# ---- health matching ------------------------------------------------------------


def _health(addr, state, log):
    return {"backendAddressPools": [{
        "backendAddressPool": {"id": "x/backendAddressPools/pool"},
        "backendHttpSettingsCollection": [{
            "backendHttpSettings": {"id": "x/backendHttpSettingsCollection/s"},
            "servers": [{"address": addr, "health": state,
                         "healthProbeLog": log}]}]}]}


def _lab():
    lab = d.Lab.__new__(d.Lab)  # no processes: only the name table
    lab.backends = {"b1": {"ip": "127.10.1.1", "fqdn": "b1.backend.test"},
                    "b2": {"ip": "127.10.1.2", "fqdn": None}}
    return lab


def test_scenario_driver_health_matches_backend_by_fqdn_or_address():
    lab = _lab()
    doc = _health("b1.backend.test", "Healthy", "Success.")
    assert lab.health_match(doc, {"b1": "Healthy"}) == []
    doc = _health("127.10.1.2", "Healthy", "Success.")
    assert lab.health_match(doc, {"b2": "Healthy"}) == []
    assert lab.health_match(doc, {"b1": "Healthy"}) == [
        "b1 (b1.backend.test): not in backend health"]


def test_scenario_driver_health_reason_compares_the_exact_text():
    lab = _lab()
    text = d.REASONS["v2.verify_failed"].replace("{errorCode}", "66")
    doc = _health("127.10.1.2", "Unhealthy", text)
    assert lab.health_match(doc, {"b2": {"health": "Unhealthy",
                                         "reason": "v2.verify_failed"}}) == []
    assert lab.health_match(doc, {"b2": {"reason": "v2.verify_failed",
                                         "code": 66}}) == []
    probs = lab.health_match(doc, {"b2": {"reason": "v2.verify_failed",
                                          "code": 68}})
    assert len(probs) == 1 and "error code 68" in probs[0]
    probs = lab.health_match(doc, {"b2": {"reason": "v2.cn_mismatch"}})
    assert "expected v2.cn_mismatch" in probs[0] and "error code 66" in \
        probs[0]


def test_scenario_driver_health_state_mismatch_shows_the_log():
    lab = _lab()
    doc = _health("127.10.1.2", "Unhealthy", "Application Gateway could "
                  "not connect to the backend.")
    assert lab.health_match(doc, {"b2": "Healthy"}) == [
        "b2 (pool/s): expected Healthy, got Unhealthy: Application Gateway "
        "could not connect to the backend."]


class _Report:
    def __init__(self, nodeid):
        self.nodeid = nodeid


class _TR:
    def __init__(self, stats):
        self.stats, self.lines = stats, []

    def write_sep(self, sep, title):
        self.lines.append(f"{sep * 3} {title} {sep * 3}")

    def write_line(self, line):
        self.lines += line.splitlines()


def test_scenario_driver_terminal_summary_ends_with_the_summary_line():
    config = type("C", (), {})()
    config._agw_matrix_text = "table\nscenarios: 1 passed, 1 failed; x"
    tr = _TR({"failed": [_Report("scenarios/matrix.yaml::m::v@matrix-m")],
              "passed": [_Report("scenarios/a.yaml::a")]})
    d.pytest_terminal_summary(tr, 1, config)
    assert tr.lines[-1] == "scenarios: 1 passed, 1 failed; x"
    assert "  scenarios/matrix.yaml::m::v" in tr.lines
    assert tr.lines.index("failed (1, details above):") < \
        next(i for i, ln in enumerate(tr.lines) if ln.startswith("reports:")) \
        < tr.lines.index("table")
