"""`twin ui`: the Dagster webserver + daemon and the MLflow UI on 127.0.0.1, in the foreground."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from orchestration.cli.errors import UserError
from twin.paths import TwinPaths

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _signal_group(child: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(child.pid, sig)
    except ProcessLookupError:
        pass  # the whole group has exited


def _group_alive(child: subprocess.Popen) -> bool:
    try:
        os.killpg(child.pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_process_groups(children: list[subprocess.Popen], grace_s: float = 20.0) -> None:
    """SIGINT every group (a clean shutdown), then SIGKILL whatever is left after grace_s."""
    for child in children:
        _signal_group(child, signal.SIGINT)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and any(_group_alive(c) for c in children):
        for child in children:
            child.poll()  # reap the leaders so their group can empty
        time.sleep(0.5)
    for child in children:
        _signal_group(child, signal.SIGKILL)
        child.wait()


def serve(
    paths: TwinPaths, *, port: int, mlflow_port: int, env: dict[str, str] | None = None
) -> int:
    """Run both UIs until interrupted; SIGINT/SIGTERM stop everything started here.

    ``env``: the children's environment (``commands.child_environment``), else this process's.
    """

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
            # the registry's reviewers browse it; the twin itself writes to the tracking store
            # directly: one worker, not MLflow's default of four (each a process importing MLflow)
            "--workers",
            "1",
        ],
    ]
    # The children find dbt and dagster next to this Python even when the venv is not activated.
    base = os.environ if env is None else env
    env = {**base, "PATH": f"{bin_dir}{os.pathsep}{base.get('PATH', '')}"}
    # MLflow's job runner (a huey consumer serving its GenAI jobs) has nothing to run here.
    child_envs = [env, {**env, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}]
    # Each child leads its own process group, so stopping reaches what it started in turn
    # (dagster dev's webserver, daemon and code servers; MLflow's workers).
    children = [
        subprocess.Popen(command, cwd=REPO_ROOT, env=child_env, start_new_session=True)
        for command, child_env in zip(commands, child_envs, strict=True)
    ]
    print(
        f"Dagster UI: http://{HOST}:{port}   MLflow UI: http://{HOST}:{mlflow_port}   (Ctrl-C stops both)",
        flush=True,
    )
    stopping = []

    def request_stop(*_: object) -> None:
        stopping.append(True)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.5)
    stop_process_groups(children)
    return 0
