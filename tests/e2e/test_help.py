"""Every binary answers --help with its usage on stdout and exit 0."""
import pytest

from agwtest import binary, run

BINARIES = ["agw-gateway", "agw-sim", "agw-certs", "agw"]


@pytest.mark.parametrize("name", BINARIES)
def test_help_prints_usage_and_exits_zero(name):
    cp = run([binary(name), "--help"])
    assert "usage:" in cp.stdout.lower()
    assert cp.stderr == ""
