"""Whole-batch rules (twin/ingest/batch_profile.py, data_contracts/expectations/*_profile.json):
each one fails a real bad file that every row rule alone would let through in part."""

from datetime import timedelta

from tests.support.batches import T0, demo_plant, land, make_mes_production_batch
from tests.support.lake import load_all
from twin.ingest.batch_profile import declared_day

PLANT = demo_plant()
TAG = PLANT.machine("L1-M01").tags[0]


def _readings(count: int, *, out_of_range: int = 0, start=T0) -> list[str]:
    """``count`` readings of one tag at its period; the first ``out_of_range`` above its max."""
    rows = []
    for i in range(count):
        value = TAG.max + 10 if i < out_of_range else (TAG.min + TAG.max) / 2
        ts = (start + timedelta(seconds=TAG.period_s * i)).isoformat().replace("+00:00", "Z")
        rows.append(f"{TAG.tag},{ts},{value},GOOD")
    return rows


def _csv(rows: list[str]) -> str:
    return "tag,ts,value,quality\n" + "\n".join(rows) + "\n"


def test_a_rescaled_sensor_quarantines_the_batch_a_stray_spike_does_not(paths, plant):
    land(paths, "historian", "rescaled.csv", _csv(_readings(400, out_of_range=100)))
    land(
        paths,
        "historian",
        "spike.csv",
        _csv(_readings(400, out_of_range=2, start=T0 - timedelta(hours=3))),
    )
    outcomes = load_all(paths, plant)
    rescaled, spike = outcomes["rescaled.csv"].audit, outcomes["spike.csv"].audit
    assert rescaled["status"] == "quarantined"
    assert "out_of_range_share" in rescaled["reason"]
    assert spike["status"] == "partially rejected"  # the two readings rejected, the rest loaded
    assert spike["rows_rejected"] == 2


def test_an_export_run_twice_quarantines_the_batch(paths, plant):
    rows = _readings(300)
    land(paths, "historian", "twice.csv", _csv(rows + rows[:60]))  # 60 of 360 rows repeat a key
    audit = load_all(paths, plant)["twice.csv"].audit
    assert audit["status"] == "quarantined"
    assert "duplicate_share" in audit["reason"]


def test_a_file_named_for_another_day_is_quarantined(paths, plant):
    content = _csv(_readings(30))  # readings of 2026-03-02
    land(paths, "historian", "historian_2026-03-05.csv", content)
    land(
        paths,
        "historian",
        "historian_2026-03-02.csv",
        content + f"{TAG.tag},2026-03-02T23:00:00Z,1.0,GOOD\n",
    )
    outcomes = load_all(paths, plant)
    wrong = outcomes["historian_2026-03-05.csv"].audit
    assert wrong["status"] == "quarantined"
    assert "outside_declared_day_share" in wrong["reason"]
    assert outcomes["historian_2026-03-02.csv"].audit["status"] == "loaded"


def test_the_declared_day_is_read_from_the_name():
    assert str(declared_day("historian_2026-11-03_late.parquet")) == "2026-11-03"
    assert declared_day("export.csv") is None
    assert declared_day("run_2026-13-40.csv") is None  # not a date: declares nothing


def test_a_counted_interval_booked_twice_quarantines_the_batch(paths, plant):
    good = make_mes_production_batch(rows=4)
    header, *rows = good.strip().splitlines()
    # 07:30-08:30 booked again under another work order over the 07:00 and 08:00 hours: every key
    # is unique and every row valid on its own, but those parts would be counted twice
    fields = rows[1].split(",")
    fields[1:3] = [
        (T0 + timedelta(minutes=90)).isoformat().replace("+00:00", "Z"),
        (T0 + timedelta(minutes=150)).isoformat().replace("+00:00", "Z"),
    ]
    fields[4] = "WO-901"
    again = ",".join(fields)
    land(paths, "mes_production", "counts.csv", good)
    land(paths, "mes_production", "booked_twice.csv", "\n".join([header, *rows, again]) + "\n")
    outcomes = load_all(paths, plant)
    assert outcomes["counts.csv"].audit["status"] == "loaded"
    twice = outcomes["booked_twice.csv"].audit
    assert twice["status"] == "quarantined"
    assert "overlapping_interval_share" in twice["reason"]
