"""When the deployed twin refreshes an asset by itself (declarative automation).

The rule is "new data upstream", never "missing": on a fresh TWIN_HOME nothing is built from an
empty lake (an asset waits until everything it reads exists); the first landed batches start the
chain (KPIs, features, risk scores, scenarios, publication).
"""

from collections.abc import Sequence

import dagster as dg

AC = dg.AutomationCondition


def refresh_after_new_data(
    may_be_missing: dg.AssetSelection | None = None,
    wait_for: Sequence[dg.AssetKey] = (),
) -> AC:
    """Dagster's eager condition: once after any upstream asset got new data, when nothing upstream
    is missing or still running.

    ``may_be_missing``: upstream assets that need not exist, e.g. batch partitions (a rejected or
    failed batch must not stop the plant's KPIs) or a champion model not trained yet.
    ``wait_for``: assets, upstream or not, whose runs are waited for too: while any batch load of
    any source is queued or running, no KPI model starts, so files landed together are one rebuild
    (one run, one dbt build) instead of one per source.
    """
    condition = AC.eager()
    if may_be_missing is not None:
        condition = condition.without(~AC.any_deps_missing()) & ~AC.any_deps_missing().ignore(
            may_be_missing
        )
    for key in wait_for:
        condition = condition & ~AC.asset_matches(key, AC.in_progress())
    return condition.with_label("refresh after new data")


def check_with_its_asset() -> AC:
    """An asset check runs in the same run as its asset's automated refresh (blocking checks then
    stop whatever is downstream in that run, and a publication waits for them to pass).

    A check that reads other tables too (a dbt relationships test) waits until they all exist.
    """
    return (
        AC.any_deps_updated().since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
    ).with_label("with its asset")


def build_when_missing() -> AC:
    """Reference data with no upstream (the plant model's tables): built when absent.

    Not retried after a failed run (a bad plant model would fail every tick): the failure is
    reported, and the next successful materialization clears it.
    """
    return (AC.missing() & ~AC.in_progress() & ~AC.execution_failed()).with_label(
        "build when missing"
    )


def publish_after_new_capacity(not_triggering: dg.AssetSelection) -> AC:
    """Publish after a scenario batch, once every upstream blocking check has passed.

    Tables refreshed in the same run as the KPIs (``not_triggering``) do not trigger a publication
    of their own: the scenario batch that follows new data does, so a landing publishes once.
    """
    return (
        AC.any_deps_updated().ignore(not_triggering).since_last_handled()
        & ~AC.any_deps_missing()
        & ~AC.any_deps_in_progress()
        & ~AC.in_progress()
        & AC.all_deps_blocking_checks_passed()
    ).with_label("publish after new capacity")
