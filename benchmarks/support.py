"""Helpers of the benchmarks: pinned server processes, their CPU time, and ``wrk``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
SERVER_CORE = 0
"""The one core every measured server is pinned to; the mock and wrk get the other ones."""


def other_cores() -> set[int]:
    return (os.sched_getaffinity(0) - {SERVER_CORE}) or {SERVER_CORE}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], env: dict[str, str], ready_url: str) -> subprocess.Popen[bytes]:
    """Start ``command`` pinned to the server core; return once ``ready_url`` answers."""
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        ["taskset", "-c", str(SERVER_CORE), *command],  # noqa: S607
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command} exited with {process.returncode}")
        try:
            if httpx2.get(ready_url, timeout=1).status_code < 500:
                return process
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    process.kill()
    raise TimeoutError(f"{command} did not become ready")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@dataclass(frozen=True)
class Load:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms_per_request: float | None = None


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    number, unit = match.groups()
    return float(number) * _UNITS[unit]


def wrk(
    url: str,
    body: str,
    *,
    connections: int,
    seconds: float,
    headers: dict[str, str] | None = None,
    server_pid: int | None = None,
) -> Load:
    """POST ``body`` to ``url`` with ``wrk -t1`` on the non-server cores."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(body)}"]
    for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    cores = ",".join(map(str, sorted(other_cores())))
    command = ["taskset", "-c", cores, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s"]
    command += ["--latency", "-s", script.name, url]
    before = cpu_seconds(server_pid) if server_pid else 0.0
    try:
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    finally:
        os.unlink(script.name)
    used = cpu_seconds(server_pid) - before if server_pid else None
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Load(
        requests=requests,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),  # type: ignore[union-attr]
        errors=errors,
        cpu_ms_per_request=None if used is None or not requests else used * 1000 / requests,
    )


def lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def python() -> str:
    return sys.executable
