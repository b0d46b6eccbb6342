import hashlib
import os

import pytest

from tests.support.batches import land, make_historian_batch, make_mes_states_batch
from twin.ingest import landing


def test_claim_archives_under_content_hash_in_landing_order(paths):
    first, second = make_mes_states_batch(rows=2), make_historian_batch(rows=3)
    land(paths, "historian", "b.csv", second, mtime=2_000_000)
    land(paths, "mes_states", "a.csv", first, mtime=1_000_000)
    claimed = landing.claim_landed_files(paths)
    assert [(b.source, b.file) for b in claimed] == [
        ("mes_states", "a.csv"),
        ("historian", "b.csv"),
    ]
    batch = claimed[0]
    assert batch.batch_id == hashlib.sha256(first.encode()).hexdigest()
    assert batch.archived == paths.archive / "mes_states" / f"{batch.batch_id}__a.csv"
    assert batch.archived.read_text() == first
    assert not any(paths.landing_dir("mes_states").iterdir())
    assert landing.find_batch(paths, batch.batch_id) == batch
    assert landing.archived_batches(paths, "historian") == [claimed[1]]
    assert landing.claim_landed_files(paths) == []


def test_tmp_and_dot_files_are_left_alone(paths):
    folder = paths.landing_dir("historian")
    (folder / "partial.csv.tmp").write_text("tag,ts")
    (folder / ".hidden.csv").write_text("tag,ts")
    assert landing.claim_landed_files(paths) == []
    assert sorted(p.name for p in folder.iterdir()) == [".hidden.csv", "partial.csv.tmp"]


def test_same_content_twice_is_one_batch_and_the_second_drop_is_noted(paths):
    content = make_historian_batch(rows=4)
    land(paths, "historian", "one.csv", content)
    (first,) = landing.claim_landed_files(paths)
    land(paths, "historian", "again.csv", content)
    assert landing.claim_landed_files(paths) == []
    assert not (paths.landing_dir("historian") / "again.csv").exists()
    assert [d["file"] for d in landing.duplicates_of(paths, first.batch_id)] == ["again.csv"]
    assert len(landing.archived_batches(paths)) == 1


def test_find_batch_unknown_raises(paths):
    with pytest.raises(KeyError):
        landing.find_batch(paths, "0" * 64)


def test_quarantine_copies_and_writes_reason(paths):
    land(paths, "cmms", "x.csv", "nonsense\n")
    (batch,) = landing.claim_landed_files(paths)
    target = landing.quarantine(paths, batch, "wrong header")
    assert target.read_text() == "nonsense\n"
    assert target.with_name(target.name + ".reason.txt").read_text() == "wrong header\n"
    assert batch.archived.exists()  # the archive is never modified
    os.utime(batch.archived)
