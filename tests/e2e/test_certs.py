"""agw-certs: every variant of the default PKI is what it claims, checked
with an independent verifier (the `openssl` command); the manifest, the
file layout, --now, bad input, and `agw-certs show`."""
import base64
import hashlib
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from agwtest import binary, run

OPENSSL = "openssl"


def certs(*args, check=True):
    return run([binary("agw-certs"), *map(str, args)], check=check)


def ossl(*args, check=False):
    return run([OPENSSL, *map(str, args)], check=check)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("pki") / "out"
    certs("generate", "--out", out)
    return out


@pytest.fixture(scope="module")
def manifest(pki):
    return json.loads((pki / "manifest.json").read_text())


def verify(pki, name, ca, untrusted="chain", extra=()):
    """openssl verify NAME.pem against CA file(s); returns (ok, output)."""
    args = ["verify", "-CAfile", pki / f"{ca}.pem"]
    if untrusted == "chain":
        args += ["-untrusted", pki / f"{name}.chain.pem"]
    elif untrusted:
        args += ["-untrusted", pki / f"{untrusted}.pem"]
    args += [*extra, pki / f"{name}.pem"]
    cp = ossl(*args)
    return cp.returncode == 0, cp.stdout + cp.stderr


def x509_text(pki, name):
    return ossl("x509", "-noout", "-text", "-in", pki / f"{name}.pem",
                check=True).stdout


def chain_subjects(pki, name, suffix=".chain.pem"):
    text = (pki / f"{name}{suffix}").read_text()
    pems = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE"
                      r"-----\n", text, re.S)
    subs = []
    for pem in pems:
        cp = subprocess.run([OPENSSL, "x509", "-noout", "-subject",
                             "-nameopt", "RFC2253"], input=pem,
                            capture_output=True, text=True, check=True)
        subs.append(cp.stdout.strip().removeprefix("subject="))
    return subs


# (variant, CA file, untrusted, extra openssl args, ok?, text in output)
VERIFY = [
    ("ca-signed", "farm-root", "chain",
     ["-purpose", "sslserver", "-verify_hostname", "backend.test"], True,
     "OK"),
    ("ca-signed", "farm-root", "chain", ["-verify_hostname",
                                          "b8.backend.test"], True, "OK"),
    ("ca-signed", "public-root", "chain", [], False,
     "unable to get local issuer certificate"),
    ("ca-signed-full-chain", "farm-root", "chain", [], True, "OK"),
    ("leaf-only", "farm-root", None, [], False,
     "unable to get local issuer certificate"),
    ("leaf-only", "farm-root", "chain", [], False,
     "unable to get local issuer certificate"),
    ("leaf-only", "farm-root", "farm-int", [], True, "OK"),
    ("wrong-order", "farm-root", "chain", [], True, "OK"),
    ("public-ca-signed", "well-known-cas", "chain",
     ["-verify_hostname", "backend.test"], True, "OK"),
    ("public-ca-signed", "farm-root", "chain", [], False,
     "unable to get local issuer certificate"),
    ("self-signed", "farm-root", "chain", [], False, "self-signed"),
    ("self-signed-ca", "self-signed-ca", "chain",
     ["-verify_hostname", "backend.test"], True, "OK"),
    ("expired", "farm-root", "chain", [], False,
     "certificate has expired"),
    ("not-yet-valid", "farm-root", "chain", [], False,
     "certificate is not yet valid"),
    ("expired-intermediate", "farm-root", "chain", [], False,
     "error 10 at 1 depth lookup: certificate has expired"),
    ("wrong-host", "farm-root", "chain", ["-verify_hostname",
                                           "backend.test"], False,
     "hostname mismatch"),
    ("wrong-host", "farm-root", "chain", ["-verify_hostname",
                                           "wrong.example.test"], True, "OK"),
    ("cn-only", "farm-root", "chain", ["-verify_hostname", "backend.test"],
     True, "OK"),
    ("san-cn-disagree", "farm-root", "chain",
     ["-verify_hostname", "backend.test"], False, "hostname mismatch"),
    ("san-cn-disagree", "farm-root", "chain",
     ["-verify_hostname", "other.test"], True, "OK"),
    ("wildcard", "farm-root", "chain", ["-verify_hostname",
                                         "b1.backend.test"], True, "OK"),
    ("wildcard", "farm-root", "chain", ["-verify_hostname",
                                         "backend.test"], False,
     "hostname mismatch"),
    ("ip-san", "farm-root", "chain", ["-verify_ip", "127.0.1.5"], True,
     "OK"),
    ("ip-san", "farm-root", "chain", ["-verify_hostname", "backend.test"],
     False, "hostname mismatch"),
    ("untrusted-root", "farm-root", "chain", [], False,
     "unable to get local issuer certificate"),
    ("untrusted-root", "rogue-root", "chain", [], True, "OK"),
    ("rotated", "farm-root", "chain", ["-verify_hostname", "backend.test"],
     True, "OK"),
    ("rotated-same-key", "farm-root", "chain", [], True, "OK"),
    ("rotated-next-ca", "farm-root", "chain", [], False,
     "unable to get local issuer certificate"),
    ("rotated-next-ca", "next-root", "chain", ["-verify_hostname",
                                                "backend.test"], True, "OK"),
    ("weak-rsa1024", "farm-root", "chain", ["-auth_level", "2"], False,
     "EE certificate key too weak"),
    ("sha1-signed", "farm-root", "chain", ["-auth_level", "1"], False,
     "CA signature digest algorithm too weak"),
    ("no-server-auth-eku", "farm-root", "chain", ["-purpose", "sslserver"],
     False, "unsuitable certificate purpose"),
    ("no-server-auth-eku", "farm-root", "chain", ["-purpose", "sslclient"],
     True, "OK"),
    ("listener", "farm-root", "chain", ["-verify_ip", "127.0.0.1"], True,
     "OK"),
    ("expired-int", "farm-root", None, [], False, "certificate has expired"),
]


@pytest.mark.parametrize("name,ca,untrusted,extra,ok,text", VERIFY,
                         ids=[f"{v[0]}-{i}" for i, v in enumerate(VERIFY)])
def test_certs_variant_verifies_as_claimed(pki, name, ca, untrusted, extra,
                                           ok, text):
    got, out = verify(pki, name, ca, untrusted, extra)
    assert got == ok, out
    assert text in out


LEAVES = ["ca-signed", "ca-signed-full-chain", "leaf-only", "wrong-order",
          "public-ca-signed", "self-signed", "self-signed-ca", "expired",
          "not-yet-valid", "expired-intermediate", "wrong-host", "cn-only",
          "san-cn-disagree", "wildcard", "ip-san", "untrusted-root",
          "rotated", "rotated-same-key", "rotated-next-ca", "weak-rsa1024",
          "sha1-signed", "no-server-auth-eku"]
ROOTS = ["farm-root", "public-root", "rogue-root", "next-root"]
INTS = ["farm-int", "public-int", "rogue-int", "expired-int", "next-int"]


def test_certs_manifest_lists_every_item(manifest):
    assert manifest["version"] == 1
    assert manifest["key_type"] == "rsa2048"
    assert manifest["hosts"]["domain"] == "backend.test"
    assert manifest["hosts"]["members"] == [f"b{i}.backend.test"
                                            for i in range(1, 9)]
    items = manifest["items"]
    assert set(items) == set(LEAVES + ROOTS + INTS + ["listener"])
    for name in LEAVES:
        assert items[name]["variant"] == name
        assert items[name]["role"] == "leaf"
    for name in ROOTS:
        assert items[name]["role"] == "root"
        assert items[name]["issuer_item"] is None
    for name in INTS:
        assert items[name]["role"] == "intermediate"
    assert items["listener"]["role"] == "listener"
    assert items["expired-intermediate"]["issuer_item"] == "expired-int"


@pytest.mark.parametrize("name", LEAVES + ROOTS + INTS + ["listener"])
def test_certs_files_match_manifest(pki, manifest, name):
    it = manifest["items"][name]
    for key in ("cert", "key", "chain", "cer"):
        assert (pki / it[key]).is_file(), key
    assert it["cert"] == f"{name}.pem" and it["key"] == f"{name}.key"
    assert stat.S_IMODE(os.stat(pki / it["key"]).st_mode) == 0o600
    pem = pki / it["cert"]
    fp = ossl("x509", "-noout", "-fingerprint", "-sha1", "-in", pem,
              check=True).stdout
    assert fp.strip().split("=", 1)[1].replace(":", "") == it["sha1"]
    fp = ossl("x509", "-noout", "-fingerprint", "-sha256", "-in", pem,
              check=True).stdout
    assert fp.strip().split("=", 1)[1].replace(":", "") == it["sha256"]
    serial = ossl("x509", "-noout", "-serial", "-in", pem,
                  check=True).stdout.strip().split("=", 1)[1]
    assert serial.upper() == it["serial"]
    subject = ossl("x509", "-noout", "-subject", "-nameopt", "RFC2253",
                   "-in", pem, check=True).stdout.strip()
    assert subject == "subject=" + it["subject"]
    # The .cer is the base64 of the DER.
    der = subprocess.run([OPENSSL, "x509", "-outform", "der", "-in",
                          str(pem)], capture_output=True, check=True).stdout
    assert base64.b64decode((pki / it["cer"]).read_text()) == der
    assert hashlib.sha256(der).hexdigest().upper() == it["sha256"]
    # SPKI hash, and the key matches the certificate.
    pub = ossl("x509", "-noout", "-pubkey", "-in", pem, check=True).stdout
    pub2 = ossl("pkey", "-pubout", "-in", pki / it["key"],
                check=True).stdout
    assert pub == pub2
    spki = subprocess.run([OPENSSL, "pkey", "-pubin", "-outform", "der"],
                          input=pub.encode(), capture_output=True,
                          check=True).stdout
    assert hashlib.sha256(spki).hexdigest().upper() == it["spki_sha256"]
    # The chain file starts with the certificate (except wrong-order).
    subs = chain_subjects(pki, name)
    if name != "wrong-order":
        assert subs[0] == it["subject"]


def test_certs_chains_in_the_variants_order(pki, manifest):
    leaf = "CN=backend.test"
    farm_int = "CN=agw-lab Farm Intermediate CA"
    assert chain_subjects(pki, "ca-signed") == [leaf, farm_int]
    assert chain_subjects(pki, "ca-signed-full-chain") == [
        leaf, farm_int, "CN=agw-lab Farm Root CA"]
    assert chain_subjects(pki, "leaf-only") == [leaf]
    assert chain_subjects(pki, "wrong-order") == [farm_int, leaf]
    assert chain_subjects(pki, "expired-intermediate") == [
        leaf, "CN=agw-lab Expired Intermediate CA"]
    assert chain_subjects(pki, "untrusted-root") == [
        leaf, "CN=agw-lab Rogue Intermediate CA"]
    assert chain_subjects(pki, "well-known-cas", ".pem") == [
        "CN=agw-lab Public Root CA"]


def test_certs_rotations(manifest):
    items = manifest["items"]
    base = items["ca-signed"]
    same = items["rotated-same-key"]
    new = items["rotated"]
    assert same["spki_sha256"] == base["spki_sha256"]
    assert same["serial"] != base["serial"]
    assert same["not_before"] != base["not_before"]
    assert new["spki_sha256"] != base["spki_sha256"]
    assert new["serial"] != base["serial"]
    assert (new["subject"], new["sans"]) == (base["subject"], base["sans"])
    assert items["rotated-next-ca"]["issuer_item"] == "next-int"
    # Distinct servers have distinct keys.
    keys = {items[n]["spki_sha256"] for n in ["ca-signed", "rotated",
            "self-signed", "self-signed-ca", "public-ca-signed",
            "untrusted-root", "rotated-next-ca", "listener"]}
    assert len(keys) == 8


def test_certs_names_and_sans(manifest):
    items = manifest["items"]
    hosts = ["DNS:backend.test"] + [f"DNS:b{i}.backend.test"
                                    for i in range(1, 9)]
    assert items["ca-signed"]["sans"] == hosts
    assert items["ca-signed"]["subject"] == "CN=backend.test"
    assert items["wildcard"]["sans"] == ["DNS:*.backend.test"]
    assert items["wildcard"]["subject"] == "CN=*.backend.test"
    assert items["cn-only"]["sans"] == []
    assert items["san-cn-disagree"]["sans"] == ["DNS:other.test"]
    assert items["wrong-host"]["sans"] == ["DNS:wrong.example.test"]
    assert items["ip-san"]["subject"] == "CN=127.0.1.1"
    assert items["ip-san"]["sans"] == [f"IP:127.0.1.{i}"
                                       for i in range(1, 9)]
    assert items["listener"]["sans"] == ["DNS:gateway.test", "DNS:localhost",
                                         "IP:127.0.0.1"]


def test_certs_extensions_per_variant(pki):
    assert "CA:FALSE" in x509_text(pki, "self-signed")
    t = x509_text(pki, "self-signed")
    assert "Issuer: CN = backend.test" in t
    assert "CA:TRUE" in x509_text(pki, "self-signed-ca")
    assert "Public-Key: (1024 bit)" in x509_text(pki, "weak-rsa1024")
    assert "sha1WithRSAEncryption" in x509_text(pki, "sha1-signed")
    t = x509_text(pki, "no-server-auth-eku")
    assert "TLS Web Client Authentication" in t
    assert "TLS Web Server Authentication" not in t
    assert "Subject Alternative Name" not in x509_text(pki, "cn-only")
    assert "CA:TRUE, pathlen:0" in x509_text(pki, "farm-int")


def test_certs_dates(manifest):
    from datetime import datetime, timedelta

    def at(s):
        return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
    now = at(manifest["now"])
    items = manifest["items"]
    assert at(items["ca-signed"]["not_before"]) == now - timedelta(days=1)
    assert at(items["ca-signed"]["not_after"]) == now + timedelta(days=365)
    assert at(items["expired"]["not_after"]) == now - timedelta(days=10)
    assert at(items["not-yet-valid"]["not_before"]) == now + timedelta(
        days=10)
    # the same dates under X.509's names, as the issue words them
    for it in items.values():
        assert (it["notBefore"], it["notAfter"]) == (it["not_before"],
                                                     it["not_after"])
    assert at(items["expired-int"]["not_after"]) == now - timedelta(days=10)


def test_certs_listener_pfx(pki, manifest):
    it = manifest["items"]["listener"]
    assert it["pfx"] == "listener.pfx" and it["pfx_password"] == "agw-lab"
    assert stat.S_IMODE(os.stat(pki / "listener.pfx").st_mode) == 0o600
    cp = ossl("pkcs12", "-in", pki / "listener.pfx", "-passin",
              "pass:agw-lab", "-nokeys", check=True)
    assert "gateway.test" in cp.stdout
    cp = ossl("pkcs12", "-in", pki / "listener.pfx", "-passin",
              "pass:wrong", "-nokeys")
    assert cp.returncode != 0
    assert manifest["items"]["ca-signed"]["pfx"] is None


def test_certs_now_option_fixes_dates(tmp_path):
    out = tmp_path / "out"
    certs("generate", "--out", out, "--now", "2020-01-01T00:00:00Z",
          "--key-type", "ec-p256")
    m = json.loads((out / "manifest.json").read_text())
    assert m["now"] == "2020-01-01T00:00:00Z"
    assert m["key_type"] == "ec-p256"
    it = m["items"]["ca-signed"]
    assert it["not_before"] == "2019-12-31T00:00:00Z"
    assert it["key_type"] == "ec-p256"
    assert m["items"]["weak-rsa1024"]["key_type"] == "rsa1024"
    ok, out_text = verify(out, "ca-signed", "farm-root", "chain",
                          ["-attime", "1577880000"])
    assert ok, out_text
    ok, out_text = verify(out, "ca-signed", "farm-root", "chain", [])
    assert not ok and "certificate has expired" in out_text
    certs("generate", "--out", tmp_path / "o2", "--now", "@1577836800",
          "--key-type", "ec-p256")
    m2 = json.loads((tmp_path / "o2" / "manifest.json").read_text())
    assert m2["now"] == "2020-01-01T00:00:00Z"


def small_profile(tmp_path, items):
    p = tmp_path / "profile.json"
    p.write_text(json.dumps({"key_type": "ec-p256", "items": items}))
    return p


ROOT = {"name": "r", "role": "root", "use": "u", "subject": "CN=r"}


@pytest.mark.parametrize("items,where", [
    ([dict(ROOT, colour="red")], "items[0].colour: unknown key"),
    ([ROOT, {"name": "l", "role": "leaf", "use": "u", "subject": "CN=l",
             "issuer": "nope"}], "items[1].issuer: no item named 'nope'"),
    ([dict(ROOT, not_before="+10d", not_after="-10d")],
     "items[0].not_after"),
    ([dict(ROOT, not_before="yesterday")], "items[0].not_before"),
])
def test_certs_bad_profile_names_file_and_path(tmp_path, items, where):
    prof = small_profile(tmp_path, items)
    out = tmp_path / "out"
    cp = certs("generate", "--out", out, "--profile", prof, check=False)
    assert cp.returncode == 1
    assert str(prof) in cp.stderr and where in cp.stderr, cp.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile.json"]


def test_certs_unreadable_profile_named(tmp_path):
    cp = certs("generate", "--out", tmp_path / "out", "--profile",
               tmp_path / "missing.json", check=False)
    assert cp.returncode == 1
    assert "missing.json" in cp.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{\"items\": [")
    cp = certs("generate", "--out", tmp_path / "out", "--profile", bad,
               check=False)
    assert cp.returncode == 1 and "bad.json:" in cp.stderr


def test_certs_custom_profile_mints(tmp_path):
    prof = small_profile(tmp_path, [
        ROOT, {"name": "web", "role": "leaf", "use": "u",
               "subject": "CN=web.example.test", "issuer": "r",
               "sans": ["DNS:web.example.test", "IP:127.0.1.9"],
               "not_after": "+30d", "ext_key_usage": ["serverAuth",
                                                      "clientAuth"]}])
    out = tmp_path / "out"
    certs("generate", "--out", out, "--profile", prof)
    ok, text = verify(out, "web", "r", "chain",
                      ["-verify_hostname", "web.example.test"])
    assert ok, text
    m = json.loads((out / "manifest.json").read_text())
    assert m["items"]["web"]["sans"] == ["DNS:web.example.test",
                                         "IP:127.0.1.9"]
    assert not (out / "well-known-cas.pem").exists()


def test_certs_refuses_foreign_folder_and_replaces_own(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    cp = certs("generate", "--out", out, "--key-type", "ec-p256",
               check=False)
    assert cp.returncode == 1 and str(out) in cp.stderr
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    (out / "keep.txt").unlink()
    certs("generate", "--out", out, "--key-type", "ec-p256")
    first = json.loads((out / "manifest.json").read_text())
    certs("generate", "--out", f"{out}/", "--key-type", "ec-p256")
    second = json.loads((out / "manifest.json").read_text())
    assert first["items"]["ca-signed"]["serial"] != \
        second["items"]["ca-signed"]["serial"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize("args", [
    ["generate"], ["generate", "--out"], ["bake"], ["show"],
    ["show", "-o", "yaml", "x"], ["generate", "--out", "x", "--key-type",
                                  "dsa"], ["generate", "--out", "x",
                                           "--now", "soon"]])
def test_certs_usage_errors_exit_2(tmp_path, args):
    cp = certs(*args, check=False)
    assert cp.returncode == 2, cp.stderr
    assert cp.stderr


@pytest.mark.parametrize("verb", ["generate", "show", "profile"])
def test_certs_help_on_every_verb(verb):
    cp = certs(verb, "--help")
    assert cp.stdout.startswith("usage:")


def test_certs_profile_verb_prints_fixture():
    cp = certs("profile")
    root = Path(__file__).resolve().parents[2]
    fixture = root / "fixtures" / "certs" / "default-profile.json"
    assert json.loads(cp.stdout) == json.loads(fixture.read_text())


def test_certs_show_text(pki):
    cp = certs("show", pki / "expired.cer", pki / "ca-signed.chain.pem")
    assert "expired 10 days ago" in cp.stdout
    assert "CN=backend.test" in cp.stdout
    assert "DNS:b1.backend.test" in cp.stdout
    assert "rsa2048" in cp.stdout
    assert "in server order" in cp.stdout


def test_certs_show_json_chains(pki, manifest):
    cp = certs("show", "-o", "json", pki / "ca-signed.chain.pem",
               pki / "ca-signed-full-chain.chain.pem",
               pki / "wrong-order.chain.pem", pki / "not-yet-valid.pem")
    a, full, wrong, nyv = json.loads(cp.stdout)
    assert a["chain"]["server_order"] and not a["chain"]["complete"]
    assert a["chain"]["ends_at_issuer"] == "CN=agw-lab Farm Root CA"
    assert a["certificates"][0]["sha1"] == \
        manifest["items"]["ca-signed"]["sha1"]
    assert a["certificates"][1]["kind"] == "intermediate CA"
    assert full["chain"]["complete"]
    assert full["chain"]["root"] == "CN=agw-lab Farm Root CA"
    assert not wrong["chain"]["server_order"]
    assert not wrong["chain"]["leaf_first"]
    assert nyv["certificates"][0]["validity"] == "not_yet_valid"


def test_certs_show_der_and_pfx(pki, tmp_path):
    der = tmp_path / "farm-root.der"
    ossl("x509", "-in", pki / "farm-root.pem", "-outform", "der", "-out",
         der, check=True)
    cp = certs("show", "-o", "json", der)
    (one,) = json.loads(cp.stdout)
    assert one["format"] == "der"
    assert one["certificates"][0]["kind"] == "root CA"
    cp = certs("show", "-o", "json", "--password", "agw-lab",
               pki / "listener.pfx")
    (one,) = json.loads(cp.stdout)
    assert one["format"] == "pfx"
    assert one["certificates"][0]["subject"] == "CN=gateway.test"


def test_certs_show_bad_input_names_file(pki, tmp_path):
    cp = certs("show", "--password", "nope", pki / "listener.pfx",
               check=False)
    assert cp.returncode == 1
    assert "listener.pfx" in cp.stderr and "wrong PFX password" in cp.stderr
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate at all\n")
    cp = certs("show", junk, tmp_path / "missing.cer", check=False)
    assert cp.returncode == 1
    assert "junk.pem" in cp.stderr and "missing.cer" in cp.stderr
