"""`twin ui`: the Dagster webserver + daemon and the MLflow UI on 127.0.0.1, in the foreground."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from twin.paths import TwinPaths

REPO_ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def serve(paths: TwinPaths, *, port: int, mlflow_port: int) -> int:
    """Run both UIs until interrupted; SIGINT/SIGTERM stop everything started here."""
    from orchestration.cli import UserError

    for wanted in (port, mlflow_port):
        if not port_is_free(wanted):
            raise UserError(
                f"port {wanted} on {HOST} is in use: stop what uses it or pass "
                "--port / --mlflow-port"
            )
    paths.mlflow.mkdir(parents=True, exist_ok=True)
    bin_dir = Path(sys.executable).parent
    commands = [
        [
            str(bin_dir / "dagster"),
            "dev",
            "-w",
            str(REPO_ROOT / "workspace.yaml"),
            "-h",
            HOST,
            "-p",
            str(port),
        ],
        [
            str(bin_dir / "mlflow"),
            "server",
            "--backend-store-uri",
            paths.mlflow_tracking_uri,
            "--default-artifact-root",
            str(paths.mlflow_artifacts),
            "--host",
            HOST,
            "--port",
            str(mlflow_port),
        ],
    ]
    # The children find dbt and dagster next to this Python even when the venv is not activated.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    children = [subprocess.Popen(command, cwd=REPO_ROOT, env=env) for command in commands]
    print(
        f"Dagster UI: http://{HOST}:{port}   MLflow UI: http://{HOST}:{mlflow_port}   (Ctrl-C stops both)",
        flush=True,
    )

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, stop)
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop()
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
    return 0
