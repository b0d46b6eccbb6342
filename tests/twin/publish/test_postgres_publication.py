"""Publication into PostgreSQL (DESIGN §3.7) against a real private PostgreSQL 15 server.

What PostgreSQL holds equals catalog.duckdb row for row; a republication is one transaction (a
reader never sees a mix, even while the writer's transaction is held open); two sites never touch
each other's rows and never wait on each other; the reader role reads and cannot write; an
unreachable server fails the publication in one sentence without the password; the network
report shows every site.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import duckdb
import psycopg
import pytest

from orchestration.cli.commands import main
from tests.support.postgres_server import postgres_server  # noqa: F401 (session fixture)
from tests.support.publication import LINEAGE, make_tables
from twin.paths import TwinPaths
from twin.publish.postgres.checks import check_site
from twin.publish.postgres.connection import PostgresPublicationError
from twin.publish.postgres.network import write_network_report
from twin.publish.postgres.schema import READER_ROLE, SCHEMA, quote_ident, relations
from twin.publish.postgres.writer import mirror_current_publication
from twin.publish.versions import list_versions, publish, read_manifest

SITE_A, SITE_B = "PLANT_A", "PLANT_B"


@pytest.fixture
def pg_url(postgres_server, monkeypatch) -> str:  # noqa: F811 (the imported fixture)
    """A fresh database for this test, named in TWIN_PUBLISH_POSTGRES."""
    url = postgres_server.create_database(f"twin_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", url)
    return url


def site_tables(site_id: str, scale: float = 1.0) -> dict:
    """The shared valid publication tables, for another site (both sites have a line L1)."""
    tables = make_tables(scale)
    for frame in tables.values():
        frame["site_id"] = site_id
    return tables


def site_home(tmp_path: Path, site_id: str) -> TwinPaths:
    return TwinPaths(tmp_path / site_id).ensure()


def catalog_rows(paths: TwinPaths, relation) -> list[tuple]:
    columns = ", ".join(quote_ident(c) for c, _ in relation.columns)
    with duckdb.connect(str(paths.published / "catalog.duckdb"), read_only=True) as con:
        rows = con.execute(f"select {columns} from {quote_ident(relation.name)}").fetchall()
    return sorted(rows, key=repr)  # repr: nulls sort too


def postgres_rows(url: str, relation, site_id: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"select * from {relation.qualified} where {quote_ident(relation.site_column)} = %s",
            (site_id,),
        ).fetchall()
    return sorted(rows, key=repr)


def site_snapshot(url: str, site_id: str) -> dict[str, list[tuple]]:
    """Every row of the site with its xmin (the transaction that wrote it): changes if rewritten."""
    snapshot = {}
    with psycopg.connect(url) as conn:
        for relation in relations():
            rows = conn.execute(
                f"select xmin::text, * from {relation.qualified}"
                f" where {quote_ident(relation.site_column)} = %s",
                (site_id,),
            ).fetchall()
            snapshot[relation.name] = sorted(rows, key=repr)
    return snapshot


def held_publication(url: str, site_id: str) -> str | None:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            f"select publication_id from {SCHEMA}.publications where site_id = %s", (site_id,)
        ).fetchone()
    return row[0] if row else None


class RowLockOnSite:
    """Hold the lock on a site's ``publications`` row: that site's publication transaction then
    stops at its last statement with every delete and copy done but not committed."""

    def __init__(self, url: str, site_id: str) -> None:
        self.url = url
        self.conn = psycopg.connect(url)
        self.conn.execute(
            f"select 1 from {SCHEMA}.publications where site_id = %s for update", (site_id,)
        )

    def wait_for_blocked_writer(self, timeout_s: float = 30) -> None:
        # Its own autocommit connection: inside a transaction pg_stat_activity is one snapshot.
        deadline = time.monotonic() + timeout_s
        with psycopg.connect(self.url, autocommit=True) as monitor:
            while time.monotonic() < deadline:
                waiting = monitor.execute(
                    "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                    " and datname = current_database()"
                ).fetchone()[0]
                if waiting:
                    return
                time.sleep(0.02)
        raise AssertionError("the writer never reached the locked row")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def test_postgres_holds_every_catalog_object_row_for_row(tmp_path, pg_url) -> None:
    paths = site_home(tmp_path, SITE_A)
    publication = publish(paths, site_tables(SITE_A), LINEAGE)

    with duckdb.connect(str(paths.published / "catalog.duckdb"), read_only=True) as con:
        catalog_objects = {
            row[0] for row in con.execute("select name from _publication").fetchall()
        }
    assert {r.name for r in relations()} == catalog_objects  # tables and connector views
    for relation in relations():
        expected = catalog_rows(paths, relation)
        assert expected, f"{relation.name}: the test data should fill every object"
        assert postgres_rows(pg_url, relation, SITE_A) == expected, relation.name
    # `select *` has the catalog's shape: contract columns, contract order, nothing added
    with psycopg.connect(pg_url) as conn:
        cursor = conn.execute(f"select * from {SCHEMA}.ibp_capasupply limit 0")
        assert [c.name for c in cursor.description] == [c for c, _ in relations()[6].columns]
        lineage = conn.execute(
            f"select name, kind, contract_version, row_count from {SCHEMA}.publication_objects"
            " where site_id = %s and publication_id = %s",
            (SITE_A, publication.publication_id),
        ).fetchall()
        manifest = conn.execute(
            f"select manifest from {SCHEMA}.publications where site_id = %s", (SITE_A,)
        ).fetchone()[0]
    listed = {**read_manifest(paths)["tables"], **read_manifest(paths)["views"]}
    assert {n: (k, v, rows) for n, k, v, rows in lineage} == {
        name: (entry["kind"], entry["contract_version"], entry["rows"])
        for name, entry in listed.items()
    }
    assert manifest["publication_id"] == publication.publication_id
    assert manifest["data"]["batches"]["ids"] == LINEAGE["batch_ids"]
    assert check_site(pg_url, SITE_A) == []


def test_a_reader_never_sees_two_publications_of_a_site_during_a_republication(
    tmp_path, pg_url
) -> None:
    paths = site_home(tmp_path, SITE_A)
    first = publish(paths, site_tables(SITE_A), LINEAGE).publication_id
    capacity_rows = len(catalog_rows(paths, relations()[0]))
    # One statement over the canonical table, another table and the lineage row: one snapshot.
    probe = (
        f"select count(distinct publication_id), min(publication_id), count(*) filter (where t = 'c')"
        f" from (select 'c' as t, publication_id from {SCHEMA}.capacity_supply where site_id = %(s)s"
        f" union all select 'k', publication_id from {SCHEMA}.kpi_daily where site_id = %(s)s"
        f" union all select 'p', publication_id from {SCHEMA}.publications where site_id = %(s)s) x"
    )
    seen, errors, stop = [], [], threading.Event()

    def poll() -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(probe, {"s": SITE_A}).fetchone())
                except Exception as error:  # recorded: the assertion below names it
                    errors.append(repr(error))

    reader = threading.Thread(target=poll)
    reader.start()
    published = [first]
    try:
        # Second publication: held open at its last statement, then committed.
        lock = RowLockOnSite(pg_url, SITE_A)
        results: list = []
        writer = threading.Thread(
            target=lambda: results.append(publish(paths, site_tables(SITE_A, 1.1), LINEAGE))
        )
        writer.start()
        lock.wait_for_blocked_writer()
        during = len(seen)
        time.sleep(0.3)  # the reader polls while the writer's deletes and copies are uncommitted
        assert len(seen) > during
        assert all(row == (1, first, capacity_rows) for row in seen[during:])
        lock.release()
        writer.join(timeout=60)
        published.append(results[0].publication_id)
        # Third publication at full speed while the reader keeps polling.
        published.append(publish(paths, site_tables(SITE_A, 1.2), LINEAGE).publication_id)
        time.sleep(0.1)
    finally:
        stop.set()
        reader.join(timeout=10)
    assert errors == []
    assert {row[0] for row in seen} == {1}  # never two publication ids for the site at once
    assert {row[2] for row in seen} == {capacity_rows}  # never a half-replaced table
    assert [pid for pid in published if pid in {row[1] for row in seen}] == published
    assert (
        held_publication(pg_url, SITE_A) == published[-1] == read_manifest(paths)["publication_id"]
    )
    assert postgres_rows(pg_url, relations()[0], SITE_A) == catalog_rows(paths, relations()[0])


def test_two_sites_publish_at_once_without_touching_each_others_rows(
    tmp_path, pg_url, monkeypatch
) -> None:
    home_a, home_b = site_home(tmp_path, SITE_A), site_home(tmp_path, SITE_B)
    publish(home_a, site_tables(SITE_A), LINEAGE)
    a_before = site_snapshot(pg_url, SITE_A)
    publish(home_b, site_tables(SITE_B, 0.5), LINEAGE)
    assert site_snapshot(pg_url, SITE_A) == a_before  # same rows, same writing transaction

    # Both sites publish at once: A's transaction is held open with all its rows replaced; B's
    # must neither wait for it nor deadlock with it.
    monkeypatch.delenv("TWIN_PUBLISH_POSTGRES")
    publish(home_a, site_tables(SITE_A, 1.1), LINEAGE)
    publish(home_b, site_tables(SITE_B, 0.6), LINEAGE)
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", pg_url)
    lock = RowLockOnSite(pg_url, SITE_A)
    a_result: list = []
    a_writer = threading.Thread(target=lambda: a_result.append(mirror_current_publication(home_a)))
    a_writer.start()
    try:
        lock.wait_for_blocked_writer()
        started = time.monotonic()
        b_result = mirror_current_publication(home_b)
        assert time.monotonic() - started < 5
    finally:
        lock.release()
        a_writer.join(timeout=60)
    assert b_result.written
    assert a_result[0].written
    for site, home in ((SITE_A, home_a), (SITE_B, home_b)):
        assert held_publication(pg_url, site) == read_manifest(home)["publication_id"]
        for relation in relations():
            assert postgres_rows(pg_url, relation, site) == catalog_rows(home, relation)
        assert check_site(pg_url, site) == []
    # Mirroring what PostgreSQL already holds writes nothing.
    b_now = site_snapshot(pg_url, SITE_B)
    assert mirror_current_publication(home_b).written is False
    assert site_snapshot(pg_url, SITE_B) == b_now


def test_the_reader_role_reads_and_cannot_write(tmp_path, pg_url) -> None:
    publish(site_home(tmp_path, SITE_A), site_tables(SITE_A), LINEAGE)
    planner = f"planner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        assert admin.execute(
            "select rolcanlogin from pg_roles where rolname = %s", (READER_ROLE,)
        ).fetchone() == (False,)  # a group role: planners log in as themselves
        admin.execute(f"create role {planner} login password 'planner-pw' in role {READER_ROLE}")
    reader_url = pg_url.replace(pg_url.split("://")[1].split("@")[0], f"{planner}:planner-pw")
    with psycopg.connect(reader_url, autocommit=True) as conn:
        for relation in relations():
            conn.execute(f"select count(*) from {relation.qualified}").fetchone()
        assert conn.execute(f"select count(*) from {SCHEMA}.publications").fetchone() == (1,)
        for statement in (
            f"delete from {SCHEMA}.capacity_supply",
            f"update {SCHEMA}.publications set publication_id = 'x'",
            f"insert into {SCHEMA}.kpi_daily (site_id) values ('X')",
            f"truncate {SCHEMA}.constraint_map",
            f"create table {SCHEMA}.sneaky (x int)",
            f"drop table {SCHEMA}.capacity_supply",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_an_unreachable_server_fails_the_publication_in_one_redacted_sentence(
    tmp_path, monkeypatch
) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv(
        "TWIN_PUBLISH_POSTGRES", f"postgresql://twin:s3cret-pw@127.0.0.1:{port}/twin"
    )
    paths = site_home(tmp_path, SITE_A)
    with pytest.raises(PostgresPublicationError) as raised:
        publish(paths, site_tables(SITE_A), LINEAGE)
    message = str(raised.value)
    assert f"postgresql://127.0.0.1:{port}" in message
    assert "s3cret" not in message
    assert "twin:" not in message
    assert "\n" not in message
    # The local publication is complete and current: catalog, manifest and report agree.
    (current,) = list_versions(paths)
    assert current in message
    assert read_manifest(paths)["publication_id"] == current
    assert current in (paths.published / "report.html").read_text()


def test_a_wrong_password_is_reported_without_it(tmp_path, postgres_server, monkeypatch) -> None:  # noqa: F811
    url = postgres_server.url(password="not-the-password")
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", url)
    with pytest.raises(PostgresPublicationError) as raised:
        publish(site_home(tmp_path, SITE_A), site_tables(SITE_A), LINEAGE)
    message = str(raised.value)
    assert "password authentication failed" in message
    assert "not-the-password" not in message
    assert postgres_server.password not in message


def test_a_table_that_no_longer_matches_its_contract_stops_the_publication(
    tmp_path, pg_url
) -> None:
    paths = site_home(tmp_path, SITE_A)
    first = publish(paths, site_tables(SITE_A), LINEAGE).publication_id
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"alter table {SCHEMA}.kpi_daily add column surprise text")
    with pytest.raises(PostgresPublicationError, match=r"twin_published\.kpi_daily has columns"):
        publish(paths, site_tables(SITE_A, 1.1), LINEAGE)
    assert held_publication(pg_url, SITE_A) == first  # nothing of the second one arrived


def test_the_network_report_shows_every_site(tmp_path, pg_url, monkeypatch, capsys) -> None:
    for site, scale in ((SITE_A, 1.0), (SITE_B, 0.5)):
        publish(site_home(tmp_path, site), site_tables(site, scale), LINEAGE)
    network = write_network_report(pg_url, tmp_path / "network.html")
    assert network.site_ids == [SITE_A, SITE_B]
    page = (tmp_path / "network.html").read_text()
    assert 'id="network-sites"' in page
    for site in (SITE_A, SITE_B):
        assert held_publication(pg_url, site) in page
        # both plants have a line L1: kept apart by their site
        assert f'id="capacity-fan-{site}/L1"' in page
        assert f"{site}/L1-M2" in page  # machine ids in the bottleneck and risk sections
    assert f"Capacity report — {SITE_A}, {SITE_B}" in page

    out = tmp_path / "cli" / "network.html"
    assert main(["report", "--network", "--out", str(out)]) == 0
    assert f'id="capacity-fan-{SITE_B}/L1"' in out.read_text()
    assert str(out) in capsys.readouterr().out
    monkeypatch.delenv("TWIN_PUBLISH_POSTGRES")
    assert main(["report", "--network"]) == 2
    assert "set TWIN_PUBLISH_POSTGRES" in capsys.readouterr().err
