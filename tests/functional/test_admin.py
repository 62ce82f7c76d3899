"""POST /admin/performances (docs/api-contract.md, Operator API)."""

import copy
import uuid

import pytest

from conftest import ADMIN_KEY, Client, assert_error, performance_body


def count_catalog(db):
    return db.query("SELECT (SELECT count(*) FROM stages), (SELECT count(*) FROM performances), "
                    "(SELECT count(*) FROM performance_staging_dates), (SELECT count(*) FROM performance_seats)")[0]


def test_create_with_seat_count(admin, db):
    body = performance_body(schedules=2, seats=4, price=15_000)
    r = admin.create_performance(body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert set(out) == {"id", "stage_id", "performance_staging_date"}
    uuid.UUID(out["id"]), uuid.UUID(out["stage_id"])
    assert len(out["performance_staging_date"]) == 2
    for created, asked in zip(out["performance_staging_date"], body["schedules"]):
        assert set(created) == {"id", "staging_date", "seat_ids"}
        assert created["staging_date"][:19] == asked["staging_date"][:19]
        assert len(created["seat_ids"]) == 4
        rows = db.query("SELECT id::text, seat_number, price, reservation_status::text FROM performance_seats "
                        "WHERE staging_date_id = %s", (created["id"],))
        assert {r[0]: r[1:] for r in rows} == {
            sid: (str(n), 15_000, "AVAILABLE") for n, sid in enumerate(created["seat_ids"], start=1)}
    assert db.query("SELECT p.title, s.name, s.location FROM performances p JOIN stages s ON s.id = p.stage_id "
                    "WHERE p.id = %s", (out["id"],)) == [(body["title"], "Olympic Hall", "Seoul")]


def test_create_with_listed_seats(admin, db):
    seats = [{"seat_number": "A10", "price": 99_000}, {"seat_number": "A2", "price": 77_000},
             {"seat_number": "B1", "price": 55_000}]
    r = admin.create_performance(performance_body(seat_list=seats))
    assert r.status_code == 201, r.text
    sched = r.json()["performance_staging_date"][0]
    rows = {row[0]: row[1:] for row in db.query(
        "SELECT id::text, seat_number, price FROM performance_seats WHERE staging_date_id = %s", (sched["id"],))}
    assert [rows[sid] for sid in sched["seat_ids"]] == [("A10", 99_000), ("A2", 77_000), ("B1", 55_000)]


def test_admin_key_required(server, db, quick_user):
    body = performance_body()
    before = count_catalog(db)
    c = Client(server.url)
    assert_error(c.post("/admin/performances", body), 401, "ADMIN_KEY_INVALID")
    assert_error(c.post("/admin/performances", body, token="wrong-key"), 401, "ADMIN_KEY_INVALID")
    assert_error(c.post("/admin/performances", body, token=ADMIN_KEY + "x"), 401, "ADMIN_KEY_INVALID")
    assert_error(c.post("/admin/performances", body, headers={"Authorization": ADMIN_KEY}), 401, "ADMIN_KEY_INVALID")
    # A fan's access token is no admin key.
    assert_error(c.post("/admin/performances", body, token=quick_user().token), 401, "ADMIN_KEY_INVALID")
    assert count_catalog(db) == before


def _without(body, *path):
    b = copy.deepcopy(body)
    target = b
    for p in path[:-1]:
        target = target[p]
    del target[path[-1]]
    return b


def _with(body, value, *path):
    b = copy.deepcopy(body)
    target = b
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value
    return b


BASE = performance_body(seats=3)


@pytest.mark.parametrize("body", [
    _without(BASE, "title"),
    _without(BASE, "ticketing_start_date"),
    _without(BASE, "stage"),
    _without(BASE, "stage", "name"),
    _without(BASE, "schedules"),
    _with(BASE, "", "title"),
    _with(BASE, "x" * 201, "title"),
    _with(BASE, 5, "title"),
    _with(BASE, "tomorrow", "ticketing_start_date"),
    _with(BASE, "2030-13-45T99:00:00Z", "ticketing_start_date"),
    _with(BASE, "stage", "stage"),
    _with(BASE, [], "schedules"),
    _with(BASE, {}, "schedules"),
    _with(BASE, ["x"], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z"}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 0, "price": 1000}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 20_001, "price": 1000}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 3, "price": 0}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 3, "price": -100}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 3, "price": 10_000_001}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": 3, "price": 10.5}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seat_count": "3", "price": 1000}], "schedules"),
    _with(BASE, [{"staging_date": "nope", "seat_count": 3, "price": 1000}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seats": []}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seats": [{"seat_number": "A1"}]}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z",
                  "seats": [{"seat_number": "A1", "price": 10}, {"seat_number": "A1", "price": 20}]}], "schedules"),
    _with(BASE, [{"staging_date": "2030-01-01T19:00:00Z", "seats": [{"seat_number": "", "price": 10}]}],
          "schedules"),
])
def test_create_bad_input_changes_nothing(admin, db, body):
    before = count_catalog(db)
    assert_error(admin.create_performance(body), 400, "BAD_REQUEST")
    assert count_catalog(db) == before


def test_create_malformed_and_wrong_media_type(admin, db):
    before = count_catalog(db)
    assert_error(admin.request("POST", "/admin/performances", raw="{not json",
                               headers={"Content-Type": "application/json"}), 400, "MALFORMED_JSON")
    assert_error(admin.request("POST", "/admin/performances", raw="title=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}),
                 415, "UNSUPPORTED_MEDIA_TYPE")
    assert count_catalog(db) == before
