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
from dataclasses import dataclass
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
from twin.publish.versions import list_versions, publish, read_manifest, rollback

SITE_A, SITE_B = "PLANT_A", "PLANT_B"


@pytest.fixture
def pg_url(postgres_server, monkeypatch) -> str:  # noqa: F811 (the imported fixture)
    """A fresh database for this test, named in TWIN_PUBLISH_POSTGRES."""
    url = postgres_server.create_database(f"twin_{uuid.uuid4().hex[:8]}")
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", url)
    return url


@dataclass(frozen=True)
class TwoSites:
    url: str
    homes: dict[str, TwinPaths]
    a_before_b: dict[str, list[tuple]]  # site A's rows (with xmin) before site B published


@pytest.fixture(scope="module")
def two_sites(postgres_server, tmp_path_factory) -> TwoSites:  # noqa: F811
    """Two deployments (own TWIN_HOME, own site id, both with a line L1) that published into one
    database, A then B; shared by the tests that only read it (publishing costs ~1.5 s each)."""
    url = postgres_server.create_database("twin_two_sites")
    root = tmp_path_factory.mktemp("two_sites")
    homes = {site: site_home(root, site) for site in (SITE_A, SITE_B)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TWIN_PUBLISH_POSTGRES", url)
        publish(homes[SITE_A], site_tables(SITE_A), LINEAGE)
        a_before_b = site_snapshot(url, SITE_A)
        publish(homes[SITE_B], site_tables(SITE_B, 0.5), LINEAGE)
    return TwoSites(url, homes, a_before_b)


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


def test_postgres_holds_every_catalog_object_row_for_row(two_sites) -> None:
    for site, paths in two_sites.homes.items():
        with duckdb.connect(str(paths.published / "catalog.duckdb"), read_only=True) as con:
            objects = {row[0] for row in con.execute("select name from _publication").fetchall()}
        assert {r.name for r in relations()} == objects  # the tables and the connector views
        for relation in relations():
            expected = catalog_rows(paths, relation)
            assert expected, f"{relation.name}: the test data should fill every object"
            assert postgres_rows(two_sites.url, relation, site) == expected, relation.name
        assert check_site(two_sites.url, site) == []
    # `select *` has the catalog's shape: contract columns in contract order, nothing added
    ibp = next(r for r in relations() if r.name == "ibp_capasupply")
    with psycopg.connect(two_sites.url) as conn:
        cursor = conn.execute(f"select * from {SCHEMA}.ibp_capasupply limit 0")
        assert [c.name for c in cursor.description] == [c for c, _ in ibp.columns]


def test_the_lineage_tables_name_each_sites_publication_and_objects(two_sites) -> None:
    for site, paths in two_sites.homes.items():
        live = read_manifest(paths)
        with psycopg.connect(two_sites.url) as conn:
            lineage = conn.execute(
                f"select name, kind, contract_version, row_count from {SCHEMA}.publication_objects"
                " where site_id = %s and publication_id = %s",
                (site, live["publication_id"]),
            ).fetchall()
            manifest, published_at = conn.execute(
                f"select manifest, published_at from {SCHEMA}.publications where site_id = %s",
                (site,),
            ).fetchone()
        listed = {**live["tables"], **live["views"]}
        assert {n: (k, v, rows) for n, k, v, rows in lineage} == {
            name: (entry["kind"], entry["contract_version"], entry["rows"])
            for name, entry in listed.items()
        }
        assert manifest["publication_id"] == live["publication_id"]
        assert manifest["data"]["batches"]["ids"] == LINEAGE["batch_ids"]
        assert f"{published_at:%Y-%m-%dT%H:%M:%S.%f}Z" == live["published_at"]


def test_one_sites_publication_leaves_the_other_sites_rows_untouched(two_sites) -> None:
    # xmin is the transaction that wrote a row: equal means B's publication did not even rewrite A's
    assert site_snapshot(two_sites.url, SITE_A) == two_sites.a_before_b


def test_the_reader_role_reads_and_cannot_write(two_sites) -> None:
    url = two_sites.url
    planner = f"planner_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as admin:
        assert admin.execute(
            "select rolcanlogin from pg_roles where rolname = %s", (READER_ROLE,)
        ).fetchone() == (False,)  # a group role: planners log in as themselves
        admin.execute(f"create role {planner} login password 'planner-pw' in role {READER_ROLE}")
    reader_url = url.replace(url.split("://")[1].split("@")[0], f"{planner}:planner-pw")
    with psycopg.connect(reader_url, autocommit=True) as conn:
        for relation in relations():
            assert conn.execute(f"select count(*) from {relation.qualified}").fetchone()[0] > 0
        assert conn.execute(f"select count(*) from {SCHEMA}.publications").fetchone() == (2,)
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


def test_the_network_report_shows_every_site(two_sites, tmp_path, monkeypatch, capsys) -> None:
    network = write_network_report(two_sites.url, tmp_path / "network.html")
    assert network.site_ids == [SITE_A, SITE_B]
    page = (tmp_path / "network.html").read_text()
    assert 'id="network-sites"' in page
    assert f"Capacity report — {SITE_A}, {SITE_B}" in page
    for site in (SITE_A, SITE_B):
        assert held_publication(two_sites.url, site) in page
        # both plants have a line L1: kept apart by their site
        assert f'id="capacity-fan-{site}/L1"' in page
        assert f"{site}/L1-M2" in page  # machine ids in the bottleneck and risk sections

    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", two_sites.url)
    out = tmp_path / "cli" / "network.html"
    assert main(["report", "--network", "--out", str(out)]) == 0
    assert f'id="capacity-fan-{SITE_B}/L1"' in out.read_text()
    assert str(out) in capsys.readouterr().out
    monkeypatch.delenv("TWIN_PUBLISH_POSTGRES")
    assert main(["report", "--network"]) == 2
    assert "set TWIN_PUBLISH_POSTGRES" in capsys.readouterr().err
    # Without --network: where this site's own report is (nothing is read from PostgreSQL).
    monkeypatch.setenv("TWIN_HOME", str(two_sites.homes[SITE_A].home))
    assert main(["report"]) == 0
    assert capsys.readouterr().out.strip() == str(two_sites.homes[SITE_A].published / "report.html")


def test_a_reader_never_sees_two_publications_of_a_site_during_a_republication_or_rollback(
    tmp_path, pg_url
) -> None:
    paths = site_home(tmp_path, SITE_A)
    first = publish(paths, site_tables(SITE_A), LINEAGE).publication_id
    capacity = relations()[0]
    capacity_rows = len(catalog_rows(paths, capacity))
    # One statement over the canonical table, another table and the lineage row: one snapshot.
    probe = (
        "select count(distinct publication_id), min(publication_id),"
        " count(*) filter (where t = 'c') from ("
        f" select 'c' as t, publication_id from {SCHEMA}.capacity_supply where site_id = %(s)s"
        f" union all select 'k', publication_id from {SCHEMA}.kpi_daily where site_id = %(s)s"
        f" union all select 'p', publication_id from {SCHEMA}.publications where site_id = %(s)s"
        ") as x"
    )
    seen, errors, stop = [], [], threading.Event()

    def poll() -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(probe, {"s": SITE_A}).fetchone())
                except Exception as error:  # recorded: the assertion below names it
                    errors.append(repr(error))
                time.sleep(0.005)  # leave the GIL to the publisher now and then

    reader = threading.Thread(target=poll)
    reader.start()
    results: list = []
    try:
        # The republication is held open at its last statement, every row replaced, then committed.
        lock = RowLockOnSite(pg_url, SITE_A)
        writer = threading.Thread(
            target=lambda: results.append(publish(paths, site_tables(SITE_A, 1.1), LINEAGE))
        )
        writer.start()
        lock.wait_for_blocked_writer()
        during = len(seen)
        time.sleep(0.3)  # the reader polls while the writer's deletes and copies are uncommitted
        held_open = seen[during:]
        lock.release()
        writer.join(timeout=60)
        after = len(seen)
        while len(seen) < after + 5:
            time.sleep(0.01)
    finally:
        stop.set()
        reader.join(timeout=10)
    second = results[0].publication_id
    assert errors == []
    assert held_open
    assert all(row == (1, first, capacity_rows) for row in held_open)
    assert {row[0] for row in seen} == {1}  # never two publication ids for the site at once
    assert {row[2] for row in seen} == {capacity_rows}  # never a half-replaced table
    assert {row[1] for row in seen} == {first, second}
    assert held_publication(pg_url, SITE_A) == second == read_manifest(paths)["publication_id"]
    assert postgres_rows(pg_url, capacity, SITE_A) == catalog_rows(paths, capacity)

    # A rollback switches PostgreSQL back too: it serves what catalog.duckdb serves.
    rollback(paths, first)
    assert held_publication(pg_url, SITE_A) == first
    for relation in relations():
        assert postgres_rows(pg_url, relation, SITE_A) == catalog_rows(paths, relation)


def test_two_sites_publishing_at_once_neither_wait_nor_deadlock(
    tmp_path, pg_url, monkeypatch
) -> None:
    home_a, home_b = site_home(tmp_path, SITE_A), site_home(tmp_path, SITE_B)
    publish(home_a, site_tables(SITE_A), LINEAGE)
    monkeypatch.delenv("TWIN_PUBLISH_POSTGRES")  # local versions only, written out below
    publish(home_a, site_tables(SITE_A, 1.1), LINEAGE)
    publish(home_b, site_tables(SITE_B, 0.6), LINEAGE)
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", pg_url)
    # A's transaction is held open with all its rows replaced; B's must neither wait nor deadlock.
    lock = RowLockOnSite(pg_url, SITE_A)
    a_result: list = []
    a_writer = threading.Thread(target=lambda: a_result.append(mirror_current_publication(home_a)))
    a_writer.start()
    try:
        lock.wait_for_blocked_writer()
        started = time.monotonic()
        b_result = mirror_current_publication(home_b)
        assert time.monotonic() - started < 5
        assert held_publication(pg_url, SITE_B) == b_result.publication_id
    finally:
        lock.release()
        a_writer.join(timeout=60)
    assert b_result.written
    assert a_result[0].written
    for site, home in ((SITE_A, home_a), (SITE_B, home_b)):
        assert held_publication(pg_url, site) == read_manifest(home)["publication_id"]
        for relation in relations():
            assert postgres_rows(pg_url, relation, site) == catalog_rows(home, relation)
    # Writing out what PostgreSQL already holds changes nothing.
    b_now = site_snapshot(pg_url, SITE_B)
    assert mirror_current_publication(home_b).written is False
    assert site_snapshot(pg_url, SITE_B) == b_now


def test_what_postgres_would_hold_against_the_contract_is_rolled_back(tmp_path, pg_url) -> None:
    paths = site_home(tmp_path, SITE_A)
    first = publish(paths, site_tables(SITE_A), LINEAGE).publication_id
    before = site_snapshot(pg_url, SITE_A)
    with psycopg.connect(pg_url, autocommit=True) as conn:  # a table that loses every other row
        conn.execute(
            "create function twin_published.lose_rows() returns trigger language plpgsql as"
            " $$ begin if random() < 2 and new.\"Measure\" like '%P50' then return null; end if;"
            " return new; end $$"
        )
        conn.execute(
            f"create trigger lose_rows before insert on {SCHEMA}.o9_resource_capacity"
            " for each row execute function twin_published.lose_rows()"
        )
    with pytest.raises(
        PostgresPublicationError, match=r"o9_resource_capacity holds \d+ rows of site PLANT_A"
    ):
        publish(paths, site_tables(SITE_A, 1.1), LINEAGE)
    assert site_snapshot(pg_url, SITE_A) == before  # the whole transaction rolled back
    assert held_publication(pg_url, SITE_A) == first

    # A relation whose columns no longer match its contract: stopped before any transaction.
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"drop trigger lose_rows on {SCHEMA}.o9_resource_capacity")
        conn.execute(f"alter table {SCHEMA}.kpi_daily add column surprise text")
    with pytest.raises(
        PostgresPublicationError,
        match=r"twin_published\.kpi_daily does not match contract kpi_daily 2\.0\.0: unexpected column surprise\.",
    ):
        mirror_current_publication(paths)
    assert held_publication(pg_url, SITE_A) == first


def test_an_unreachable_server_fails_the_publication_in_one_redacted_sentence(
    tmp_path,
    postgres_server,  # noqa: F811
    monkeypatch,
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

    # A server that refuses the password: named, the password (wrong or right) never shown.
    monkeypatch.setenv("TWIN_PUBLISH_POSTGRES", postgres_server.url(password="not-the-password"))
    with pytest.raises(PostgresPublicationError) as raised:
        mirror_current_publication(paths)
    message = str(raised.value)
    assert "password authentication failed" in message
    assert f"postgresql://127.0.0.1:{postgres_server.port}" in message
    assert "not-the-password" not in message
    assert postgres_server.password not in message
