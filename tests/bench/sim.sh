#!/usr/bin/env bash
# agw-sim against nginx as a plain HTTP keep-alive backend, side by side in
# one run: both on one core (one nginx worker, one agw-sim process), the same
# small response, wrk bounded (-t1 -c50 -d5s), ROUNDS interleaved runs. Prints req/s and p99 of both
# and the ratio; exits 1 when agw-sim serves less than 0.8x nginx.
# Then times the start of a 1000-backend farm (target: under 1 s).
#
#   AGW_BIN=build/bin tests/bench/sim.sh        (build without sanitizers)
# Variables: AGW_BIN, DURATION (5s), CONNS (50), ROUNDS (3, interleaved,
# best of each), NBACKENDS (1000).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${AGW_BIN:-$ROOT/build/bin}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
NBACKENDS=${NBACKENDS:-1000}
ROUNDS=${ROUNDS:-3}
SIM=$BIN/agw-sim
for t in nginx wrk python3; do
	command -v $t >/dev/null || { echo "sim.sh: $t not installed" >&2; exit 2; }
done
[ -x "$SIM" ] || { echo "sim.sh: $SIM not built" >&2; exit 2; }

TMP=$(mktemp -d)
NGINX_PID=
SIM_PID=
cleanup() {
	[ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A free loopback port (nginx cannot write its port anywhere).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_file() {
	for _ in $(seq 1 500); do
		[ -s "$1" ] && return 0
		sleep 0.01
	done
	echo "sim.sh: $1 not written" >&2
	exit 1
}

BODY="backend b1"
# --- nginx: one worker, access log off, a small fixed response
NPORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $TMP/nginx;
	proxy_temp_path $TMP/nginx;
	fastcgi_temp_path $TMP/nginx;
	uwsgi_temp_path $TMP/nginx;
	scgi_temp_path $TMP/nginx;
	server {
		listen 127.0.0.1:$NPORT;
		location / { default_type text/plain; return 200 "$BODY\n"; }
	}
}
EOF
nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
NGINX_PID=$!
for _ in $(seq 1 500); do
	curl -fs "http://127.0.0.1:$NPORT/" >/dev/null 2>&1 && break
	sleep 0.01
done

# --- agw-sim: one backend, the same body
cat >"$TMP/farm.json" <<EOF
{"backends": [{"name": "b1", "listen": "127.0.0.1:0",
  "behaviour": {"body": "$BODY\n"}}]}
EOF
"$SIM" --farm "$TMP/farm.json" --ready-file "$TMP/sim.ready" \
    --log-level warn &
SIM_PID=$!
wait_file "$TMP/sim.ready"
SPORT=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["backends"][0]["port"])' "$TMP/sim.ready")

cpu_ticks() { # pid -> utime+stime in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}

bench() { # name url pid -> "rps p99 cpu_us_per_request"
	local c0 c1
	c0=$(cpu_ticks "$3")
	wrk -t1 -c"$CONNS" -d"$DURATION" --latency "$2" >"$TMP/$1.wrk"
	c1=$(cpu_ticks "$3")
	python3 - "$TMP/$1.wrk" "$((c1 - c0))" "$(getconf CLK_TCK)" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
n = int(re.search(r"(\d+) requests in", t).group(1))
cpu = int(sys.argv[2]) / int(sys.argv[3]) * 1e6 / max(n, 1)
print(f"{rps:.0f} {p99:.3f} {cpu:.1f}")
EOF
}

# Interleaved rounds, best of each: other load on the machine drifts.
# CPU time per request (of the nginx worker and of agw-sim) is printed too:
# it does not depend on that load.
NWORKER=$(pgrep -P "$NGINX_PID" | head -1)
N_RPS=0; S_RPS=0
for _ in $(seq 1 "$ROUNDS"); do
	read -r r p u < <(bench nginx "http://127.0.0.1:$NPORT/" "$NWORKER")
	if python3 -c "import sys; sys.exit(0 if $r > $N_RPS else 1)"; then
		N_RPS=$r; N_P99=$p; N_CPU=$u
	fi
	read -r r p u < <(bench sim "http://127.0.0.1:$SPORT/" "$SIM_PID")
	if python3 -c "import sys; sys.exit(0 if $r > $S_RPS else 1)"; then
		S_RPS=$r; S_P99=$p; S_CPU=$u
	fi
done
RATIO=$(python3 -c "print(f'{$S_RPS / $N_RPS:.2f}')")
printf '%-8s %10s %10s %12s\n' server req/s p99_ms cpu_us/req
printf '%-8s %10s %10s %12s\n' nginx "$N_RPS" "$N_P99" "$N_CPU"
printf '%-8s %10s %10s %12s\n' agw-sim "$S_RPS" "$S_P99" "$S_CPU"
echo "ratio agw-sim/nginx: $RATIO (target >= 0.80)"
kill "$SIM_PID"; wait "$SIM_PID" || true; SIM_PID=

# --- start-up of a big farm
python3 - "$NBACKENDS" >"$TMP/big.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"backends": [
    {"name": f"b{i}", "listen": f"127.0.{1 + i // 250}.{1 + i % 250}:0"}
    for i in range(n)]}))
EOF
T0=$(date +%s.%N)
"$SIM" --farm "$TMP/big.json" --ready-file "$TMP/big.ready" --log-level warn &
SIM_PID=$!
wait_file "$TMP/big.ready"
T1=$(date +%s.%N)
STARTUP=$(python3 -c "print(f'{$T1 - $T0:.3f}')")
echo "start-up of $NBACKENDS backends: ${STARTUP}s (target < 1s)"
kill "$SIM_PID"; wait "$SIM_PID" || true; SIM_PID=

python3 -c "import sys; sys.exit(0 if $RATIO >= 0.8 and $STARTUP < 1.0 else 1)"
