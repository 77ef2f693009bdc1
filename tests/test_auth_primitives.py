"""Security primitives: argon2id hashing and password policy, TOTP, secret box, QR text."""

from __future__ import annotations

import base64
import math
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st

from teller_tui.auth import passwords, qr, totp
from teller_tui.auth.secretbox import KEY_FILE_NAME, SecretBox
from teller_tui.common.errors import StorageError, ValidationError

# --------------------------------------------------------------------------- passwords


@pytest.fixture
def cheap_hashing() -> Iterator[None]:
    with passwords.test_parameters():
        yield


@pytest.fixture
def default_hashing() -> Iterator[None]:
    """Strong defaults even if a conftest switched the session to cheap hashing."""
    previous = passwords.active_parameters()
    passwords.use_default_parameters()
    yield
    if previous == passwords.TEST_PARAMS:
        passwords.use_test_parameters()
    else:
        passwords.use_default_parameters()


def test_default_parameters_are_argon2id_64mib_t3_p1(default_hashing: None) -> None:
    """The one test that hashes with the real (slow) defaults."""
    assert passwords.active_parameters() == passwords.DEFAULT_PARAMS
    stored = passwords.hash_secret("correct horse battery")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=1$")
    params = passwords.hash_parameters(stored)
    assert (params.variant, params.memory_cost, params.time_cost, params.parallelism) == ("argon2id", 65536, 3, 1)
    assert params.version == 19 and params.salt_len >= 16 and params.hash_len >= 32
    # At least the OWASP minimum (m=19 MiB, t=2, p=1).
    assert params.memory_cost >= 19 * 1024 and params.time_cost >= 2
    assert passwords.verify_secret(stored, "correct horse battery")
    assert not passwords.needs_rehash(stored)


def test_module_default_is_strong() -> None:
    code = "from teller_tui.auth import passwords as p; print(p.active_parameters() == p.DEFAULT_PARAMS)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    assert passwords.DEFAULT_PARAMS == passwords.Argon2Params("argon2id", memory_cost=65536, time_cost=3,
                                                              parallelism=1)


def test_test_parameters_are_scoped_and_defaults_come_back(default_hashing: None) -> None:
    assert passwords.active_parameters() == passwords.DEFAULT_PARAMS
    with passwords.test_parameters():
        cheap = passwords.hash_secret("x" * 12)
        assert passwords.hash_parameters(cheap).memory_cost == passwords.TEST_PARAMS.memory_cost
        assert not passwords.needs_rehash(cheap)
    assert passwords.active_parameters() == passwords.DEFAULT_PARAMS
    # A hash made with weaker parameters must be upgraded at the next sign-in.
    assert passwords.needs_rehash(cheap)
    passwords.use_test_parameters()
    try:
        assert passwords.active_parameters() == passwords.TEST_PARAMS
    finally:
        passwords.use_default_parameters()
    assert passwords.active_parameters() == passwords.DEFAULT_PARAMS


def test_needs_rehash_for_other_variants_and_garbage(cheap_hashing: None) -> None:
    from argon2 import PasswordHasher, Type

    argon2i = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.I).hash("pw")
    assert passwords.hash_parameters(argon2i).variant == "argon2i"
    assert passwords.needs_rehash(argon2i)
    assert passwords.needs_rehash("not a hash")
    with pytest.raises(StorageError) as err:
        passwords.hash_parameters("$2b$12$bcrypt-not-argon")
    assert err.value.code == "hash_invalid"


def test_hash_and_verify(cheap_hashing: None) -> None:
    stored = passwords.hash_secret("a long passphrase 1")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_secret(stored, "a long passphrase 1")
    assert not passwords.verify_secret(stored, "a long passphrase 2")
    assert not passwords.verify_secret(stored, "")
    # Salted: the same secret hashes differently each time.
    assert passwords.hash_secret("a long passphrase 1") != stored


@pytest.mark.parametrize("bad_hash", [None, "", "garbage", "$argon2id$v=19$m=8,t=1,p=1$broken", "$2b$12$x"])
def test_verify_never_raises_on_bad_hash(cheap_hashing: None, bad_hash: str | None) -> None:
    assert passwords.verify_secret(bad_hash, "whatever password") is False


def test_verify_is_nfc_insensitive(cheap_hashing: None) -> None:
    composed = "caf\u00e9 au lait 2024"
    decomposed = "cafe\u0301 au lait 2024"
    assert composed != decomposed
    assert passwords.verify_secret(passwords.hash_secret(composed), decomposed)
    assert passwords.verify_secret(passwords.hash_secret(decomposed), composed)


@settings(max_examples=25, deadline=None)
@given(secret=st.text(max_size=40), other=st.text(max_size=40))
def test_hash_verify_property(secret: str, other: str) -> None:
    with passwords.test_parameters():
        stored = passwords.hash_secret(secret)
        assert passwords.verify_secret(stored, secret)
        import unicodedata

        same = unicodedata.normalize("NFC", secret) == unicodedata.normalize("NFC", other)
        assert passwords.verify_secret(stored, other) is same


@pytest.mark.parametrize(
    ("pw", "username", "code"),
    [
        ("short pass1", None, "password_too_short"),  # 11 characters
        ("e\u0301" * 6 + "abcde", None, "password_too_short"),  # 17 code points, 11 after NFC
        ("x" * 100 + "y" * 157, None, "password_too_long"),  # 257
        ("tab\tinside password", None, "password_control_chars"),
        ("line\nbreak password", None, "password_control_chars"),
        ("nul\x00character pass", None, "password_control_chars"),
        ("bell\x07character pass", None, "password_control_chars"),
        ("Zhang.Wei.Teller", "zhang.wei.teller", "password_is_username"),
        ("zhang.wei.teller", "ZHANG.WEI.TELLER", "password_is_username"),
        ("aaaaaaaaaaaaaaaa", None, "password_repetitive"),
        ("Password1234", None, "password_common"),
        ("QWERTY123456", None, "password_common"),
        ("123456789012", None, "password_common"),
        ("Correct Horse Battery Staple", None, "password_common"),
    ],
)
def test_validate_new_password_refuses(pw: str, username: str | None, code: str) -> None:
    with pytest.raises(ValidationError) as err:
        passwords.validate_new_password(pw, username=username)
    assert err.value.code == code
    assert str(err.value)  # a message fit to show


@pytest.mark.parametrize(
    "pw",
    [
        "twelve chars",  # exactly 12, spaces allowed, no composition rules
        "all lowercase words here",
        "我的密码是一个很长的句子啊",  # CJK passphrase, 13 code points
        "e\u0301a\u0301" * 6,  # 24 code points before NFC, 12 after
        "🐼🐼 bamboo 🎋 lunch",
        "x" * 255 + "y",  # exactly 256
        "zhang.wei.teller!",  # contains the user name: allowed, only equality is refused
    ],
)
def test_validate_new_password_accepts(pw: str) -> None:
    passwords.validate_new_password(pw, username="zhang.wei.teller")


def test_common_password_list_shape() -> None:
    assert len(passwords.COMMON_PASSWORDS) >= 100
    assert all(p == p.lower() for p in passwords.COMMON_PASSWORDS)
    # Most entries that pass the length rule are refused by the list itself.
    long_ones = [p for p in passwords.COMMON_PASSWORDS if len(p) >= passwords.MIN_PASSWORD_LENGTH]
    assert len(long_ones) >= 50
    for p in long_ones:
        with pytest.raises(ValidationError):
            passwords.validate_new_password(p.upper())


def test_one_time_password_format_and_strength() -> None:
    alphabet = passwords.ONE_TIME_PASSWORD_ALPHABET
    assert not set("0o1li") & set(alphabet)
    seen = set()
    for _ in range(200):
        otp = passwords.generate_one_time_password()
        assert re.fullmatch(rf"[{alphabet}]{{4}}(-[{alphabet}]{{4}}){{4}}", otp), otp
        symbols = otp.replace("-", "")
        assert len(symbols) >= 16
        assert len(symbols) * math.log2(len(alphabet)) >= 80
        passwords.validate_new_password(otp)  # usable as a first password
        seen.add(otp)
    assert len(seen) == 200
    # Every symbol of the alphabet shows up: the generator is not stuck on a subset.
    used = set("".join(seen).replace("-", ""))
    assert used == set(alphabet)


def test_pin_hash_and_verify(cheap_hashing: None) -> None:
    stored = passwords.hash_pin("042917")
    assert passwords.hash_parameters(stored).variant == "argon2id"
    assert passwords.verify_pin(stored, "042917")
    assert not passwords.verify_pin(stored, "042918")
    for bad in ["42917", "0429170", "04291a", "", "０４２９１７", "٠٤٢٩١٧", " 42917"]:
        assert not passwords.verify_pin(stored, bad)
    assert not passwords.verify_pin(None, "042917")
    assert not passwords.verify_pin("garbage", "042917")


@pytest.mark.parametrize("bad", ["12345", "1234567", "12345a", "", "１２３４５６", "123 56"])
def test_hash_pin_refuses_non_pins(cheap_hashing: None, bad: str) -> None:
    with pytest.raises(ValidationError) as err:
        passwords.hash_pin(bad)
    assert err.value.code == "pin_invalid"


def test_importing_auth_package_is_cheap() -> None:
    code = (
        "import sys, teller_tui.auth; "
        "heavy = [m for m in ('argon2', 'cryptography', 'segno', 'pyotp', 'textual') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --------------------------------------------------------------------------- TOTP

SEEDS = {
    "sha1": b"12345678901234567890",
    "sha256": b"12345678901234567890123456789012",
    "sha512": b"1234567890123456789012345678901234567890123456789012345678901234",
}
# RFC 6238 Appendix B.
RFC6238_VECTORS = [
    (59, "sha1", "94287082"), (59, "sha256", "46119246"), (59, "sha512", "90693936"),
    (1111111109, "sha1", "07081804"), (1111111109, "sha256", "68084774"), (1111111109, "sha512", "25091201"),
    (1111111111, "sha1", "14050471"), (1111111111, "sha256", "67062674"), (1111111111, "sha512", "99943326"),
    (1234567890, "sha1", "89005924"), (1234567890, "sha256", "91819424"), (1234567890, "sha512", "93441116"),
    (2000000000, "sha1", "69279037"), (2000000000, "sha256", "90698825"), (2000000000, "sha512", "38618901"),
    (20000000000, "sha1", "65353130"), (20000000000, "sha256", "77737706"), (20000000000, "sha512", "47863826"),
]


def b32(seed: bytes) -> str:
    return base64.b32encode(seed).decode("ascii")


def at(unix: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=unix)


@pytest.mark.parametrize(("unix", "digest", "expected"), RFC6238_VECTORS)
def test_rfc6238_vectors_through_verify(unix: int, digest: str, expected: str) -> None:
    secret = b32(SEEDS[digest])
    step = unix // 30
    assert totp.current_step(at(unix)) == step
    assert totp.totp_at(secret, step, 8, digest) == expected
    assert totp.verify_totp(secret, expected, now=at(unix), last_step=None, digits=8, digest=digest) == step
    # ... and the same code is a replay once its step is recorded.
    assert totp.verify_totp(secret, expected, now=at(unix), last_step=step, digits=8, digest=digest) is None


SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NOW = datetime(2026, 11, 23, 1, 30, 12, tzinfo=UTC)


def test_window_is_plus_minus_one_step() -> None:
    cur = totp.current_step(NOW)
    for delta in (-1, 0, 1):
        code = totp.totp_at(SECRET, cur + delta)
        assert totp.verify_totp(SECRET, code, now=NOW, last_step=None) == cur + delta
    for delta in (-2, 2, -3, 3):
        code = totp.totp_at(SECRET, cur + delta)
        # Guard against the 1e-6 chance that a far code equals a near one.
        if code not in {totp.totp_at(SECRET, cur + d) for d in (-1, 0, 1)}:
            assert totp.verify_totp(SECRET, code, now=NOW, last_step=None) is None
    assert totp.verify_totp(SECRET, totp.totp_at(SECRET, cur - 2), now=NOW, last_step=None, window=2) == cur - 2


def test_replay_refused() -> None:
    cur = totp.current_step(NOW)
    code = totp.totp_at(SECRET, cur)
    step = totp.verify_totp(SECRET, code, now=NOW, last_step=None)
    assert step == cur
    # Same code again, even 20 seconds later (still within the window): refused.
    assert totp.verify_totp(SECRET, code, now=NOW, last_step=step) is None
    assert totp.verify_totp(SECRET, code, now=NOW + timedelta(seconds=20), last_step=step) is None
    # An earlier code (step-1, otherwise inside the window) is refused after a later one was used.
    earlier = totp.totp_at(SECRET, cur - 1)
    assert totp.verify_totp(SECRET, earlier, now=NOW, last_step=step) is None
    # The next code is fine.
    nxt = totp.totp_at(SECRET, cur + 1)
    assert totp.verify_totp(SECRET, nxt, now=NOW, last_step=step) == cur + 1
    # A last_step ahead of the clock (future code already used) refuses everything up to it.
    assert totp.verify_totp(SECRET, nxt, now=NOW, last_step=cur + 1) is None


def test_prefers_exact_current_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """When several steps give the same code, the current one wins, then the past one."""
    monkeypatch.setattr(totp, "_hotp", lambda key, counter, digits, digest: "123456")
    cur = totp.current_step(NOW)
    assert totp.verify_totp(SECRET, "123456", now=NOW, last_step=None) == cur
    assert totp.verify_totp(SECRET, "123456", now=NOW, last_step=cur - 2) == cur
    assert totp.verify_totp(SECRET, "123456", now=NOW, last_step=cur) == cur + 1
    assert totp.verify_totp(SECRET, "123456", now=NOW, last_step=cur + 1) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: c[:-1],  # too short
        lambda c: c + "0",  # too long
        lambda c: c[:5] + "a",
        lambda c: "",
        lambda c: c.translate(str.maketrans("0123456789", "０１２３４５６７８９")),  # full-width digits
        lambda c: c.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic-Indic digits
        lambda c: "-" + c[1:],
    ],
)
def test_malformed_codes_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    cur = totp.current_step(NOW)
    code = totp.totp_at(SECRET, cur)
    assert totp.verify_totp(SECRET, mangle(code), now=NOW, last_step=None) is None


def test_spaces_in_code_ignored() -> None:
    cur = totp.current_step(NOW)
    code = totp.totp_at(SECRET, cur)
    for typed in (f"{code[:3]} {code[3:]}", f" {code} ", f"{code[:3]}\u00a0{code[3:]}"):
        assert totp.verify_totp(SECRET, typed, now=NOW, last_step=None) == cur


def test_wrong_code_refused() -> None:
    cur = totp.current_step(NOW)
    valid = {totp.totp_at(SECRET, cur + d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    assert totp.verify_totp(SECRET, wrong, now=NOW, last_step=None) is None


def test_current_step_boundaries() -> None:
    assert totp.current_step(at(59)) == 1
    assert totp.current_step(at(60)) == 2
    assert totp.current_step(at(59) + timedelta(microseconds=999_999)) == 1  # floor, never rounds up
    assert totp.current_step(at(89) + timedelta(microseconds=999_999)) == 2
    assert totp.current_step(at(0)) == 0
    shanghai = timezone(timedelta(hours=8))
    assert totp.current_step(at(1111111109).astimezone(shanghai)) == 1111111109 // 30
    with pytest.raises(ValueError):
        totp.current_step(datetime(2026, 1, 1))


@settings(max_examples=60, deadline=None)
@given(seed=st.binary(min_size=16, max_size=64), step=st.integers(min_value=0, max_value=8_000_000_000),
       digits=st.sampled_from([6, 7, 8]), digest=st.sampled_from(["sha1", "sha256", "sha512"]))
def test_totp_at_matches_pyotp(seed: bytes, step: int, digits: int, digest: str) -> None:
    import hashlib

    secret = b32(seed)
    theirs = pyotp.TOTP(secret, digits=digits, digest=getattr(hashlib, digest), interval=30)
    assert totp.totp_at(secret, step, digits, digest) == theirs.at(step * 30)


def test_new_secret() -> None:
    secrets_ = {totp.new_secret() for _ in range(50)}
    assert len(secrets_) == 50
    for s in secrets_:
        assert re.fullmatch(r"[A-Z2-7]{32}", s)
        assert len(base64.b32decode(s)) == 20  # 160 bits
    # pyotp agrees with our codes for a fresh secret.
    s = secrets_.pop()
    cur = totp.current_step(NOW)
    assert totp.totp_at(s, cur) == pyotp.TOTP(s).at(NOW)
    assert totp.verify_totp(s, pyotp.TOTP(s).at(NOW), now=NOW, last_step=None) == cur


def test_secret_tolerates_lowercase_and_spaces_but_not_garbage() -> None:
    cur = totp.current_step(NOW)
    spaced = " ".join(SECRET.lower()[i:i + 4] for i in range(0, 32, 4))
    assert totp.totp_at(spaced, cur) == totp.totp_at(SECRET, cur)
    with pytest.raises(ValidationError):
        totp.totp_at("not base32 !!", cur)
    with pytest.raises(ValidationError):  # RFC 4226: at least 128 bits
        totp.totp_at(b32(b"x" * 15), cur)
    assert totp.totp_at(b32(b"x" * 16), cur)


def test_provisioning_uri() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "zhang.wei@branch 12", "Example Bank")
    assert uri == pyotp.TOTP(secret).provisioning_uri(name="zhang.wei@branch 12", issuer_name="Example Bank")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Example Bank:zhang.wei@branch 12"
    assert " " not in uri
    query = parse_qs(parts.query)
    assert query == {"secret": [secret], "issuer": ["Example Bank"]}


def test_provisioning_uri_encodes_awkward_characters() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, "a&b=c/d?", "银行 & Co")
    parts = urlsplit(uri)
    issuer, account = parts.path[1:].split(":")
    assert (unquote(issuer), unquote(account)) == ("银行 & Co", "a&b=c/d?")
    assert parse_qs(parts.query) == {"secret": [secret], "issuer": ["银行 & Co"]}
    for bad_name, bad_issuer in [("a:b", "Bank"), ("ab", "Ba:nk"), ("", "Bank"), ("ab", "")]:
        with pytest.raises(ValidationError):
            totp.provisioning_uri(secret, bad_name, bad_issuer)


# --------------------------------------------------------------------------- secret box


def test_from_home_creates_private_key_and_dir(tmp_path: Path) -> None:
    home = tmp_path / "nested" / "home"
    box = SecretBox.from_home(home)
    key_file = home / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert key_file.stat().st_size == 32
    assert [p.name for p in home.iterdir()] == [KEY_FILE_NAME]  # no temp file left behind
    token = box.encrypt("JBSWY3DPEHPK3PXP", context="staff:42:totp")
    # A second process start reads the same key.
    again = SecretBox.from_home(home)
    assert again.decrypt(token, context="staff:42:totp") == "JBSWY3DPEHPK3PXP"
    before = key_file.read_bytes()
    SecretBox.from_home(home)
    assert key_file.read_bytes() == before


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_refuses_readable_key_file(tmp_path: Path, mode: int) -> None:
    SecretBox.from_home(tmp_path)
    key_file = tmp_path / KEY_FILE_NAME
    key_file.chmod(mode)
    with pytest.raises(StorageError) as err:
        SecretBox.from_home(tmp_path)
    assert err.value.code == "key_file_permissions"
    assert f"chmod 600 {key_file}" in str(err.value)
    key_file.chmod(0o600)
    SecretBox.from_home(tmp_path)


def test_refuses_damaged_key_file(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    fd = os.open(key_file, os.O_CREAT | os.O_WRONLY, 0o600)
    os.write(fd, b"short")
    os.close(fd)
    with pytest.raises(StorageError) as err:
        SecretBox.from_home(tmp_path)
    assert err.value.code == "key_file_damaged"
    assert key_file.read_bytes() == b"short"  # never overwritten


def test_existing_home_permissions_untouched(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    SecretBox.from_home(tmp_path)
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755


def test_roundtrip_and_fresh_nonce() -> None:
    box = SecretBox.ephemeral()
    for plain in ["", "JBSWY3DPEHPK3PXP", "秘密 🔑", "x" * 1000]:
        a = box.encrypt(plain, context="staff:1:totp")
        b = box.encrypt(plain, context="staff:1:totp")
        assert a.startswith("v1:") and b.startswith("v1:")
        assert a != b
        assert plain not in a[3:] or plain == ""
        assert box.decrypt(a, context="staff:1:totp") == plain


def test_context_binds_token_to_its_row() -> None:
    box = SecretBox.ephemeral()
    token = box.encrypt("JBSWY3DPEHPK3PXP", context="staff:42:totp")
    with pytest.raises(StorageError) as err:
        box.decrypt(token, context="staff:43:totp")
    assert err.value.code == "secret_undecryptable"
    with pytest.raises(StorageError):
        box.decrypt(token, context="customer:42:totp")


def test_tamper_and_wrong_key_refused() -> None:
    box = SecretBox.ephemeral()
    token = box.encrypt("JBSWY3DPEHPK3PXP", context="staff:42:totp")
    raw = bytearray(base64.b64decode(token[3:]))
    for i in (0, 12, len(raw) - 1):  # nonce, ciphertext, tag
        flipped = bytearray(raw)
        flipped[i] ^= 0x01
        with pytest.raises(StorageError):
            box.decrypt("v1:" + base64.b64encode(bytes(flipped)).decode(), context="staff:42:totp")
    with pytest.raises(StorageError):
        SecretBox.ephemeral().decrypt(token, context="staff:42:totp")
    for broken in ["", "v2:" + token[3:], token[3:], "v1:!!!not base64", "v1:" + base64.b64encode(b"x" * 20).decode(),
                   token[:-4]]:
        with pytest.raises(StorageError):
            box.decrypt(broken, context="staff:42:totp")


def test_key_is_not_in_repr_and_size_checked() -> None:
    key = bytes(range(32))
    box = SecretBox(key)
    assert "key hidden" in repr(box) and key.hex() not in repr(box)
    with pytest.raises(ValueError):
        SecretBox(b"x" * 16)
    with pytest.raises(ValueError):
        box.encrypt("x", context="")


# --------------------------------------------------------------------------- QR text

_DECODE = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def text_to_matrix(text: str, ink: str) -> list[list[bool]]:
    """Re-derive the module matrix (True = dark) from the rendered text."""
    rows: list[list[bool]] = []
    for line in text.split("\n"):
        top = [_DECODE[ch][0] for ch in line]
        bottom = [_DECODE[ch][1] for ch in line]
        rows += [top, bottom]
    if ink == "light":
        rows = [[not v for v in row] for row in rows]
    return rows


@pytest.mark.parametrize("ink", ["dark", "light"])
@pytest.mark.parametrize(
    "data",
    [
        "otpauth://totp/Example%20Bank:zhang.wei?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Bank",
        "A",
        "https://example.com/" + "x" * 120,
    ],
)
def test_qr_text_round_trips_segno_matrix(data: str, ink: str) -> None:
    text = qr.qr_text(data, ink=ink)  # type: ignore[arg-type]
    code = segno.make(data, error="m", boost_error=False, micro=False)
    assert code.error == "M"
    expected = [[bool(v) for v in row] for row in code.matrix_iter(scale=1, border=2)]
    size = len(code.matrix) + 4
    assert len(expected) == size

    lines = text.split("\n")
    assert len(lines) == math.ceil(size / 2)
    assert all(len(line) == size for line in lines)
    assert set(text) <= set(" ▀▄█\n")

    got = text_to_matrix(text, ink)
    assert got[:size] == expected
    # QR sizes are odd, so there is one padding row and it is light (quiet zone).
    assert size % 2 == 1 and len(got) == size + 1
    assert got[size] == [False] * size
    # Quiet zone: two light modules on every side.
    for row in got[:2] + got[-3:]:
        assert not any(row)
    for row in got:
        assert not any(row[:2]) and not any(row[-2:])


def test_qr_ink_modes_are_inverse() -> None:
    dark = qr.qr_text("hello")
    light = qr.qr_text("hello", ink="light")
    flip = str.maketrans({" ": "█", "█": " ", "▀": "▄", "▄": "▀"})
    assert dark.translate(flip) == light
    assert light.split("\n")[0] == "█" * len(light.split("\n")[0])  # light quiet zone drawn
    with pytest.raises(ValueError):
        qr.qr_text("hello", ink="blue")  # type: ignore[arg-type]
