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
gcovr -r . --object-directory "$BUILD" \
	--filter 'gateway/' --filter 'sim/' --filter 'certs/' \
	--html-details "$BUILD/coverage/index.html" \
	--print-summary 2>/dev/null | sed -n 's/^lines: /coverage: lines /p'
echo "coverage: report in $BUILD/coverage/index.html"
