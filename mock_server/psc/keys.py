"""The mock provider's signing key: an RSA key of its own, kept next to the test PKI it serves with.

The test PKI (:mod:`dmpclient.security.pki`) writes no CA key, and a TLS key must not double as a
token-signing key, so the provider generates its key once into ``{directory}/psc-provider.key.pem``
(mode 0600) and publishes its public half in the JWKS (``kid`` = RFC 7638 thumbprint, ``alg`` RS256).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import KeySet, RSAKey

__all__ = ["KEY_FILE", "ProviderKey"]

KEY_FILE: Final = "psc-provider.key.pem"


class ProviderKey:
    """One RS256 signing key: the private :class:`KeySet` to sign with, the public JWKS to publish."""

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        pem = private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        key = RSAKey.import_key(pem)
        self.kid = key.thumbprint()
        self.private = RSAKey.import_key(pem, {"kid": self.kid, "alg": "RS256", "use": "sig"})
        self.signing_set = KeySet([self.private])

    def __repr__(self) -> str:
        return f"ProviderKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> ProviderKey:
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def in_directory(cls, directory: Path) -> ProviderKey:
        """Load ``directory/psc-provider.key.pem``, creating it (0600) on first use."""
        path = directory / KEY_FILE
        if not path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            fresh = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            data = fresh.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, rsa.RSAPrivateKey):
            raise ValueError(f"{path} is not an RSA private key")
        return cls(loaded)

    def jwks(self) -> dict[str, Any]:
        """The public JWKS document."""
        return {"keys": [self.private.as_dict(private=False)]}
