"""Signing: the documented HMAC vector, Ed25519 and RSA verified with the public key, and the rule that the
bytes on the wire are exactly the bytes signed (percent-encoded first, never re-encoded)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from urllib.parse import unquote

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from adapters.binance.secrets import Secret
from adapters.binance.signing import (
    Ed25519Signer,
    HmacSigner,
    KeyLoadError,
    RsaSigner,
    encode_params,
    load_private_key_signer,
    sign_query,
    symbols_param,
)
from domain import Symbol
from tests.unit.adapters.binance.conftest import HMAC_KEY, AdapterFactory, FakeExchange, ok, settings

UNICODE_SYMBOL = "这是测试币456"
WEAK_RSA = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - too weak to accept
ACCOUNT = {
    "makerCommission": 10,
    "takerCommission": 10,
    "buyerCommission": 0,
    "sellerCommission": 0,
    "commissionRates": {"maker": "0.001", "taker": "0.001", "buyer": "0", "seller": "0"},
    "canTrade": True,
    "canWithdraw": False,
    "canDeposit": False,
    "updateTime": 1767225500000,
    "accountType": "SPOT",
    "balances": [{"asset": "BTC", "free": "1.5", "locked": "0"}],
    "permissions": ["SPOT"],
}


def _pem(
    key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    password: bytes | None = None,
) -> bytes:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def test_hmac_matches_the_documented_vector() -> None:
    signer = HmacSigner(Secret("example-secret-do-not-use-0123456789abcdef"))
    payload = b"omitZeroBalances=true&recvWindow=5000&timestamp=1767225600000"

    assert signer.sign(payload) == "45a5f78b4030ddd06c1c4a1444e7246c4b90e18a8797951addb2fed6cc9ec84c"


def test_ed25519_signature_verifies_with_the_public_key() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signer = load_private_key_signer(_pem(key))
    payload = b"omitZeroBalances=true&recvWindow=5000&timestamp=1767225600000"

    signature = signer.sign(payload)

    assert isinstance(signer, Ed25519Signer)
    assert len(signature) == 88
    key.public_key().verify(base64.b64decode(signature), payload)


@pytest.mark.parametrize("bits", [2048])
def test_rsa_pkcs1v15_sha256_signature_verifies_with_the_public_key(bits: int) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    signer = load_private_key_signer(_pem(key))
    payload = b"recvWindow=5000&timestamp=1767225600000"

    signature = base64.b64decode(signer.sign(payload))

    assert isinstance(signer, RsaSigner)
    key.public_key().verify(signature, payload, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):  # not PSS
        key.public_key().verify(
            signature, payload, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256()
        )


def test_an_encrypted_key_loads_with_its_passphrase() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    signer = load_private_key_signer(_pem(key, b"correct horse"), Secret("correct horse"))

    key.public_key().verify(base64.b64decode(signer.sign(b"x=1")), b"x=1")


@pytest.mark.parametrize(
    ("pem", "passphrase", "reason"),
    [
        (_pem(ed25519.Ed25519PrivateKey.generate(), b"pass phrase"), None, "encrypted; set its passphrase"),
        (_pem(ed25519.Ed25519PrivateKey.generate(), b"pass phrase"), "wrong", "could not be decrypted"),
        (_pem(ed25519.Ed25519PrivateKey.generate()), "unneeded", "not encrypted"),
        (
            ed25519.Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
            None,
            "public key",
        ),
        (b"not a key at all", None, "not a PEM private key"),
        (_pem(ec.generate_private_key(ec.SECP256R1())), None, "Ed25519 or RSA keys, not an EC"),
        (_pem(WEAK_RSA), None, "2048 to 4096 bits"),
    ],
)
def test_unusable_keys_are_refused_with_a_reason(pem: bytes, passphrase: str | None, reason: str) -> None:
    with pytest.raises(KeyLoadError, match=reason) as caught:
        load_private_key_signer(pem, Secret(passphrase) if passphrase else None)

    assert "PRIVATE KEY-----" not in str(caught.value)


def test_values_are_percent_encoded_as_utf8_leaving_only_unreserved_characters() -> None:
    encoded = encode_params([("symbol", UNICODE_SYMBOL), ("x", "a b+c/=~-_.!*'()")])

    assert encoded == (
        "symbol=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456&x=a%20b%2Bc%2F%3D~-_.%21%2A%27%28%29"
    )


def test_symbols_are_a_compact_json_array() -> None:
    assert encode_params([("symbols", symbols_param(["BTCUSDT", "ETHUSDT"]))]) == (
        "symbols=%5B%22BTCUSDT%22%2C%22ETHUSDT%22%5D"
    )


def test_a_non_ascii_symbol_is_signed_in_its_percent_encoded_form() -> None:
    secret = Secret("example-secret-do-not-use-0123456789abcdef")
    params = [("symbol", UNICODE_SYMBOL), ("timestamp", "1767225600000")]

    query = sign_query(params, HmacSigner(secret))

    payload, signature = query.rsplit("&signature=", 1)
    assert payload == "symbol=%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456&timestamp=1767225600000"
    expected = hmac.new(secret.reveal().encode(), payload.encode(), hashlib.sha256).hexdigest()
    raw_text = hmac.new(secret.reveal().encode(), unquote(payload).encode(), hashlib.sha256).hexdigest()
    assert signature == expected != raw_text


def test_a_base64_signature_is_url_encoded_in_the_query() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signer = RsaSigner(key)

    query = sign_query([("timestamp", "1")], signer)

    signature = query.rsplit("&signature=", 1)[1]
    assert not set(signature) & set("+/=")
    key.public_key().verify(
        base64.b64decode(unquote(signature)), b"timestamp=1", padding.PKCS1v15(), hashes.SHA256()
    )


def test_signers_never_show_key_material() -> None:
    secret = "s3cr3t-value-that-must-not-show"
    assert secret not in repr(HmacSigner(Secret(secret)))
    assert "PRIVATE" not in repr(load_private_key_signer(_pem(ed25519.Ed25519PrivateKey.generate())))


@pytest.mark.parametrize("kind", ["hmac", "ed25519", "rsa"])
async def test_the_bytes_on_the_wire_are_the_bytes_signed(
    kind: str, tmp_path: Path, make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on("/api/v3/account", ok(ACCOUNT))
    public_key: ed25519.Ed25519PublicKey | rsa.RSAPublicKey | None = None
    if kind == "hmac":
        config = settings(api_key=HMAC_KEY, api_secret="example-secret-do-not-use-0123456789abcdef")
    else:
        private = (
            ed25519.Ed25519PrivateKey.generate()
            if kind == "ed25519"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        public_key = private.public_key()
        path = tmp_path / "key.pem"
        path.write_bytes(_pem(private))
        config = settings(api_key=HMAC_KEY, private_key_path=str(path))
    adapter = make_adapter(exchange, config)

    await adapter.get_account_info(omit_zero_balances=True)

    (request,) = exchange.to("/api/v3/account")
    query = request.url.query  # the bytes of the request target after "?"
    payload, signature = query.split(b"&signature=")
    assert payload.startswith(b"omitZeroBalances=true&recvWindow=5000&timestamp=")
    assert request.headers["X-MBX-APIKEY"] == HMAC_KEY
    if public_key is None:
        expected = hmac.new(
            b"example-secret-do-not-use-0123456789abcdef", payload, hashlib.sha256
        ).hexdigest()
        assert signature.decode() == expected
    elif isinstance(public_key, ed25519.Ed25519PublicKey):
        public_key.verify(base64.b64decode(unquote(signature.decode())), payload)
    else:
        public_key.verify(
            base64.b64decode(unquote(signature.decode())), payload, padding.PKCS1v15(), hashes.SHA256()
        )


async def test_a_symbols_query_is_sent_exactly_as_encoded(
    make_adapter: AdapterFactory, exchange: FakeExchange
) -> None:
    exchange.on(
        "/api/v3/ticker/price",
        ok([{"symbol": "BTCUSDT", "price": "1.0"}, {"symbol": UNICODE_SYMBOL, "price": "2.0"}]),
    )
    adapter = make_adapter(exchange)

    await adapter.get_symbol_tickers([Symbol("BTCUSDT"), Symbol(UNICODE_SYMBOL)])

    (request,) = exchange.to("/api/v3/ticker/price")
    assert request.url.raw_path == (
        b"/api/v3/ticker/price?symbols=%5B%22BTCUSDT%22%2C%22%E8%BF%99%E6%98%AF%E6%B5%8B%E8%AF%95%E5%B8%81456%22%5D"
    )
