"""The SDK refuses to open the mutual-TLS channel with a certificate that lacks the clientAuth usage."""

from __future__ import annotations

import pytest

from dmpclient.errors import DmpConfigError
from dmpclient.security.credentials import load_pem
from dmpclient.security.pki import TestPki
from dmpclient.security.tls import client_context


@pytest.mark.parametrize("which", ["org_sign", "ps_sign"])
def test_signature_certificates_cannot_be_tls_client_certificates(pki: TestPki, which: str) -> None:
    files = getattr(pki, which)
    credential = load_pem(files.cert, files.key)
    assert not credential.has_client_auth()
    with pytest.raises(DmpConfigError, match="clientAuth") as caught:
        client_context(credential, pki.ca_bundle)
    assert caught.value.field == "credentials.tls"


@pytest.mark.parametrize("which", ["org_auth", "ps_auth"])
def test_authentication_certificates_open_the_channel(pki: TestPki, which: str) -> None:
    files = getattr(pki, which)
    credential = load_pem(files.cert, files.key)
    assert credential.has_client_auth()
    assert client_context(credential, pki.ca_bundle) is not None
