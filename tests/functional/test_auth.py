"""Sign-up, sign-in and access tokens (docs/api-contract.md, Endpoints and Errors)."""

import time
import uuid

import pytest

from conftest import (DEV_JWT_SECRET, PASSWORD, Client, assert_error, make_jwt, token_for, unique_email)


def test_sign_up_and_sign_in(server, db):
    c = Client(server.url)
    email = unique_email()
    r = c.sign_up(email, PASSWORD, name="Kim Fan", phone_number="010-1234-5678")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"id"}
    uuid.UUID(body["id"])
    row = db.query("SELECT email_address, password_hash, name, phone_number, balance FROM users WHERE id = %s",
                   (body["id"],))
    assert len(row) == 1
    stored_email, password_hash, name, phone, balance = row[0]
    assert (stored_email, name, phone, balance) == (email, "Kim Fan", "010-1234-5678", 0)
    # Stored only as an Argon2id hash, never the password itself.
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash

    r = c.sign_in(email)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"accessToken"}
    token = r.json()["accessToken"]
    assert token.count(".") == 2
    # The token works, and it names the new user.
    r = c.get("/payment/cash", token=token)
    assert r.status_code == 200 and r.json() == {"balance": 0}


def test_email_is_case_insensitive_and_taken_twice(server):
    c = Client(server.url)
    email = unique_email()
    assert c.sign_up(email).status_code == 201
    assert_error(c.sign_up(email), 409, "EMAIL_TAKEN")
    assert_error(c.sign_up("  " + email.upper() + " "), 409, "EMAIL_TAKEN")
    # Signing in with another spelling of the same address works.
    assert c.sign_in(email.upper()).status_code == 200


def test_wrong_credentials(server):
    c = Client(server.url)
    email = unique_email()
    assert c.sign_up(email).status_code == 201
    assert_error(c.sign_in(email, "not the password"), 401, "WRONG_CREDENTIALS")
    assert_error(c.sign_in(unique_email("nobody")), 401, "WRONG_CREDENTIALS")


@pytest.mark.parametrize("body", [
    {"password": PASSWORD},                                          # missing e-mail
    {"email_address": "x@example.com"},                              # missing password
    {"email_address": 42, "password": PASSWORD},                     # wrong type
    {"email_address": "x@example.com", "password": 12345678},        # wrong type
    {"email_address": "not-an-email", "password": PASSWORD},
    {"email_address": "a@b", "password": PASSWORD},
    {"email_address": "x@example.com", "password": "short"},
    {"email_address": "x@example.com", "password": "p" * 129},
    {"email_address": "x@example.com", "password": PASSWORD, "name": ""},
    {"email_address": "x@example.com", "password": PASSWORD, "phone_number": "call me"},
    {"email_address": "x@example.com", "password": PASSWORD, "name": 7},
])
def test_sign_up_bad_input(server, db, body):
    before = db.value("SELECT count(*) FROM users")
    r = Client(server.url).post("/auth/signUp", body)
    assert_error(r, 400, "BAD_REQUEST")
    assert db.value("SELECT count(*) FROM users") == before


@pytest.mark.parametrize("body", [{}, {"email_address": "x@example.com"}, {"email_address": [], "password": "x"}])
def test_sign_in_bad_input(server, body):
    assert_error(Client(server.url).post("/auth/signIn", body), 400, "BAD_REQUEST")


def test_token_missing(server):
    c = Client(server.url)
    for path in ("/payment/cash", "/payment/payment_history", "/reservation/performances",
                 "/reservation/reserved_performance_seats"):
        assert_error(c.get(path), 401, "TOKEN_MISSING")
    assert_error(c.post("/payment/cash", {"amount": 1000}), 401, "TOKEN_MISSING")


def test_crafted_dev_token_is_accepted(quick_user):
    """Control for the tests below: a token built here with the dev secret is valid, so
    the refusals that follow are about the one thing each of them changes."""
    user = quick_user()
    r = user.get("/payment/cash", token=token_for(user.user_id))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("make_token", [
    lambda uid: "garbage",
    lambda uid: "a.b.c",
    lambda uid: "",
    lambda uid: make_jwt({"sub": uid, "iat": int(time.time()), "exp": int(time.time()) + 3600},
                         secret="another-secret-of-sufficient-length-123"),          # forged signature
    lambda uid: token_for(uid)[:-4] + ("AAAA" if not token_for(uid).endswith("AAAA") else "BBBB"),  # tampered
    lambda uid: make_jwt({"sub": uid, "iat": int(time.time()), "exp": int(time.time()) + 3600},
                         header={"alg": "none", "typ": "JWT"}),                     # alg confusion
    lambda uid: make_jwt({"sub": uid, "iat": int(time.time())}),                   # no exp
    lambda uid: make_jwt({"sub": uid, "iat": int(time.time()), "exp": "never"}),   # exp not a number
])
def test_token_invalid(quick_user, make_token):
    user = quick_user()
    token = make_token(user.user_id)
    headers = {"Authorization": f"Bearer {token}"} if token else {"Authorization": "Bearer "}
    r = user.request("GET", "/payment/cash", token="", headers=headers)
    assert_error(r, 401, "TOKEN_INVALID")


def test_token_with_another_scheme_is_invalid(quick_user):
    user = quick_user()
    r = user.request("GET", "/payment/cash", token="", headers={"Authorization": f"Basic {user.token}"})
    assert_error(r, 401, "TOKEN_INVALID")


def test_payload_tampered_with_keeps_old_signature(quick_user):
    a, b = quick_user(), quick_user()
    header, _, signature = a.token.split(".")
    other_payload = token_for(b.user_id).split(".")[1]
    r = a.request("GET", "/payment/cash", token=f"{header}.{other_payload}.{signature}")
    assert_error(r, 401, "TOKEN_INVALID")


def test_token_expired(quick_user):
    user = quick_user()
    now = int(time.time())
    expired = make_jwt({"sub": user.user_id, "iat": now - 7200, "exp": now - 3600}, secret=DEV_JWT_SECRET)
    assert_error(user.get("/payment/cash", token=expired), 401, "TOKEN_EXPIRED")
    assert_error(user.post("/payment/cash", {"amount": 1000}, token=expired), 401, "TOKEN_EXPIRED")


def test_issued_token_expiry_follows_jwt_ttl(server, new_user):
    """The server's own tokens carry exp = iat + JWT_TTL_SECONDS (default 3600)."""
    import base64
    import json
    user = new_user()
    payload = user.token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["sub"] == user.user_id
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 600
