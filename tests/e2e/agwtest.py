"""Shared helpers for agw-lab's pytest suites (e2e tests and the scenario
driver): where the binaries are, starting a process and waiting on its ready
file (never on a sleep), stopping it and checking it exited cleanly.

Append new helpers at the end; keep the existing signatures stable.
"""
import json
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("AGW_BUILD", ROOT / "build"))
BIN = Path(os.environ.get("AGW_BIN", BUILD / "bin"))


def binary(name):
    """Path of one of the project's binaries (agw-gateway, agw-sim, ...)."""
    path = BIN / name
    if not path.exists():
        raise FileNotFoundError(f"{path} not built: run `make build`")
    return str(path)


def run(args, check=True, **kw):
    """Run a command to completion; returns CompletedProcess (text mode)."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    cp = subprocess.run(args, **kw)
    if check and cp.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {cp.returncode}\n"
            f"stdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def wait_for_file(path, timeout=15.0, proc=None, log=None):
    """Wait until path exists and is non-empty; fail early if proc died.
    Polls the file system (the ready file is written atomically)."""
    deadline = time.monotonic() + timeout
    path = Path(path)
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size > 0:
            return path.read_text()
        if proc is not None and proc.poll() is not None:
            tail = Path(log).read_text()[-4000:] if log else ""
            raise AssertionError(
                f"process exited {proc.returncode} before writing {path}\n"
                f"{tail}")
        time.sleep(0.01)
    raise AssertionError(f"{path} not written within {timeout}s")


class Proc:
    """A long-running project process started with a ready file.

    p = Proc([binary("agw-sim"), "--farm", f], tmp_path, "sim")
    p.start()          # waits for the ready file, returns its text
    p.stop()           # SIGTERM, waits, asserts exit 0
    Its stderr goes to tmp_path/NAME.log (p.log_text()).
    """

    def __init__(self, args, workdir, name, ready_flag="--ready-file",
                 env=None):
        self.workdir = Path(workdir)
        self.name = name
        self.ready = self.workdir / f"{name}.ready"
        self.log = self.workdir / f"{name}.log"
        self.args = list(args)
        if ready_flag:
            self.args += [ready_flag, str(self.ready)]
        self.env = dict(os.environ, **(env or {}))
        self.proc = None
        self.ready_text = None

    def start(self, timeout=20.0):
        if self.ready.exists():
            self.ready.unlink()
        self._logf = open(self.log, "ab")
        self.proc = subprocess.Popen(self.args, stdout=self._logf,
                                     stderr=subprocess.STDOUT, env=self.env)
        self.ready_text = wait_for_file(self.ready, timeout, self.proc,
                                        self.log)
        return self.ready_text

    def ready_json(self):
        return json.loads(self.ready_text)

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() \
            else ""

    def wait_log(self, needle, timeout=15.0):
        """Wait until needle appears in the process's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.log_text():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.01)
        raise AssertionError(f"{needle!r} not logged by {self.name}:\n"
                             f"{self.log_text()[-4000:]}")

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0, check=True):
        """SIGTERM and wait; with check, assert a clean exit 0."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                if check:
                    raise AssertionError(f"{self.name} ignored SIGTERM")
        self._logf.close()
        rc = self.proc.returncode
        if check and rc != 0:
            raise AssertionError(f"{self.name} exited {rc}:\n"
                                 f"{self.log_text()[-4000:]}")
        return rc

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)
