"""Validate elements against the official XSDs of ../shared/schemas (compiled once, offline)."""

from __future__ import annotations

from functools import cache

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
