"""MLflow registry for the failure-risk model: log, register a challenger, review, promote, load.

Conventions: experiment and registered model ``failure_model``; every training is a run and a new model
version with alias ``challenger``; ``promote`` moves alias ``champion``; a reviewer's decision is the
version tag ``review`` (``approved`` / ``rejected``; ``pending`` until then). Aliases, never stages. The
names are the constants below; the promotion and review rules that move the aliases and set the tags
(``promote_challenger``, ``review_decisions_to_apply``, ``apply_review``) are in ml/promotion.py.

The tracking URI is always passed in. ``mlflow.sklearn.log_model`` only works through MLflow's global
"fluent" state, so it runs inside ``_tracking_uri()``, which sets the URI and restores the previous
value afterwards; everything else goes through an ``MlflowClient`` bound to the URI.

Safe loading: models are stored with skops. MLflow's own loader takes the trusted-types list from the
model's MLmodel file (so a crafted artifact can trust anything) and needs the global
``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``. ``load_version`` instead downloads the artifact, refuses it
unless every non-default type in the file is in ``TRUSTED_TYPES`` declared here, and calls
``skops.io.load`` with that list.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import mlflow
import pandas as pd
import skops.io
import yaml
from mlflow import MlflowClient
from mlflow.models import infer_signature

from ml.train import FittedFailureModel

MODEL_NAME = "failure_model"

# Aliases of the registered model. Stored in existing tracking stores: renaming one orphans them.
CHALLENGER = "challenger"  # the latest registered version
CHAMPION = "champion"  # the version that scores the machines

# Tags on a model version (and on its run, for DAGSTER_RUN_ID_TAG / MODEL_KIND_TAG).
DAGSTER_RUN_ID_TAG = "dagster_run_id"
MODEL_KIND_TAG = "model_kind"
GATE_TAG = "gate"  # the promotion gate's verdict: GATE_PASSED or GATE_REFUSED
GATE_PASSED, GATE_REFUSED = "passed", "refused"
# The champion the gate compared the version with when it was registered (GATE_NO_CHAMPION: none).
GATE_CHAMPION_TAG = "gate_champion"
GATE_NO_CHAMPION = "none"
REVIEW_TAG = "review"  # REVIEW_PENDING until a reviewer sets one of REVIEW_DECISIONS
REVIEW_PENDING = "pending"
REVIEW_APPROVED, REVIEW_REJECTED = "approved", "rejected"
REVIEW_DECISIONS = (REVIEW_APPROVED, REVIEW_REJECTED)
REVIEWER_TAG = "reviewer"
REVIEW_APPLIED_TAG = "review_applied"  # the decision that was acted on (so it is acted on once)
REVIEW_OUTCOME_TAG = "review_outcome"  # why an approval did not make the version champion

# Types skops does not trust by default that a FittedFailureModel contains (checked by a test against
# skops.io.get_untrusted_types of a freshly trained model). Everything else (HistGradientBoosting*,
# IsotonicRegression, numpy) is in skops' default allow-list.
TRUSTED_TYPES = (
    "ml.train.FittedFailureModel",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
)


class UntrustedModelError(RuntimeError):
    """The stored model references types outside TRUSTED_TYPES; it was not loaded."""


@contextlib.contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    was_set = mlflow.is_tracking_uri_set()
    previous = mlflow.get_tracking_uri() if was_set else None
    previous_env = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if previous_env is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous_env


def _default_artifact_root(tracking_uri: str) -> str | None:
    """Artifacts next to a SQLite file (``<dir>/mlartifacts``) instead of MLflow's cwd-relative default."""
    parsed = urlparse(tracking_uri)
    if parsed.scheme != "sqlite":
        return None
    db = Path(tracking_uri.removeprefix("sqlite:///"))
    return (db.parent / "mlartifacts").resolve().as_uri()


def _requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{p}=={version(p)}" for p in ("scikit-learn", "skops", "numpy", "pandas", "scipy")]


def _flat_params(data: Mapping, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flat_params(value, f"{name}."))
        else:
            out[name] = str(value)
    return out


def _finite(metrics: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items() if v is not None and float(v) == float(v)}


class FailureModelRegistry:
    """The registered model ``failure_model`` in one tracking store."""

    def __init__(
        self,
        tracking_uri: str,
        model_name: str = MODEL_NAME,
        artifact_root: str | None = None,
    ) -> None:
        self.tracking_uri = tracking_uri
        self.model_name = model_name
        self.artifact_root = artifact_root or _default_artifact_root(tracking_uri)

    @cached_property
    def client(self) -> MlflowClient:
        return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)

    def experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(self.model_name)
        if exp is not None:
            return exp.experiment_id
        return self.client.create_experiment(self.model_name, artifact_location=self.artifact_root)

    def register_challenger(
        self,
        model: FittedFailureModel,
        *,
        metrics: Mapping[str, float],
        params: Mapping,
        data_window: Mapping[str, str | float],
        dagster_run_id: str,
        input_frame: pd.DataFrame,
        figures: Mapping[str, object] | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
        gate: tuple[bool, list[str]] | None = None,
        what_changed: str = "scheduled retrain on newer data",
    ) -> str:
        """Log a run (params, metrics, window, plots, model), register a version, alias it challenger."""
        example = input_frame[["machine_id", "as_of", *model.feature_names_]].head(5)
        signature = infer_signature(example, model.predict_risk(example))
        tags = {DAGSTER_RUN_ID_TAG: dagster_run_id, MODEL_KIND_TAG: model.kind}
        with _tracking_uri(self.tracking_uri):
            with mlflow.start_run(experiment_id=self.experiment_id(), tags=tags) as run:
                mlflow.log_params(_flat_params(params))
                mlflow.log_params({f"data.{k}": str(v) for k, v in data_window.items()})
                mlflow.log_metrics(_finite(metrics))
                mlflow.log_dict(dict(data_window), "data_window.json")
                for name, fig in (figures or {}).items():
                    mlflow.log_figure(fig, name)
                for name, table in (tables or {}).items():
                    mlflow.log_text(table.to_csv(index=False), f"tables/{name}.csv")
                info = mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=signature,
                    input_example=example,
                    serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS,
                    skops_trusted_types=list(TRUSTED_TYPES),
                    # Explicit requirements: inferring them re-loads the model in a subprocess
                    # (~8 s here). Loading also needs this project's `ml` package importable.
                    pip_requirements=_requirements(),
                )
            # Inside the context too: the registry resolves the logged model's `models:/m-...`
            # source through the global tracking URI (it hit ./mlflow.db in the cwd before).
            try:
                self.client.get_registered_model(self.model_name)
            except mlflow.exceptions.MlflowException:
                self.client.create_registered_model(self.model_name)
            mv = self.client.create_model_version(
                self.model_name,
                source=info.model_uri,
                run_id=run.info.run_id,
                model_id=info.model_id,
                tags={DAGSTER_RUN_ID_TAG: dagster_run_id, REVIEW_TAG: REVIEW_PENDING},
                description=_description(metrics, params, data_window, gate, what_changed),
            )
        self.client.set_registered_model_alias(self.model_name, CHALLENGER, mv.version)
        return str(mv.version)

    def promote(self, version: str) -> None:
        """Point alias ``champion`` at ``version`` (the gate and any review are the caller's)."""
        self.client.set_registered_model_alias(self.model_name, CHAMPION, str(version))

    def _alias_version(self, alias: str) -> str | None:
        try:
            return str(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except mlflow.exceptions.MlflowException:
            return None

    def champion_version(self) -> str | None:
        return self._alias_version(CHAMPION)

    def challenger_version(self) -> str | None:
        return self._alias_version(CHALLENGER)

    def version_metrics(self, version: str) -> dict[str, float]:
        run_id = self.client.get_model_version(self.model_name, str(version)).run_id
        return dict(self.client.get_run(run_id).data.metrics)

    def set_review(self, version: str, decision: str, reviewer: str | None = None) -> None:
        if decision not in REVIEW_DECISIONS:
            raise ValueError(f"review decision must be one of {REVIEW_DECISIONS}, got {decision!r}")
        self.client.set_model_version_tag(self.model_name, str(version), REVIEW_TAG, decision)
        if reviewer:
            self.client.set_model_version_tag(self.model_name, str(version), REVIEWER_TAG, reviewer)

    def review(self, version: str) -> str | None:
        return self.version_tags(version).get(REVIEW_TAG)

    def version_tags(self, version: str) -> dict[str, str]:
        return dict(self.client.get_model_version(self.model_name, str(version)).tags)

    def all_version_tags(self) -> list[tuple[str, dict[str, str]]]:
        """(version, tags) of every version, in the registry's search order."""
        found = self.client.search_model_versions(f"name = '{self.model_name}'")
        return [(str(v.version), dict(v.tags)) for v in found]

    def record_gate(self, version: str, passed: bool) -> None:
        """Tag the version with the promotion gate's verdict (GATE_PASSED / GATE_REFUSED) and the
        champion it was judged against (GATE_CHAMPION_TAG; called right after the judgement)."""
        champion = self.champion_version() or GATE_NO_CHAMPION
        self.client.set_model_version_tag(self.model_name, str(version), GATE_TAG, gate_tag(passed))
        self.client.set_model_version_tag(
            self.model_name, str(version), GATE_CHAMPION_TAG, champion
        )

    def retire_challenger(self) -> None:
        """Remove alias ``challenger`` (the version itself stays in the registry)."""
        self.client.delete_registered_model_alias(self.model_name, CHALLENGER)

    def mark_review_applied(self, version: str, decision: str) -> None:
        self.client.set_model_version_tag(
            self.model_name, str(version), REVIEW_APPLIED_TAG, decision
        )

    def refuse_approval(self, version: str, reason: str) -> None:
        """Record why an approval did not make the version champion (tag and description)."""
        self.client.set_model_version_tag(self.model_name, str(version), REVIEW_OUTCOME_TAG, reason)
        current = self.client.get_model_version(self.model_name, str(version)).description or ""
        note = f"Approval not applied: {reason}."
        self.client.update_model_version(
            self.model_name, str(version), description=f"{current}\n{note}".strip()
        )

    def versions_awaiting_review(self) -> list[str]:
        pending = [
            v for v, tags in self.all_version_tags() if tags.get(REVIEW_TAG) == REVIEW_PENDING
        ]
        return sorted(pending, key=int)

    def download_model(self, version: str, dst_path: str) -> str:
        """Download a version's model directory (MLmodel, model.skops, input example) to dst_path.

        Goes through the logged model's artifact location: resolving the version's ``models:/m-...``
        source makes MLflow open a client on the *global* tracking URI (an ``mlflow.db`` in the cwd).
        """
        mv = self.client.get_model_version(self.model_name, str(version))
        # The SQLite registry keeps the logged-model id only in the source URI (model_id is None).
        model_id = mv.model_id or mv.source.removeprefix("models:/")
        location = self.client.get_logged_model(model_id).artifact_location
        parsed = urlparse(location)
        if parsed.scheme == "file":
            # The twin's own store (artifacts next to the SQLite registry): a plain copy. MLflow's
            # download draws a progress bar on stderr that only an environment variable turns off.
            source = Path(url2pathname(parsed.path))
            return shutil.copytree(source, Path(dst_path) / source.name).as_posix()
        return mlflow.artifacts.download_artifacts(artifact_uri=location, dst_path=dst_path)

    def load_version(self, version: str) -> FittedFailureModel:
        """Download and load one version with the code-declared TRUSTED_TYPES only."""
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(self.download_model(version, tmp))
            flavor = yaml.safe_load((local / "MLmodel").read_text())["flavors"]["sklearn"]
            if flavor.get("serialization_format") != "skops":
                raise UntrustedModelError(
                    f"{self.model_name} v{version} is stored as {flavor.get('serialization_format')!r}, "
                    "not skops: refusing to unpickle it"
                )
            return load_skops(local / flavor["pickled_model"])

    def load_champion(self) -> tuple[FittedFailureModel, str]:
        """The champion and its version; raises LookupError when there is none (fail loudly)."""
        version = self.champion_version()
        if version is None:
            raise LookupError(f"registered model {self.model_name!r} has no {CHAMPION!r} alias")
        return self.load_version(version), version


# --- The gate's verdict as a version tag (the rules that act on it: ml/promotion.py) -------------


def gate_tag(passed: bool) -> str:
    """The GATE_TAG value for a gate verdict."""
    return GATE_PASSED if passed else GATE_REFUSED


def passed_gate(tags: Mapping[str, str]) -> bool:
    return tags.get(GATE_TAG) == GATE_PASSED


def load_skops(path: Path) -> FittedFailureModel:
    """Load a skops file only if it needs no type beyond skops' defaults and TRUSTED_TYPES."""
    untrusted = sorted(set(skops.io.get_untrusted_types(file=path)) - set(TRUSTED_TYPES))
    if untrusted:
        raise UntrustedModelError(f"{path.name} references untrusted types {untrusted}; not loaded")
    model = skops.io.load(path, trusted=list(TRUSTED_TYPES))
    if not isinstance(model, FittedFailureModel):
        raise UntrustedModelError(
            f"{path.name} holds a {type(model).__name__}, not a FittedFailureModel"
        )
    return model


def _split(window: Mapping[str, str | float], name: str) -> str | float | None:
    """A split boundary from the data window: ``ml.pipeline`` stores them as ``split.<name>``."""
    return window.get(f"split.{name}", window.get(name))


def _description(
    metrics: Mapping[str, float],
    params: Mapping,
    window: Mapping[str, str | float],
    gate: tuple[bool, list[str]] | None,
    what_changed: str,
) -> str:
    """A review note: what changed, the data window, the metrics against the floors, the gate verdict."""
    floors = params.get("floors", {}) if isinstance(params, Mapping) else {}
    keys = [
        "event_recall",
        "episode_precision",
        "row_precision",
        "pr_auc",
        "ece",
        "brier",
        "mean_lead_time_h",
        "false_alarms_per_machine_week",
        "n_test_failures",
        "n_test_failures_no_precursor",
    ]
    lines = [
        f"What changed: {what_changed}.",
        f"Data: trained on {_split(window, 'start')} .. {_split(window, 'train_end')}, held out "
        f"{_split(window, 't_split')} .. {_split(window, 'end')} "
        f"(gap {_split(window, 'gap_h')} h; {window.get('rows', '?')} machine-hours of "
        f"{window.get('machines', '?')} machines).",
        "Held-out metrics: "
        + ", ".join(
            f"{k} {metrics[k]:.3g}" for k in keys if k in metrics and metrics[k] == metrics[k]
        )
        + ".",
        f"Floors: {json.dumps(floors, default=str)}.",
    ]
    if gate is not None:
        ok, reasons = gate
        lines.append(("Gate PASSED: " if ok else "Gate REFUSED: ") + "; ".join(reasons) + ".")
    lines.append(
        f"Approve or reject with the version tag {REVIEW_TAG}={REVIEW_APPROVED}|{REVIEW_REJECTED}."
    )
    return "\n".join(lines)
