#!/usr/bin/env bash
# Line coverage of gateway/, sim/ and certs/ from the last test run: one
# summary line here, the HTML report under BUILD/coverage/.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
if ! find "$BUILD" -name '*.gcda' | grep -q .; then
	echo "coverage: no data (configure with -DAGW_COVERAGE=ON)"
	exit 0
fi
mkdir -p "$BUILD/coverage"
out=$(gcovr -r . --object-directory "$BUILD" \
	--filter 'gateway/' --filter 'sim/' --filter 'certs/' \
	--gcov-ignore-parse-errors \
	--html-details "$BUILD/coverage/index.html" \
	--print-summary 2>"$BUILD/coverage/gcovr.log") || true
line=$(printf '%s\n' "$out" | sed -n 's/^lines: /coverage: lines /p')
if [ -z "$line" ]; then
	echo "coverage: gcovr failed (see $BUILD/coverage/gcovr.log)"
	exit 1
fi
echo "$line; report in $BUILD/coverage/index.html"
