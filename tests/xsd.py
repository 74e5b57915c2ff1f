"""Validate elements against the official XSDs of ../shared/schemas (compiled once, offline)."""

from __future__ import annotations

from functools import cache
from typing import Final

from lxml import etree

from tests.conftest import SCHEMAS


class _LocalOnly(etree.Resolver):
    """Refuse any schema import that is not a local file (no network, ever)."""

    def resolve(self, system_url: str, public_id: str, context: object) -> object:
        if system_url.startswith(("http://", "https://", "ftp://")):
            raise ValueError(f"refusing to fetch {system_url}")
        return None


@cache
def schema(relative: str) -> etree.XMLSchema:
    """The compiled schema at ``relative`` under shared/schemas (e.g. ``"saml/saml-schema-assertion-2.0.xsd"``)."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalOnly())
    return etree.XMLSchema(etree.parse(str(SCHEMAS / relative), parser))


def assert_valid(element: etree._Element | bytes, relative: str) -> None:
    """Assert that ``element`` validates against the schema; the error names the first problem."""
    if isinstance(element, bytes):
        element = etree.fromstring(element)
    compiled = schema(relative)
    if not compiled.validate(element):
        errors = "\n".join(f"line {e.line}: {e.message}" for e in list(compiled.error_log)[:5])
        raise AssertionError(f"not valid against {relative}:\n{errors}")


#: The schema that validates a message by its root namespace (shared/schemas/catalog.md).
_BY_NAMESPACE: Final = {
    "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0": "ebrs30/query.xsd",
    "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0": "ebrs30/lcm.xsd",
    "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0": "ebrs30/rs.xsd",
    "urn:ihe:iti:xds-b:2007": "ihe/XDS.b_DocumentRepository.xsd",
}
#: Roots no XSD of shared/schemas describes, and the test that checks them instead.
CHECKED_ELSEWHERE: Final = {
    "urn:hl7-org:v3": "HL7 v3 data types (tests/hl7_types.py)",
    "asip:ci-sis:gdp:2010": "HL7 v3 data types of the message it wraps (tests/hl7_types.py)",
    "urn:si-dmp-habilitations": "the schema of the WSDL the mock serves (tests/unit/test_custom_services.py)",
    "urn:si-dmp-patients": "the schema of the WSDL the mock serves (tests/unit/test_custom_services.py)",
}
_XOP_INCLUDE: Final = "{http://www.w3.org/2004/08/xop/include}Include"


def schema_for(element: etree._Element) -> str | None:
    """The catalogue's schema for ``element``'s root; None for a root checked elsewhere, AssertionError otherwise."""
    namespace = etree.QName(element).namespace or ""
    if namespace in CHECKED_ELSEWHERE:
        return None
    assert namespace in _BY_NAMESPACE, f"no schema for {element.tag}: add it to tests/xsd.py"
    return _BY_NAMESPACE[namespace]


def assert_valid_by_root(element: etree._Element) -> None:
    """Validate against the catalogue's schema, XOP-decoded first (``xop:Include`` is no ``xs:base64Binary``)."""
    relative = schema_for(element)
    if relative is None:
        return
    decoded = etree.fromstring(etree.tostring(element))
    for include in decoded.iter(_XOP_INCLUDE):
        parent = include.getparent()
        assert parent is not None
        parent.remove(include)
        parent.text = "PGRvYy8+"  # the base64 text MTOM replaced: its value does not matter to the schema
    assert_valid(decoded, relative)
