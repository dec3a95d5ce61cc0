#!/usr/bin/env bash
# The README's two commands (and `make test` / `make matrix`): installs the
# Debian packages that are missing (tests/deps.sh), configures and builds
# into $BUILD, then runs
#   tests/run.sh all      unit tests (ctest), e2e and scenarios (pytest),
#                         then the coverage summary
#   tests/run.sh matrix   the scenario suite and the v1/v2 conformance matrix
# Variables: BUILD (build), CMAKE_ARGS (extra -D options, e.g. CI's
# sanitizers), JOBS (nproc), NO_BUILD=1 (run what is built).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3
case "${1:-all}" in
all | matrix) ;;
*)
	echo "usage: tests/run.sh all|matrix" >&2
	exit 2
	;;
esac
if [ "${NO_BUILD:-0}" != 1 ]; then
	bash tests/deps.sh
	# shellcheck disable=SC2086 # CMAKE_ARGS is a list of options
	cmake -S . -B "$BUILD" -DAGW_COVERAGE=ON ${CMAKE_ARGS:-} >/dev/null
	cmake --build "$BUILD" -j "${JOBS:-$(nproc)}" -- --no-print-directory
fi
export AGW_BIN="$PWD/$BUILD/bin" AGW_BUILD="$PWD/$BUILD"
# Leak checks in the sanitizer build; the binaries exit cleanly on SIGTERM.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
JOBS=${JOBS:-$(nproc)}

pytest_run() {
	# pytest exits 5 when it collects nothing; that is not a failure here.
	local rc=0
	"$PY" -m pytest -p no:cacheprovider "$@" || rc=$?
	[ $rc -eq 5 ] && { echo "pytest: no tests collected in $*"; rc=0; }
	return $rc
}

scenario_files() {
	find scenarios -name '*.yaml' -o -name '*.yml' 2>/dev/null | head -1
}

case "${1:-all}" in
all)
	t0=$(date +%s)
	find "$BUILD" -name '*.gcda' -delete 2>/dev/null || true
	mkdir -p "$BUILD/report"
	rm -f "$BUILD/report/junit-ctest.xml" "$BUILD/report/junit-all.xml"
	rc=0
	echo "== unit tests (ctest)"
	ctest --test-dir "$BUILD" --output-on-failure -j "$JOBS" \
		--output-junit "$PWD/$BUILD/report/junit-ctest.xml" || rc=1
	echo "== end-to-end tests and scenarios (pytest)"
	targets=(tests/e2e)
	[ -n "$(scenario_files)" ] && targets+=(scenarios)
	pytest_run -q -n "$JOBS" "${targets[@]}" \
		--junitxml="$BUILD/report/junit-all.xml" || rc=1
	echo "== coverage"
	bash tests/coverage.sh "$BUILD" || true
	echo "== done in $(($(date +%s) - t0)) s"
	# One closing line over both runners (unit test binaries and pytest
	# cases), from their JUnit reports.
	"$PY" - "$BUILD/report/junit-ctest.xml" "$BUILD/report/junit-all.xml" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
n = {"passed": 0, "failed": 0, "skipped": 0}
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        continue
    for tc in root.iter("testcase"):
        kinds = {c.tag for c in tc}
        if kinds & {"failure", "error"} or tc.get("status") == "fail":
            n["failed"] += 1
        elif "skipped" in kinds or tc.get("status") in ("notrun", "disabled"):
            n["skipped"] += 1
        else:
            n["passed"] += 1
print(f"tests: {n['passed']} passed, {n['failed']} failed, {n['skipped']} skipped")
PYEOF
	exit $rc
	;;
matrix)
	if [ -z "$(scenario_files)" ]; then
		echo "no scenarios exist yet (scenarios/ is empty): nothing to run"
		exit 0
	fi
	# One test per scenario file and per matrix cell; cells of one gateway
	# mode stay on one xdist worker (loadgroup), so each mode starts one
	# farm and one gateway. The plugin (tests/e2e/agwscenario.py) prints,
	# after the failures (if any), the failed tests, where the reports are
	# (build/report/matrix.{md,html,txt}, junit.xml), the matrix, and last
	# its summary line: passed, failed, cells, wall time (from AGW_RUN_T0).
	# -qq drops pytest's own stats line and -rN its short summary, so that
	# line is the last one printed.
	# Scenarios mostly wait (probes, handshakes, reloads), so twice as
	# many workers as JOBS keep the cores busy (MATRIX_JOBS overrides).
	mkdir -p "$BUILD/report"
	rc=0
	AGW_RUN_T0=$(date +%s.%N) pytest_run -qq -rN \
		-n "${MATRIX_JOBS:-$((JOBS * 2))}" --dist loadgroup scenarios \
		--junitxml="$BUILD/report/junit.xml" --agw-matrix || rc=$?
	# 0 and 1 (tests failed) end with the summary line; anything else
	# (interrupted, internal or usage error) may have printed none.
	case $rc in
	0 | 1) ;;
	*) echo "matrix: pytest exit $rc (no complete run)" ;;
	esac
	exit $rc
	;;
*)
	echo "usage: tests/run.sh all|matrix" >&2
	exit 2
	;;
esac
