"""dmpclient: a typed Python SDK for the French DMP (Mon espace santé) web services.

Quick use::

    from dmpclient import Actor, CallerIdentity, DmpClient, DmpConfig, InsOid

    config = DmpConfig.load("dmpclient.toml")
    doctor = CallerIdentity(Actor.professional("899900063480", name="LIBRE MAX", profession="10", specialty="SM26"))
    with DmpClient(config) as dmp:
        answer = dmp.test_existence("207058575627097", doctor, ins_oid=InsOid.TEST)
"""

from dmpclient._client import AsyncDmpClient, DmpClient
from dmpclient._prepare import issuer_from_config
from dmpclient._xml import XmlBudget, parse_untrusted
from dmpclient.codes import Code
from dmpclient.config import DmpConfig
from dmpclient.errors import (
    DmpBusinessError,
    DmpConfigError,
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpNotFoundError,
    DmpProtocolError,
    DmpRegistryError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpSecurityError,
    DmpSoapFault,
    DmpTimeoutError,
    DmpTlsError,
    DmpTransportError,
    DmpUnsafeXmlError,
    DmpUsageError,
    DmpValidationError,
    RegistryErrorItem,
)
from dmpclient.hl7v3.patient_query import AuthorizationStatus, DmpStatus, ExistenceAnswer, PatientIdentity
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PurposeOfUse, Structure
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.operation import Operation, PatientRef

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "AsyncDmpClient",
    "AuthMode",
    "AuthorizationStatus",
    "CallContext",
    "CallerIdentity",
    "Code",
    "DmpBusinessError",
    "DmpClient",
    "DmpConfig",
    "DmpConfigError",
    "DmpConnectError",
    "DmpError",
    "DmpHttpError",
    "DmpNotFoundError",
    "DmpProtocolError",
    "DmpRegistryError",
    "DmpRightsError",
    "DmpRightsPrecheckError",
    "DmpSecurityError",
    "DmpSoapFault",
    "DmpStatus",
    "DmpTimeoutError",
    "DmpTlsError",
    "DmpTransportError",
    "DmpUnsafeXmlError",
    "DmpUsageError",
    "DmpValidationError",
    "ExistenceAnswer",
    "InsOid",
    "NonPsRole",
    "Operation",
    "PatientIdentity",
    "PatientRef",
    "PurposeOfUse",
    "RegistryErrorItem",
    "Response",
    "Structure",
    "VihfIssuer",
    "XmlBudget",
    "__version__",
    "issuer_from_config",
    "parse_untrusted",
]
