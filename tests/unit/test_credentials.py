"""Passwords and tokens, below the API."""

from datetime import timedelta

import pytest

from cowans.auth.passwords import check_password_policy, hash_password, verify_password
from cowans.auth.tokens import (
    hash_api_token,
    is_api_token,
    issue_access_token,
    new_api_token,
    read_access_token,
)
from cowans.errors import InvalidInput, Unauthenticated

KEY = "k" * 40


def test_passwords_are_hashed_with_argon2id() -> None:
    hashed = hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "correct horse battery staple")
    assert not verify_password(hashed, "Correct horse battery staple")
    assert not verify_password(None, "anything at all")
    assert not verify_password("not a hash", "anything at all")


@pytest.mark.parametrize("password", ["", "123456789", "x" * 257])
def test_password_policy(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password_policy(password)


def test_access_token_round_trip() -> None:
    token = issue_access_token(42, KEY, timedelta(minutes=5))
    assert token.expires_in == 300
    assert read_access_token(token.token, KEY) == 42


def test_access_token_is_bound_to_the_key_and_the_clock() -> None:
    token = issue_access_token(42, KEY, timedelta(minutes=5)).token
    with pytest.raises(Unauthenticated) as wrong_key:
        read_access_token(token, "other" * 10)
    assert wrong_key.value.code == "invalid_token"
    expired = issue_access_token(42, KEY, timedelta(seconds=-5)).token
    with pytest.raises(Unauthenticated) as too_late:
        read_access_token(expired, KEY)
    assert too_late.value.code == "token_expired"


def test_the_jwt_secret_is_not_the_secret_key_itself() -> None:
    import jwt

    token = issue_access_token(1, KEY, timedelta(minutes=5)).token
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, KEY, algorithms=["HS256"], audience="cowans-api")


def test_api_tokens_are_random_prefixed_and_hashed() -> None:
    first, second = new_api_token(), new_api_token()
    assert first != second
    assert is_api_token(first)
    assert not is_api_token("eyJhbGciOi...")
    assert len(first) > 40
    assert hash_api_token(first) != first
    assert len(hash_api_token(first)) == 64
