"""A small process supervisor for ``agenthost serve --workers N``.

uvicorn's own supervisor builds plain ``uvicorn.Server`` objects in its children, which would
lose the draining shutdown, so agenthost supervises its workers itself: N spawned processes
share one listening socket; SIGTERM/SIGINT are forwarded to each (each drains, then exits);
a worker that dies unexpectedly is replaced. The workers share one fresh metrics directory
(prometheus-client's multiprocess mode), so ``/metrics`` counts all of them; a dead worker's
live gauges are dropped from it. Worker 0 serves the metrics listener (``metrics_port``) from
a socket bound here once: a replaced worker 0 takes it over, and scrapes wait in its backlog
meanwhile.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import FrameType

from agenthost.settings import Settings
from agenthost.telemetry.metrics import mark_process_dead, multiprocess_environment

logger = logging.getLogger(__name__)

RESTART_DELAY_S = 1.0
ORPHAN_CHECK_S = 1.0


def _worker_main(
    settings: Settings,
    sock: socket.socket,
    supervisor: int,
    index: int,
    metrics_dir: Path,
    metrics_socket: socket.socket | None,
) -> None:
    from agenthost.api.server import run_worker
    from agenthost.jobs.service import executor_id

    # Own process group: a signal to the supervisor's group (Ctrl-C in a terminal, systemd's
    # control-group kill) reaches workers once, forwarded, not twice (which would skip the drain).
    os.setpgrp()
    threading.Thread(target=_drain_when_orphaned, args=(supervisor,), daemon=True).start()
    # Each worker executes background runs under its own stable identity; a restarted worker
    # takes its predecessor's, and so resumes its unfinished runs.
    own = settings.model_copy(update={"executor_id": f"{executor_id(settings)}-{index}"})
    run_worker(own, sockets=[sock], metrics_dir=metrics_dir, metrics_socket=metrics_socket)


def _drain_when_orphaned(parent: int) -> None:
    """If the supervisor dies without stopping us (SIGKILL), drain and exit like on SIGTERM.

    ``parent`` comes from the supervisor itself: it may already be gone when a slow-starting
    worker gets here, and then this worker's parent is no longer the supervisor.
    """
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_S)
    logger.warning("supervisor %d is gone; shutting this worker down", parent)
    os.kill(os.getpid(), signal.SIGTERM)


def supervise(
    settings: Settings, sock: socket.socket, metrics_socket: socket.socket | None = None
) -> int:
    """Run ``settings.workers`` workers until a signal stops them; returns the exit status."""
    with multiprocess_environment() as metrics_dir:
        return _supervise(settings, sock, metrics_dir, metrics_socket)


def _supervise(
    settings: Settings,
    sock: socket.socket,
    metrics_dir: Path,
    metrics_socket: socket.socket | None,
) -> int:
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start(index: int) -> BaseProcess:
        process = context.Process(
            target=_worker_main,
            args=(
                settings,
                sock,
                os.getpid(),
                index,
                metrics_dir,
                metrics_socket if index == 0 else None,
            ),
            daemon=False,
        )
        process.start()
        logger.info("started worker process %s", process.pid)
        return process

    workers = [start(index) for index in range(settings.workers)]

    def forward(sig: int, frame: FrameType | None) -> None:
        stopping.set()
        for process in workers:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, sig)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping.wait(0.5):
            for index, process in enumerate(workers):
                if not process.is_alive() and not stopping.is_set():
                    logger.error(
                        "worker %s exited with %s; restarting", process.pid, process.exitcode
                    )
                    if process.pid is not None:
                        mark_process_dead(metrics_dir, process.pid)
                    time.sleep(RESTART_DELAY_S)
                    workers[index] = start(index)
        for process in workers:
            process.join()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    # A worker stopped by the forwarded signal before it could install its handlers (it was
    # still starting, so it had nothing in flight) exits by that signal: that is a clean stop.
    clean = {0, -signal.SIGTERM, -signal.SIGINT}
    failed = [p.exitcode for p in workers if p.exitcode not in clean]
    if failed:
        logger.error("worker(s) failed with exit codes %s", failed)
    return 1 if failed else 0
