"""A throwaway CA and a leaf certificate for the fake provider (EC P-256 keys: fast to make)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PROVIDER_HOSTS = (
    "api.anthropic.com",
    "api.openai.com",
    "chatgpt.com",
    "generativelanguage.googleapis.com",
    "openrouter.ai",
)
OTHER_HOST = "localhost"
"""The non-provider name the fake also answers under (its certificate names it too)."""
RULES_ADDED_HOST = "llm.internal.test"
"""A gateway name a rules file adds to the intercepted hosts; the fake answers it like a provider."""


@dataclass(frozen=True)
class FakePKI:
    """A test CA and one leaf certificate for the provider hosts and ``localhost``."""

    ca_cert_path: Path
    leaf_cert_path: Path
    leaf_key_path: Path
    leaf_cert_der: bytes


def make_test_pki(directory: Path) -> FakePKI:
    """Generate a fresh CA and leaf under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    valid_from, valid_to = now - datetime.timedelta(days=1), now + datetime.timedelta(days=7)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "headroom e2e test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True,
                content_commitment=False, key_encipherment=False, data_encipherment=False,
                key_agreement=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    leaf_key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(host) for host in (*PROVIDER_HOSTS, RULES_ADDED_HOST, OTHER_HOST)]
    leaf_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake provider")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(valid_from)
        .not_valid_after(valid_to)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    pki = FakePKI(
        ca_cert_path=directory / "test-ca.pem",
        leaf_cert_path=directory / "leaf.pem",
        leaf_key_path=directory / "leaf-key.pem",
        leaf_cert_der=leaf_cert.public_bytes(serialization.Encoding.DER),
    )
    pki.ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    pki.leaf_cert_path.write_bytes(leaf_cert.public_bytes(serialization.Encoding.PEM))
    pki.leaf_key_path.write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pki
