"""The schema helper itself: the bundle compiles offline and rejects an obviously wrong envelope."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.xsd import assert_valid, schema


def test_bundle_compiles_offline() -> None:
    assert schema("bundle/all.xsd") is not None


def test_wrong_envelope_is_reported() -> None:
    bad = etree.fromstring(b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Nope/></e:Envelope>')
    with pytest.raises(AssertionError, match="not valid"):
        assert_valid(bad, "soap12/soap-1.2-envelope.xsd")
