"""One golden case per implemented transaction: how to build its request and a representative answer.

The contract test (``tests/unit/test_contract.py``) requires a case for every spec of
:data:`dmpclient.transactions.catalog.SPECS`; adding a transaction means adding its case here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from lxml import etree

from dmpclient.hl7v3.patient_query import (
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
    build_patient_response,
    parse_patient_query,
)
from dmpclient.ids import InsOid
from dmpclient.transactions import patients
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation
from dmpclient.transactions.spec import TransactionSpec
from tests.golden import GOLDEN_NOW

__all__ = ["CASES", "GoldenCase"]

PATB_QUATRE: Final = "207058575627097"


@dataclass(frozen=True)
class GoldenCase:
    """A transaction's golden request and answer.

    Attributes:
        spec: the transaction.
        request: builds the operation with a frozen context.
        response: the answer body a DMP would send to that operation (mock-side codec, fixed values).
        schemas: the XSDs (under shared/schemas) the request and the answer bodies validate against.
    """

    spec: TransactionSpec[Any]
    request: Callable[[CallContext], Operation[Any]]
    response: Callable[[Operation[Any]], etree._Element]
    schemas: tuple[str, ...] = ()


def _patient_answer(op: Operation[Any], answer: ExistenceAnswer) -> etree._Element:
    return build_patient_response(parse_patient_query(op.body), answer, response_id="golden-response", now=GOLDEN_NOW)


_PATIENT: Final = PatientIdentity(
    PATB_QUATRE,
    InsOid.TEST,
    family="PATB-QUATRE",
    birth_family="PATB-QUATRE",
    given="LAURENCE",
    gender="F",
    birth_date=dt.date(1970, 5, 20),
)

CASES: Final[dict[str, GoldenCase]] = {
    case.spec.td: case
    for case in (
        GoldenCase(
            patients.TEST_EXISTENCE,
            lambda ctx: patients.test_existence(ctx, PATB_QUATRE, InsOid.TEST),
            lambda op: _patient_answer(
                op,
                ExistenceAnswer(
                    DmpStatus.ACTIVE,
                    AuthorizationStatus.VALIDE,
                    treating_physician=True,
                    patient=_PATIENT,
                    observations={"COMPTE_INTERNET_OUVERT": True, "RATTACHEMENT_ENS": True},
                ),
            ),
        ),
        GoldenCase(
            patients.ADMINISTRATIVE_DATA,
            lambda ctx: patients.administrative_data(ctx, PATB_QUATRE, InsOid.TEST),
            lambda op: _patient_answer(
                op,
                ExistenceAnswer(
                    DmpStatus.ACTIVE,
                    patient=_PATIENT,
                    observations={"OPPOSITION_BRIS_DE_GLACE": False, "OPPOSITION_ACCES_URGENCE": True},
                ),
            ),
        ),
    )
}
