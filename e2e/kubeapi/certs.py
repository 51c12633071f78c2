"""The emulator's PKI: a throwaway cluster CA, the API server's certificate
(SANs: the listen address, localhost, 127.0.0.1, ::1 and any extras) and a
client certificate the CA signed, for clients that authenticate with mTLS."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import timestamps


@dataclass(frozen=True)
class KeyPair:
    cert_pem: bytes
    key_pem: bytes


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(subject: x509.Name, issuer: x509.Name, key, issuer_key) -> x509.CertificateBuilder:
    start = timestamps.now() - timedelta(hours=1)  # tolerate clock skew between processes
    return (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(days=365))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                           critical=False))


def _leaf(builder: x509.CertificateBuilder, usage: x509.ObjectIdentifier) -> x509.CertificateBuilder:
    return (builder
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))


class ClusterPKI:
    def __init__(self, host: str, extra_sans: tuple[str, ...] = ()):
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("kubeapi-emulator-ca")
        ca_cert = (_builder(ca_name, ca_name, self._ca_key, self._ca_key)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False,
                                                content_commitment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .sign(self._ca_key, hashes.SHA256()))
        self._ca_name = ca_name
        self.ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
        self.server = self._issue(_name("kube-apiserver"), ExtendedKeyUsageOID.SERVER_AUTH,
                                  self._server_sans(host, extra_sans))
        # system:masters is the group a real cluster's admin certificate carries.
        self.client = self.issue_client("kubeapi-admin", "system:masters")

    @staticmethod
    def _server_sans(host: str, extra: tuple[str, ...]) -> list[x509.GeneralName]:
        names: list[x509.GeneralName] = []
        for entry in ("localhost", "127.0.0.1", "::1", host, *extra):
            if not entry or entry in ("0.0.0.0", "::"):
                continue
            try:
                general: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(entry))
            except ValueError:
                general = x509.DNSName(entry)
            if general not in names:
                names.append(general)
        return names

    def issue_client(self, user: str, group: str | None = None) -> KeyPair:
        """A client certificate for `user`, signed by the cluster CA."""
        return self._issue(_name(user, group), ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def _issue(self, subject: x509.Name, usage, sans: list[x509.GeneralName]) -> KeyPair:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = _leaf(_builder(subject, self._ca_name, key, self._ca_key), usage)
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(self._ca_key, hashes.SHA256())
        return KeyPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))
