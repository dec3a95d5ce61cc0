"""pytest entry for the scenario library: every *.yaml file here is a test
(one per scenario file, one per cell of matrix.yaml). The driver is the
plugin tests/e2e/agwscenario.py; the format is documented in README.md."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))

pytest_plugins = ["agwscenario"]
