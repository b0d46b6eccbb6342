"""The Kubernetes deployment artifacts (Dockerfile, .dockerignore, deploy/helm/values.yaml,
.env.example) agree with the code they deploy, checked without a cluster, a Docker daemon or helm.

What the chart does with values.yaml is reproduced from its templates (dagster chart 1.13:
`dagster-user-deployments/templates/deployment-user.yaml` and `helpers/_helpers.tpl`) and handed
to dagster-k8s's own Job builder, so a run pod's env and volumes are the ones Kubernetes would get.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import tomllib
from importlib.metadata import distribution
from pathlib import Path, PurePosixPath

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VALUES = REPO / "deploy" / "helm" / "values.yaml"
IMAGE_ROOT = "/opt/twinbridge"  # the Dockerfile's WORKDIR, where the repository is copied

# Keys the chart's schema accepts (schema/charts/..., `extra="forbid"`): a misspelt key fails
# `helm install` with a schema error, or worse, is silently ignored by a template.
K8S_RUN_LAUNCHER_KEYS = {
    "image", "imagePullPolicy", "jobNamespace", "loadInclusterConfig", "kubeconfigFile",
    "envConfigMaps", "envSecrets", "envVars", "volumeMounts", "volumes", "labels",
    "failPodOnRunFailure", "resources", "schedulerName", "securityContext", "runK8sConfig",
}  # fmt: skip
USER_DEPLOYMENT_KEYS = {
    "name", "image", "dagsterApiGrpcArgs", "codeServerArgs", "includeConfigInLaunchedRuns",
    "deploymentNamespace", "port", "replicaCount", "env", "envConfigMaps", "envSecrets",
    "annotations", "nodeSelector", "affinity", "tolerations", "podSecurityContext",
    "securityContext", "resources", "livenessProbe", "readinessProbe", "startupProbe", "labels",
    "volumeMounts", "volumes", "schedulerName", "initContainers", "sidecarContainers",
    "deploymentStrategy",
}  # fmt: skip
POSTGRESQL_KEYS = {
    "postgresqlScheme", "image", "enabled", "pgIsReadyCommandOverride", "postgresqlHost",
    "postgresqlUsername", "postgresqlPassword", "postgresqlDatabase", "postgresqlParams", "service",
}  # fmt: skip

# Every TWIN_* variable twin/settings.py reads falls in exactly one of these, so a new variable
# forces a decision about the deployment (and docs/deploy.md says which is which).
SET_BY_THE_CHART_VALUES = {
    "TWIN_HOME", "TWIN_PLANT", "TWIN_SCENARIOS", "TWIN_EVENT_CHANGE_PCT",
    "TWIN_PUBLISH_POSTGRES", "TWIN_ALERT_WEBHOOK", "TWIN_EVENTS_WEBHOOK",
}  # fmt: skip
OPTIONAL_ON_KUBERNETES = {"TWIN_ML_CONFIG", "TWIN_MODEL_REVIEW"}  # add to env when wanted
# The chart's instance keeps runs on PostgreSQL itself, and each run is its own pod
NOT_FOR_KUBERNETES = {"TWIN_DAGSTER_POSTGRES", "TWIN_CELERY_BROKER"}
PLACEHOLDER_PASSWORDS = {"PASSWORD", "CHANGE_ME", "..."}


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load(VALUES.read_text())


@pytest.fixture(scope="module")
def deployment(values) -> dict:
    (only,) = values["dagster-user-deployments"]["deployments"]
    return only


@pytest.fixture(scope="module")
def workspace_location() -> dict:
    (entry,) = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    return entry["python_module"]


def grpc_params(args: list[str]) -> dict:
    """What `dagster api grpc ARGS` would be started with, parsed by dagster's own command."""
    from dagster._cli.api import grpc_command

    return grpc_command.make_context("grpc", list(args)).params


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1].strip()) for text in joined]


def docker_pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern as Docker reads it: anchored at the context root, ``*`` and ``?``
    stay within one path segment, ``**`` spans any number of them."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def docker_ignored(path: str, patterns: list[str]) -> bool:
    """Whether Docker leaves ``path`` (relative, posix) out of the build context: the last
    matching pattern wins, ``!`` re-includes, a matched folder takes its contents with it."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = docker_pattern(raw.removeprefix("!").strip("/"))
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not negate
    return ignored


def dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def settings_variables() -> dict[str, str]:
    """Every variable twin/settings.py reads, with the docstring of the function that reads it."""
    tree = ast.parse((REPO / "twin" / "settings.py").read_text())
    found: dict[str, str] = {}
    for function in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
        for call in (n for n in ast.walk(function) if isinstance(n, ast.Call)):
            if getattr(call.func, "id", None) == "_text" and isinstance(call.args[0], ast.Constant):
                found[call.args[0].value] = ast.get_docstring(function) or ""
    return found


def dbt_profile_variables() -> set[str]:
    text = (REPO / "dbt_project" / "profiles.yml").read_text()
    return set(re.findall(r"env_var\('([A-Z0-9_]+)'", text))


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            pairs[name.strip()] = value.split("#", 1)[0].strip()
    return pairs


def values_env(deployment: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in deployment["env"]}


def secret_variables() -> set[str]:
    return {name for name, doc in settings_variables().items() if "secret" in doc.lower()}


# --- values.yaml -----------------------------------------------------------------------------


def test_values_use_the_k8s_run_launcher_with_only_keys_the_chart_accepts(values) -> None:
    launcher = values["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    assert set(launcher["config"]) == {"k8sRunLauncher"}
    assert set(launcher["config"]["k8sRunLauncher"]) <= K8S_RUN_LAUNCHER_KEYS
    assert set(values["postgresql"]) <= POSTGRESQL_KEYS


def test_the_user_deployment_names_an_image_a_port_and_only_chart_keys(deployment) -> None:
    assert set(deployment) <= USER_DEPLOYMENT_KEYS
    assert deployment["image"]["repository"]
    assert str(deployment["image"]["tag"])
    assert deployment["image"]["tag"] != "latest"  # a run must keep the image it started with
    assert isinstance(deployment["port"], int)
    # runs inherit the code location's env, secrets and volumes: TWIN_HOME is the same everywhere
    assert deployment["includeConfigInLaunchedRuns"]["enabled"] is True


def test_the_grpc_server_serves_the_code_location_workspace_yaml_names(
    values, deployment, workspace_location
) -> None:
    assert values["dagster-user-deployments"]["enabled"] is True
    # the chart starts: dagster api grpc -h 0.0.0.0 -p PORT <dagsterApiGrpcArgs>
    params = grpc_params(
        ["-h", "0.0.0.0", "-p", str(deployment["port"]), *deployment["dagsterApiGrpcArgs"]]
    )
    assert params["module_name"] == workspace_location["module_name"]
    assert params["location_name"] == workspace_location["location_name"] == deployment["name"]
    assert params["working_directory"] == IMAGE_ROOT


def test_the_module_named_there_imports_and_yields_the_definitions(deployment) -> None:
    import dagster as dg
    from dagster._core.workspace.autodiscovery import loadable_targets_from_python_module

    params = grpc_params(["-p", "3030", *deployment["dagsterApiGrpcArgs"]])
    # the loader `dagster api grpc -m` uses, with the repository where the image has IMAGE_ROOT
    (target,) = loadable_targets_from_python_module(params["module_name"], str(REPO))
    definitions = target.target_definition()
    assert isinstance(definitions, dg.Definitions)
    sensor_names = {sensor.name for sensor in definitions.sensors or []}
    assert "landing_files_sensor" in sensor_names  # evaluated in the code server's pod


def test_the_instance_database_password_comes_from_an_existing_secret(values) -> None:
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["global"]["postgresqlSecretName"]
    assert "postgresqlPassword" not in values["postgresql"]


def test_the_instance_url_selects_psycopg2_not_the_psycopg3_default(values) -> None:
    # With psycopg 3 in the image, SQLAlchemy 2.1 maps plain postgresql:// to it, and the event
    # log's NOTIFY fails there (orchestration/lib/postgres_instance.py); the chart's scheme fixes it.
    from dagster_postgres.utils import get_conn_string
    from sqlalchemy.engine import make_url

    pg = values["postgresql"]
    url = get_conn_string(
        username=pg["postgresqlUsername"],
        password="placeholder",
        hostname=pg["postgresqlHost"],
        db_name=pg["postgresqlDatabase"],
        port=str(pg["service"]["port"]),
        scheme=pg["postgresqlScheme"],
    )
    assert make_url(url).get_dialect().driver == "psycopg2"


def chart_instance_config(values: dict) -> dict:
    """The instance's dagster.yaml as the chart renders it from ``values`` (templates
    configmap-instance.yaml, helpers/instance/_postgresql.tpl, _run-coordinator.tpl), without the
    run launcher and compute logs, which carry nothing twinbridge sets."""
    pg = values["postgresql"]
    storage_config = {
        "postgres_db": {
            "username": pg["postgresqlUsername"],
            "password": {"env": "DAGSTER_PG_PASSWORD"},
            "hostname": pg["postgresqlHost"],
            "db_name": pg["postgresqlDatabase"],
            "port": pg["service"]["port"],
            "params": pg.get("postgresqlParams", {}),
            **({"scheme": pg["postgresqlScheme"]} if pg.get("postgresqlScheme") else {}),
        }
    }
    config: dict = {
        f"{kind}_storage": {
            "module": f"dagster_postgres.{module}",
            "class": cls,
            "config": storage_config,
        }
        for kind, module, cls in [
            ("run", "run_storage", "PostgresRunStorage"),
            ("event_log", "event_log", "PostgresEventLogStorage"),
            ("schedule", "schedule_storage", "PostgresScheduleStorage"),
        ]
    }
    config["telemetry"] = {"enabled": values.get("telemetry", {}).get("enabled", True)}
    # the chart's default is a QueuedRunCoordinator section, rendered unless switched off
    coordinator = values.get("dagsterDaemon", {}).get("runCoordinator", {})
    if coordinator.get("enabled", True):
        queued = coordinator.get("config", {}).get("queuedRunCoordinator", {})
        max_runs = queued.get("maxConcurrentRuns")
        config["run_coordinator"] = {
            "module": "dagster.core.run_coordinator",
            "class": "QueuedRunCoordinator",
            "config": {"max_concurrent_runs": -1 if max_runs is None else max_runs},
        }
    return {**config, **values.get("additionalInstanceConfig", {})}


def test_the_instance_config_the_chart_renders_is_one_dagster_accepts(values) -> None:
    from dagster._config import validate_config
    from dagster._core.instance.config import (
        dagster_instance_config_schema,
        validate_concurrency_config,
    )
    from dagster_postgres.run_storage import PostgresRunStorage

    config = chart_instance_config(values)
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, [error.message for error in result.errors]
    # the daemon refuses a run coordinator's limits next to a `concurrency` section
    validate_concurrency_config(config)
    storage = validate_config(PostgresRunStorage.config_type(), config["run_storage"]["config"])
    assert storage.success, [error.message for error in storage.errors]


def test_the_instance_keeps_the_pool_limit_of_the_repository_instance(values) -> None:
    # dbt is the DuckDB warehouse's only writer on Kubernetes too
    local = yaml.safe_load((REPO / "dagster.yaml").read_text())["concurrency"]["pools"]
    deployed = chart_instance_config(values)["concurrency"]["pools"]
    assert deployed["default_limit"] == local["default_limit"] == 1


def test_a_run_pod_gets_the_env_secrets_and_volumes_the_twin_needs(values, deployment) -> None:
    from dagster_k8s.container_context import K8sContainerContext
    from dagster_k8s.job import DagsterK8sJobConfig, construct_dagster_k8s_job

    # the container context the chart hands to `dagster api grpc` (k8sContainerContext helper)
    context = {
        "k8s": {
            "image_pull_policy": deployment["image"]["pullPolicy"],
            "env_config_maps": ["dagster-twinbridge-user-env"],
            "volume_mounts": deployment["volumeMounts"],
            "volumes": deployment["volumes"],
            **({"resources": deployment["resources"]} if deployment.get("resources") else {}),
            "namespace": "dagster",
            "service_account_name": "dagster-dagster-user-deployments-user-deployments",
            "env": deployment["env"],
        }
    }
    # what K8sContainerContext.create_for_run does: the run launcher's settings, then the code
    # location's on top (they win)
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    merged = K8sContainerContext(
        image_pull_policy=launcher.get("imagePullPolicy"), resources=launcher.get("resources")
    ).merge(K8sContainerContext.create_from_config(context))
    run_config = merged.run_k8s_config
    job = construct_dagster_k8s_job(
        DagsterK8sJobConfig(
            job_image=f"{deployment['image']['repository']}:{deployment['image']['tag']}",
            dagster_home="/opt/dagster/dagster_home",
            instance_config_map="dagster-instance",
            postgres_password_secret=values["global"]["postgresqlSecretName"],
        ),
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0123456789",
        user_defined_k8s_config=run_config,
        component="run_worker",
    )
    pod = job.spec.template.spec
    (container,) = pod.containers
    env = {e.name: e for e in container.env}
    mounts = {m.mount_path: m.name for m in container.volume_mounts}
    volumes = {v.name: v for v in pod.volumes}

    def mounted_volume(path: str):
        holders = [p for p in mounts if PurePosixPath(path).is_relative_to(p)]
        assert holders, f"{path} is on no mounted volume"
        return volumes[mounts[max(holders, key=len)]]

    # state on the shared claim, the plant model and scenarios from their ConfigMaps
    assert mounted_volume(env["TWIN_HOME"].value).persistent_volume_claim.claim_name
    assert mounted_volume(env["TWIN_PLANT"].value).config_map.name
    assert mounted_volume(env["TWIN_SCENARIOS"].value).config_map.name
    for name in secret_variables() - NOT_FOR_KUBERNETES:
        assert env[name].value is None, name
        assert env[name].value_from.secret_key_ref.key == name
    assert env["DAGSTER_PG_PASSWORD"].value_from.secret_key_ref.name == "dagster-postgresql-secret"
    # dbt's DuckDB may use TWIN_DUCKDB_MEMORY_LIMIT, plus the Python process around it (the dbt
    # tree peaked at 4.9 GB with the 4 GB limit, docs/scaling.md): the pod must allow that
    duckdb_limit = k8s_bytes(env["TWIN_DUCKDB_MEMORY_LIMIT"].value)
    assert k8s_bytes(container.resources.limits["memory"]) >= 1.25 * duckdb_limit


def k8s_bytes(quantity: str) -> float:
    """A memory quantity (Kubernetes `6Gi`, DuckDB `4GB`) in bytes."""
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "KB": 1e3, "MB": 1e6, "GB": 1e9, "G": 1e9}
    number, unit = re.fullmatch(r"([\d.]+)\s*([A-Za-z]*)", quantity.strip()).groups()
    return float(number) * units.get(unit, 1)


# --- variables -------------------------------------------------------------------------------


def test_every_twin_variable_in_the_deployment_files_is_one_the_code_reads(deployment) -> None:
    readers = set(settings_variables()) | dbt_profile_variables()
    named = {n for n in [*values_env(deployment), *env_example()] if n.startswith("TWIN_")}
    assert named, "no TWIN_* variable found: the parsers are broken"
    assert named - readers == set()


def test_every_variable_the_code_reads_is_in_env_example_and_has_a_place_on_kubernetes(
    deployment,
) -> None:
    read = {n for n in settings_variables() if n.startswith("TWIN_")}
    assert read - set(env_example()) == set()
    assert SET_BY_THE_CHART_VALUES | OPTIONAL_ON_KUBERNETES | NOT_FOR_KUBERNETES == read
    in_values = set(values_env(deployment))
    assert SET_BY_THE_CHART_VALUES <= in_values
    assert not NOT_FOR_KUBERNETES & in_values
    guide = (REPO / "docs" / "deploy.md").read_text()
    assert [n for n in sorted(read) if f"`{n}`" not in guide] == []


# --- secrets ---------------------------------------------------------------------------------


def test_secret_variables_come_only_from_secret_refs_and_are_empty_in_env_example(
    deployment,
) -> None:
    secrets = secret_variables()
    assert {"TWIN_PUBLISH_POSTGRES", "TWIN_ALERT_WEBHOOK", "TWIN_EVENTS_WEBHOOK"} <= secrets
    for name, entry in values_env(deployment).items():
        if name in secrets or name == "MLFLOW_TRACKING_URI":  # may carry a database password
            assert "value" not in entry
            assert entry["valueFrom"]["secretKeyRef"]["key"] == name
    example = env_example()
    assert {name: example[name] for name in secrets if example.get(name)} == {}


@pytest.mark.parametrize(
    "relative",
    ["deploy/helm/values.yaml", ".env.example", "Dockerfile", "docs/deploy.md", "README.md"],
)
def test_no_committed_file_holds_a_password_or_a_secret_manifest(relative) -> None:
    text = (REPO / relative).read_text()
    for user, password in re.findall(r"[a-z][a-z0-9+.-]*://([^:/@\s]*):([^@\s]+)@", text):
        assert password in PLACEHOLDER_PASSWORDS, f"{relative}: password for {user}"
    assert not re.search(r"(?m)^kind:\s*Secret\b", text)
    assert not re.search(r"hooks\.slack\.com/services/[A-Z0-9]+/", text)


# --- Dockerfile and .dockerignore -------------------------------------------------------------


def test_the_image_command_is_the_code_server_the_chart_runs(deployment) -> None:
    instructions = dockerfile_instructions()
    (cmd,) = [json.loads(args) for name, args in instructions if name == "CMD"]
    assert not [name for name, _ in instructions if name == "ENTRYPOINT"]  # the chart sets args
    scripts = {e.name for e in distribution("dagster").entry_points if e.group == "console_scripts"}
    assert cmd[0] in scripts
    assert cmd[1:3] == ["api", "grpc"]
    image = grpc_params(cmd[3:])
    chart = grpc_params(["-p", str(deployment["port"]), *deployment["dagsterApiGrpcArgs"]])
    keys = ("module_name", "working_directory", "location_name", "port")
    assert {k: image[k] for k in keys} == {k: chart[k] for k in keys}
    assert [args for name, args in instructions if name == "WORKDIR"] == [IMAGE_ROOT]
    assert str(deployment["port"]) in [a for name, a in instructions if name == "EXPOSE"]


def test_the_image_python_and_pins_match_the_project() -> None:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (base,) = [args for name, args in dockerfile_instructions() if name == "FROM"]
    version = re.match(r"python:(\d+\.\d+)", base).group(1)
    assert SpecifierSet(project["requires-python"]).contains(f"{version}.0")
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, pinned = line.split("==")
            lock[name.strip().lower().replace("_", "-")] = pinned.strip()
    for requirement in map(Requirement, project["dependencies"]):
        pinned = lock.get(requirement.name.lower().replace("_", "-"))
        # `pip install -c requirements.lock` fails on a pin outside the project's specifier
        assert pinned is not None, requirement
        assert requirement.specifier.contains(pinned), requirement


def test_the_image_builds_the_dbt_manifest_the_code_location_loads() -> None:
    runs = [args for name, args in dockerfile_instructions() if name == "RUN"]
    parse = [r for r in runs if re.search(r"\bdbt\b.*\bparse\b", r)]
    assert parse, "no `dbt parse`: the code location cannot load without target/manifest.json"
    words = shlex.split(parse[0].split("dbt", 1)[1])
    assert words[words.index("--project-dir") + 1] == "dbt_project"
    assert words[words.index("--profiles-dir") + 1] == "dbt_project"


def test_every_copied_path_exists_and_is_in_the_build_context() -> None:
    patterns = dockerignore_patterns()
    copies = [shlex.split(args) for name, args in dockerfile_instructions() if name == "COPY"]
    sources = [source for words in copies for source in words[:-1] if not source.startswith("--")]
    assert "twin" in sources
    assert "orchestration" in sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not docker_ignored(source, patterns), f"{source} is excluded by .dockerignore"
    # pyproject.toml's readme and the code location's files must reach the image too
    for needed in ("README.md", "pyproject.toml", "requirements.lock", "dagster.yaml"):
        assert needed in sources


@pytest.mark.parametrize(
    "path",
    [
        "data",
        "data/published/catalog.duckdb",
        ".venv",
        ".venv/bin/python",
        ".git",
        "dbt_project/target/manifest.json",
        ".env",
        ".env.production",
        "twin/__pycache__/settings.cpython-311.pyc",
        "warehouse/twin.duckdb",
    ],
)
def test_dockerignore_keeps_state_environments_and_build_output_out(path) -> None:
    assert docker_ignored(path, dockerignore_patterns())


def test_dockerignore_keeps_what_the_image_needs() -> None:
    # the checks above mean something only if the matcher can also say no
    patterns = dockerignore_patterns()
    for kept in ("twin/settings.py", "dbt_project/models/marts", "README.md", "dagster.yaml"):
        assert not docker_ignored(kept, patterns), kept
