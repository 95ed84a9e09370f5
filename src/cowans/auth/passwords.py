"""Password hashing with Argon2id (argon2-cffi's defaults follow RFC 9106's recommendations)."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cowans.auth.common_passwords import COMMON_WORDS, KEYBOARD_RUNS
from cowans.auth.errors import AuthErrorCode
from cowans.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256

_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_REPETITION = re.compile(r"(.+?)\1+", re.DOTALL)
# Shorter leftovers ("a" in "1234a56789") are in every run; the whole password is judged then.
_MIN_RUN = 4

_hasher = PasswordHasher()
# Verifying against this keeps a login for an unknown email as slow as one for a known email,
# so response times do not tell which addresses have accounts.
_DUMMY_HASH = _hasher.hash("not a real password, only a timing decoy")


def check_password_policy(password: str, email: str = "") -> None:
    """Length is what makes a password strong (NIST SP 800-63B): no composition rules, but the
    guesses attackers try first are refused, the account's own name among them."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            AuthErrorCode.WEAK_PASSWORD,
            f"A password needs {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        )
    if is_easily_guessed(password, email):
        raise InvalidInput(
            AuthErrorCode.WEAK_PASSWORD,
            "This password is among the first an attacker would try (a common word, a keyboard "
            "run, a repetition or your email). A few unrelated words make a strong one.",
        )


def is_easily_guessed(password: str, email: str = "") -> bool:
    lowered = password.lower()
    # Digits and symbols around a word ("Password123!") add little: attackers try those first.
    core = _DECORATION.sub("", lowered)
    repeated = _REPETITION.fullmatch(lowered)
    account_names = {email.lower(), email.lower().split("@", 1)[0]} - {""}
    return (
        core in COMMON_WORDS
        or core in account_names
        or _is_keyboard_run(core if len(core) >= _MIN_RUN else lowered)
        or (repeated is not None and len(repeated.group(1)) < MIN_PASSWORD_LENGTH)
    )


def _is_keyboard_run(text: str) -> bool:
    return any(text in run or text in run[::-1] for run in KEYBOARD_RUNS)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
