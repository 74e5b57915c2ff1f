"""Every DMP transaction the SDK implements, in one place: the client, the mock and the tests read it.

Adding a transaction means adding its spec here (see ``docs/adding-a-transaction.md``); a contract test
checks that each one has a mock route, golden files, and rights rows both sides agree on.
"""

from __future__ import annotations

from typing import Any, Final

from dmpclient.transactions import feeding, habilitations, lifecycle, patient_list, patients, registry, repository
from dmpclient.transactions.spec import TransactionSpec

__all__ = ["SPECS", "by_td", "resolve"]

#: All implemented transactions, in TD order.
SPECS: Final[tuple[TransactionSpec[Any], ...]] = (
    patients.TEST_EXISTENCE,
    habilitations.SET_AUTHORIZATION,
    patient_list.PATIENT_LIST,
    patients.SEARCH_PATIENTS,
    patients.ADMINISTRATIVE_DATA,
    patients.UPDATE_ADMINISTRATIVE_DATA,
    habilitations.LIST_AUTHORIZATIONS,
    feeding.PROVIDE_AND_REGISTER,
    registry.STORED_QUERY,
    repository.RETRIEVE,
    lifecycle.UPDATE_DOCUMENT_SET,
)


def by_td(td: str) -> TransactionSpec[Any]:
    """The spec of a transaction number (``"TD0.2"``).

    Raises:
        KeyError: no implemented transaction has that number.
    """
    for spec in SPECS:
        if spec.td == td:
            return spec
    raise KeyError(td)


def resolve(service: str, root: str, reason_code: str | None) -> TransactionSpec[Any] | None:
    """The transaction a request is, from its service, body root and HL7 reason code (reference §1.3.1)."""
    exact = {spec.route_key: spec for spec in SPECS}
    return exact.get((service, root, reason_code)) or exact.get((service, root, None))
