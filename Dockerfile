# twinbridge's image: the Dagster code location (`dagster api grpc`) and every run pod the
# K8sRunLauncher starts (deploy/helm/values.yaml, docs/deploy.md). Build from the repository root:
#     docker build -t registry.example.com/twinbridge:$(git rev-parse --short HEAD) .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    TWIN_HOME=/var/twinbridge/home

WORKDIR /opt/twinbridge

# The pinned dependencies first, in their own layer: a code change does not reinstall them.
# requirements.lock pins every transitive package; only the runtime ones are installed (no dev
# extra: no pytest, ruff or playwright in the image).
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/runtime.txt \
 && pip install -c requirements.lock -r /tmp/runtime.txt \
 && rm /tmp/runtime.txt

COPY README.md workspace.yaml dagster.yaml ./
COPY twin ./twin
COPY ml ./ml
COPY data_contracts ./data_contracts
COPY orchestration ./orchestration
COPY dbt_project ./dbt_project

# Editable (compat) install, as `make install` does: the code finds dbt_project/ and dagster.yaml
# next to its packages (orchestration/lib/dbt_project.py), so it must run from this folder.
# Then the dbt manifest, which the code location needs to load (`make manifest`).
RUN pip install --no-deps --config-settings editable_mode=compat -e . \
 && TWIN_HOME=/tmp/dbt-parse dbt --no-use-colors parse --quiet --project-dir dbt_project --profiles-dir dbt_project \
 && rm -rf /tmp/dbt-parse dbt_project/logs

# An unprivileged user; TWIN_HOME is normally a mounted volume (the chart's podSecurityContext
# uses the same uid/gid, so the volume is writable for it). dagster-dbt writes each invocation's
# artifacts under dbt_project/target/ and dbt its logs under dbt_project/logs/: the user owns both.
RUN groupadd --gid 10001 twin \
 && useradd --uid 10001 --gid twin --home-dir /var/twinbridge --create-home twin \
 && mkdir -p "$TWIN_HOME" && chown -R twin:twin /var/twinbridge /opt/twinbridge/dbt_project
USER twin

EXPOSE 3030
# The code location on its own (`docker run -p 3030:3030 IMAGE`); the Helm chart passes the same
# command as the container's args, and run pods run `dagster api execute_run ...` instead.
CMD ["dagster", "api", "grpc", "--host", "0.0.0.0", "--port", "3030", "--module-name", "orchestration.definitions", "--working-directory", "/opt/twinbridge", "--location-name", "twinbridge"]
