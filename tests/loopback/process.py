"""The loopback exchange in a subprocess (`python -m tests.loopback`), driven over `/__control/`.

For tests that must kill a client or the server (SIGKILL and resume) and for benchmarks that must not share
a CPU with the server. Standard library only on the client side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Self

from tests.loopback.faults import Fault
from tests.loopback.signing import AsymmetricKey, HmacKey, generate_api_key, generate_ed25519

REPO_ROOT = Path(__file__).resolve().parents[2]


class LoopbackProcess:
    """`LoopbackProcess("--weight-limit", "100", "--weight-interval", "10s").start()`, then `.base_url`."""

    def __init__(self, *args: str, startup_timeout: float = 20.0) -> None:
        self.args = args
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("not started")
        return self._process.pid

    def start(self) -> Self:
        command = [sys.executable, "-m", "tests.loopback", "--port", "0", *self.args]
        self._process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the loopback exchange did not start: {line!r}")
        self.base_url = line
        return self

    def stop(self, timeout: float = 10.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()

    def kill(self) -> None:
        """SIGKILL: the server vanishes mid-whatever, as in a crash."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ------------------------------------------------------------------------------------------ control API

    def _call(self, name: str, body: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/__control/{name}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")  # noqa: S310
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback only
            return json.loads(response.read())

    def state(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("state")
        return result

    def requests(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("requests")
        return result

    def inject(self, fault: Fault, *, times: int = 1, path: str | None = None) -> None:
        self._call("faults", {"fault": fault.to_dict(), "times": times, "path": path})

    def clear_faults(self) -> None:
        self._call("faults/clear", {})

    def set_failure_rate(
        self, rate: float, fault: Fault | None = None, *, seed: int = 0, path: str | None = None
    ) -> None:
        self._call(
            "failure-rate",
            {"rate": rate, "fault": fault.to_dict() if fault else None, "seed": seed, "path": path},
        )

    def set_latency(self, seconds: float, *, path: str | None = None) -> None:
        self._call("latency", {"seconds": seconds, "path": path})

    def set_clock_skew(self, skew_ms: int) -> None:
        self._call("clock", {"skew_ms": skew_ms})

    def add_hmac_key(self, api_key: str | None = None, secret: str | None = None) -> HmacKey:
        key = HmacKey(api_key or generate_api_key(), secret or generate_api_key())
        self._call("keys", {"api_key": key.api_key, "secret": key.secret})
        return key

    def add_ed25519_key(self, api_key: str | None = None) -> AsymmetricKey:
        pair = generate_ed25519(api_key)
        self._call("keys", {"api_key": pair.api_key, "public_key_pem": pair.public_key_pem.decode()})
        return pair

    def ban(self, seconds: float) -> None:
        self._call("ban", {"seconds": seconds})

    def reset_limits(self) -> None:
        self._call("reset-limits", {})

    def release_hangs(self) -> None:
        self._call("release-hangs", {})

    def clear_requests(self) -> None:
        self._call("requests/clear", {})

    def prewarm(self, symbol: str, start_ms: int, end_ms: int) -> int:
        hours: int = self._call("prewarm", {"symbol": symbol, "start_ms": start_ms, "end_ms": end_ms})[
            "hours"
        ]
        return hours
