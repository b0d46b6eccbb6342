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


def _claim_rounds(home: str, rounds: int, barrier, results) -> None:
    """One claimer process: claim once per round, right after the parent has landed the round's files."""
    from pathlib import Path

    from twin.ingest import landing
    from twin.paths import TwinPaths

    paths = TwinPaths(Path(home))
    for _ in range(rounds):
        barrier.wait()  # the round's files are in landing: both claimers start together
        try:
            results.put([b.batch_id for b in landing.claim_landed_files(paths)])
        except Exception as problem:  # reported to the parent, which fails the test
            results.put(f"{type(problem).__name__}: {problem}")
        barrier.wait()  # both done before the next round lands


def test_two_processes_claiming_at_once_claim_each_file_exactly_once(paths):
    import multiprocessing

    rounds, per_round = 10, 40
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    claimers = [
        ctx.Process(target=_claim_rounds, args=(str(paths.home), rounds, barrier, results))
        for _ in range(2)
    ]
    for process in claimers:
        process.start()
    landed: set[str] = set()
    outcomes = []
    try:
        for r in range(rounds):
            for i in range(per_round):
                content = f"tag,ts,value,quality\nround {r} file {i}\n" * 2000  # ~60 kB
                source = ("historian", "mes_states")[i % 2]
                land(paths, source, f"r{r}_{i}.csv", content)
                landed.add(hashlib.sha256(content.encode()).hexdigest())
            # the same content twice in a round: still one batch
            land(
                paths,
                "historian",
                f"r{r}_again.csv",
                f"tag,ts,value,quality\nround {r} file 0\n" * 2000,
            )
            barrier.wait(timeout=120)
            barrier.wait(timeout=120)
            outcomes += [results.get(timeout=60) for _ in claimers]
    finally:
        for process in claimers:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    errors = [o for o in outcomes if isinstance(o, str)]
    assert errors == []
    assert all(p.exitcode == 0 for p in claimers)
    claimed = [batch_id for o in outcomes for batch_id in o]
    assert sorted(claimed) == sorted(landed)  # each file claimed once, by one of the two
    archived = [b.batch_id for b in landing.archived_batches(paths)]
    assert sorted(archived) == sorted(landed)
    assert [p for s in ("historian", "mes_states") for p in paths.landing_dir(s).iterdir()] == []


def test_a_claimer_killed_mid_claim_loses_nothing_and_leaves_no_lock(paths):
    import signal
    import subprocess
    import sys

    land(paths, "cmms", "x.csv", "wo_id,machine_id\n1,L1-M01\n")
    # A claimer that took the lock and then dies (SIGKILL: no cleanup of any kind).
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from twin.ingest import landing\n"
        "from twin.paths import TwinPaths\n"
        "with landing.claim_lock(TwinPaths(Path(sys.argv[1]))):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(60)\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(paths.home)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert (paths.landing_dir("cmms") / "x.csv").exists()  # still in landing while locked
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    (batch,) = landing.claim_landed_files(paths)  # the kernel released the dead holder's lock
    assert batch.file == "x.csv"
    assert batch.archived.exists()
