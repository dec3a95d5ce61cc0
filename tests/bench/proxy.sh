#!/usr/bin/env bash
# agw-gateway against nginx as a reverse proxy, side by side in one run, in
# front of the same backend (nginx, one worker, a small fixed response, plain
# and TLS on 127.0.1.1). Both proxies: one worker, access log off, upstream
# keep-alive; for the TLS upstream both verify the backend against the same
# root (nginx: proxy_ssl_verify on; agw-gateway: a v2 trusted root) with the
# same SNI. wrk is bounded (-t1 -c$CONNS -d$DURATION), ROUNDS interleaved
# runs, best of each. Prints req/s and p99 for both and the ratio, for a
# plain and a TLS upstream; exits 1 when agw-gateway is under MIN_RATIO
# (default 0.9) of nginx on either.
#
#   cmake -S . -B build-rel -DCMAKE_BUILD_TYPE=Release && \
#     cmake --build build-rel --target agw-gateway
#   AGW_BIN=build-rel/bin tests/bench/proxy.sh      (no sanitizers!)
# Variables: AGW_BIN, DURATION (5s), CONNS (50), ROUNDS (3), MIN_RATIO (0.9).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${AGW_BIN:-$ROOT/build/bin}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
ROUNDS=${ROUNDS:-3}
MIN_RATIO=${MIN_RATIO:-0.9}
GW=$BIN/agw-gateway
PY=/usr/bin/python3
for t in nginx wrk openssl curl $PY; do
	command -v $t >/dev/null || { echo "proxy.sh: $t not installed" >&2; exit 2; }
done
[ -x "$GW" ] || { echo "proxy.sh: $GW not built" >&2; exit 2; }

TMP=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

# A free port on an address (nginx cannot report the port it bound).
free_port() {
	$PY -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}
wait_url() {
	for _ in $(seq 1 500); do
		curl -fsk "$1" >/dev/null 2>&1 && return 0
		sleep 0.01
	done
	echo "proxy.sh: $1 does not answer" >&2
	exit 1
}
wait_file() {
	for _ in $(seq 1 500); do
		[ -s "$1" ] && return 0
		sleep 0.01
	done
	echo "proxy.sh: $1 not written" >&2
	exit 1
}

# --- a root and a backend leaf for backend.test (dates relative to now)
SNI=backend.test
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TMP/root.key" -out "$TMP/root.pem" -days 2 \
	-subj "/CN=agw bench root" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TMP/leaf.key" -out "$TMP/leaf.csr" -subj "/CN=$SNI" 2>/dev/null
printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\n' "$SNI" >"$TMP/ext"
openssl x509 -req -in "$TMP/leaf.csr" -CA "$TMP/root.pem" \
	-CAkey "$TMP/root.key" -CAcreateserial -days 1 -extfile "$TMP/ext" \
	-out "$TMP/leaf.pem" 2>/dev/null

subst() {
	sed -e "s|@TMP@|$TMP|g" -e "s|@PLAIN@|${BPLAIN:-}|g" \
		-e "s|@TLS@|${BTLS:-}|g" -e "s|@ADDR@|127.0.1.1|g" \
		-e "s|@PORT@|${NPORT:-}|g" -e "s|@BACKEND@|127.0.1.1:${BPLAIN:-}|g" \
		-e "s|@TLSBACKEND@|127.0.1.1:${BTLS:-}|g" -e "s|@SNI@|$SNI|g" "$1"
}

# --- the backend
BPLAIN=$(free_port 127.0.1.1)
BTLS=$(free_port 127.0.1.1)
subst "$ROOT/fixtures/nginx/backend.conf.in" >"$TMP/backend.conf"
nginx -p "$TMP" -c "$TMP/backend.conf" 2>"$TMP/backend.stderr" &
PIDS+=($!)
wait_url "http://127.0.1.1:$BPLAIN/"

# --- nginx as the proxy
NPORT=$(free_port 127.0.0.1)
subst "$ROOT/fixtures/nginx/proxy.conf.in" >"$TMP/proxy.conf"
nginx -p "$TMP" -c "$TMP/proxy.conf" 2>"$TMP/proxy.stderr" &
PIDS+=($!)
wait_url "http://127.0.0.1:$NPORT/tls/"

# --- agw-gateway: v2, a path map /plain/* -> Http, /tls/* -> Https
$PY - "$ROOT" "$TMP" "$BPLAIN" "$BTLS" "$SNI" <<'EOF'
import base64, json, ssl, sys
root, tmp, bplain, btls, sni = sys.argv[1:]
sys.path.insert(0, root + "/tests/e2e")
from agwtest import gateway_config
der = ssl.PEM_cert_to_DER_cert(open(tmp + "/root.pem").read())
pools = [{"name": "b", "backendAddresses": [{"ipAddress": "127.0.1.1"}]}]
settings = [
    {"name": "plain", "port": int(bplain), "protocol": "Http",
     "cookieBasedAffinity": "Disabled", "requestTimeout": 20},
    {"name": "tls", "port": int(btls), "protocol": "Https",
     "cookieBasedAffinity": "Disabled", "requestTimeout": 20,
     "hostName": sni, "trustedRootCertificates": ["root"]}]
maps = [{"name": "m", "defaultBackendAddressPool": "b",
         "defaultBackendHttpSettings": "plain",
         "pathRules": [{"name": "t", "paths": ["/tls/*"],
                        "backendAddressPool": "b",
                        "backendHttpSettings": "tls"}]}]
rules = [{"name": "r", "ruleType": "PathBasedRouting", "httpListener": "l1",
          "urlPathMap": "m"}]
cfg = gateway_config(pools=pools, settings=settings, rules=rules,
                     path_maps=maps, trustedRootCertificates=[
                         {"name": "root",
                          "data": base64.b64encode(der).decode()}])
json.dump(cfg, open(tmp + "/gw.json", "w"), indent=1)
EOF
"$GW" --config "$TMP/gw.json" --ephemeral-ports --ready-file "$TMP/gw.ready" \
	--workers 1 --access-log off --log-level warn 2>"$TMP/gw.log" &
PIDS+=($!)
wait_file "$TMP/gw.ready"
GPORT=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"][0]["port"])' "$TMP/gw.ready")
wait_url "http://127.0.0.1:$GPORT/tls/"
curl -fs "http://127.0.0.1:$GPORT/tls/" | grep -q "hello from the backend" ||
	{ echo "proxy.sh: agw-gateway does not proxy TLS" >&2; cat "$TMP/gw.log" >&2; exit 1; }

# wrk once: "RPS P99_MS"
bench() {
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$1" >"$TMP/wrk.out" 2>&1
	if grep -q "Non-2xx\|Socket errors" "$TMP/wrk.out"; then
		echo "proxy.sh: errors against $1:" >&2
		cat "$TMP/wrk.out" >&2
	fi
	$PY - "$TMP/wrk.out" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
print(f"{rps:.0f} {p99:.3f}")
EOF
}

status=0
printf '%-6s %-12s %12s %10s\n' upstream proxy "req/s" "p99 ms"
for kind in plain tls; do
	best_g=0 best_n=0 p99_g=0 p99_n=0
	for _ in $(seq 1 "$ROUNDS"); do
		read -r r p < <(bench "http://127.0.0.1:$NPORT/$kind/")
		if [ "${r%.*}" -gt "$best_n" ]; then best_n=${r%.*}; p99_n=$p; fi
		read -r r p < <(bench "http://127.0.0.1:$GPORT/$kind/")
		if [ "${r%.*}" -gt "$best_g" ]; then best_g=${r%.*}; p99_g=$p; fi
	done
	ratio=$($PY -c "print(f'{$best_g / $best_n:.2f}')")
	printf '%-6s %-12s %12s %10s\n' "$kind" nginx "$best_n" "$p99_n"
	printf '%-6s %-12s %12s %10s\n' "$kind" agw-gateway "$best_g" "$p99_g"
	printf '%-6s ratio agw-gateway/nginx: %s (target %s)\n' "$kind" "$ratio" "$MIN_RATIO"
	if $PY -c "import sys; sys.exit(0 if $ratio >= $MIN_RATIO else 1)"; then :; else status=1; fi
done
exit $status
