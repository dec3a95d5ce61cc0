#!/usr/bin/env bash
# Install the Debian packages agw-lab needs, only those missing. Idempotent
# and quiet; run as root (or with sudo available).
#   tests/deps.sh          building and testing
#   tests/deps.sh bench    + nginx, wrk, hyperfine (tests/bench/)
#   tests/deps.sh fuzz     + clang and its fuzzer runtime (make fuzz)
set -euo pipefail

pkgs=(cmake make gcc pkg-config libssl-dev openssl libevent-dev
	libjansson-dev libcmocka-dev gcovr python3 python3-pytest python3-yaml
	python3-pytest-xdist curl ca-certificates)
case "${1:-}" in
"") ;;
bench) pkgs+=(nginx wrk hyperfine) ;;
fuzz) pkgs+=(clang libclang-rt-14-dev) ;;
*) echo "usage: tests/deps.sh [bench|fuzz]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
		{ echo "deps: missing ${missing[*]}; run as root or install sudo" >&2; exit 1; }
	sudo=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts nginx on install where it can; agw-lab runs its own.
if command -v service >/dev/null && pgrep -x nginx >/dev/null; then
	$sudo service nginx stop >/dev/null 2>&1 || true
fi
