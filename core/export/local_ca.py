"""This installation's signing identity for Content Credentials: a local CA and a leaf
certificate it issued (C2PA refuses a single self-signed certificate), ES256 keys, made once
under the user data folder with the private keys readable by the owner only."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.paths import data_home

ORGANIZATION = "GeneRec Studio (local installation)"
# Extended key usage id-kp-emailProtection: c2pa-python 0.38 refuses a signer without one of
# its accepted EKUs (it rejected id-kp-documentSigning).
EMAIL_PROTECTION = "1.3.6.1.5.5.7.3.4"
CA_YEARS, LEAF_YEARS = 20, 5
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class SigningIdentity:
    folder: Path
    chain_pem: bytes      # leaf first, then the CA
    key_pem: bytes        # the leaf's private key
    ca_pem: bytes


def identity_folder() -> Path:
    return data_home() / "c2pa"


def signing_identity(folder: Path | None = None) -> SigningIdentity:
    """The local CA and leaf, made on first use; a leaf near its end is renewed by the CA."""
    folder = folder or identity_folder()
    if not (folder / "ca.pem").is_file():
        _create(folder)
    leaf = folder / "signer.pem"
    if not leaf.is_file() or _expires_soon(leaf):
        _write_leaf(folder, _load_key(folder / "ca.key"), _load_cert(folder / "ca.pem"))
    ca_pem = (folder / "ca.pem").read_bytes()
    return SigningIdentity(folder, (folder / "signer.pem").read_bytes() + ca_pem,
                           (folder / "signer.key").read_bytes(), ca_pem)


def local_ca_pem(folder: Path | None = None) -> bytes | None:
    """The CA certificate, or None where this installation has not signed anything yet."""
    path = (folder or identity_folder()) / "ca.pem"
    return path.read_bytes() if path.is_file() else None


def _create(folder: Path) -> None:
    """Build the identity in a temporary folder and rename it into place: two processes
    starting at once end up sharing whichever identity was renamed first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".c2pa-", dir=folder.parent))
    try:
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("GeneRec Studio local CA")
        now = _now()
        ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(minutes=5))
              .not_valid_after(now + dt.timedelta(days=365 * CA_YEARS))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(_key_usage(cert_sign=True), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                             critical=False)
              .sign(key, hashes.SHA256()))
        _write_private(work / "ca.key", _key_bytes(key))
        (work / "ca.pem").write_bytes(_cert_bytes(ca))
        _write_leaf(work, key, ca)
        try:
            os.rename(work, folder)
        except OSError:
            if not (folder / "ca.pem").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _write_leaf(folder: Path, ca_key, ca) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    leaf = (x509.CertificateBuilder().subject_name(_name("GeneRec Studio export signer"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(min(now + dt.timedelta(days=365 * LEAF_YEARS), ca.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(EMAIL_PROTECTION)]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_private(folder / "signer.key", _key_bytes(key))
    tmp = folder / ".signer.pem.partial"
    tmp.write_bytes(_cert_bytes(leaf))
    os.replace(tmp, folder / "signer.pem")


def _write_private(path: Path, data: bytes) -> None:
    """Created with mode 600, so the key is never readable by others, not even briefly."""
    tmp = path.with_name(f".{path.name}.partial")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _expires_soon(cert_path: Path) -> bool:
    return _load_cert(cert_path).not_valid_after_utc - RENEW_BEFORE < _now()


def _key_usage(cert_sign: bool):
    from cryptography import x509

    return x509.KeyUsage(digital_signature=not cert_sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False,
                         decipher_only=False)


def _name(common_name: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION)])


def _key_bytes(key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_bytes(cert) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _load_key(path: Path):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _load_cert(path: Path):
    from cryptography import x509

    return x509.load_pem_x509_certificate(path.read_bytes())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)
