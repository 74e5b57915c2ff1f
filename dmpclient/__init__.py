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
from dmpclient.custom.habilitations import (
    AuthorizationAction,
    AuthorizationList,
    AuthorizationListMode,
    AuthorizationUpdate,
    AuthorizedParty,
    PartyKind,
)
from dmpclient.custom.patients_specific import AuthorizedPatient, PatientIdentifier, PatientList, PatientListDateType
from dmpclient.errors import (
    DmpAuthorizationError,
    DmpBusinessError,
    DmpClosedError,
    DmpConfigError,
    DmpConnectError,
    DmpError,
    DmpHttpError,
    DmpIntegrityError,
    DmpNotFoundError,
    DmpPatientOppositionError,
    DmpProfessionalBlockedError,
    DmpProtocolError,
    DmpRegistryError,
    DmpRightsError,
    DmpRightsPrecheckError,
    DmpSecretConnectionError,
    DmpSecurityError,
    DmpSoapFault,
    DmpSubmissionUnknownError,
    DmpTimeoutError,
    DmpTlsError,
    DmpTooManyResultsError,
    DmpTransportError,
    DmpUnsafeXmlError,
    DmpUsageError,
    DmpValidationError,
    RegistryErrorItem,
)
from dmpclient.feeding import FeedJournal, FeedOutcome, FeedReport, FeedStatus
from dmpclient.hl7v3.patient_query import (
    AdministrativeRecord,
    AuthorizationStatus,
    DmpStatus,
    ExistenceAnswer,
    PatientIdentity,
)
from dmpclient.hl7v3.patient_update import AdministrativeUpdate, AdministrativeUpdated
from dmpclient.hl7v3.pdq import PatientCandidate, PatientSearch, PatientSearchResult
from dmpclient.hl7v3.person import Address, LegalRepresentative, Observation, PersonTraits, Telecom, TelecomKind
from dmpclient.ids import InsOid
from dmpclient.security.issuer import CallerIdentity, VihfIssuer
from dmpclient.security.vihf import Actor, AuthMode, NonPsRole, PurposeOfUse, Structure
from dmpclient.security.xades import SubmissionSigner, XadesVersion
from dmpclient.soap.response import Response
from dmpclient.transactions.context import CallContext
from dmpclient.transactions.feeding import FeedDocument, SubmissionOptions, SubmissionResult
from dmpclient.transactions.lifecycle import Audience, LifecycleResult
from dmpclient.transactions.operation import Operation, PatientRef
from dmpclient.transactions.webps import LaunchRequest, WebPsPage
from dmpclient.xds.cda_metadata import MetadataOverrides, Visibility

__version__ = "0.1.0"

__all__ = [
    "Actor",
    "Address",
    "AdministrativeRecord",
    "AdministrativeUpdate",
    "AdministrativeUpdated",
    "AsyncDmpClient",
    "Audience",
    "AuthMode",
    "AuthorizationAction",
    "AuthorizationList",
    "AuthorizationListMode",
    "AuthorizationStatus",
    "AuthorizationUpdate",
    "AuthorizedParty",
    "AuthorizedPatient",
    "CallContext",
    "CallerIdentity",
    "Code",
    "DmpAuthorizationError",
    "DmpBusinessError",
    "DmpClient",
    "DmpClosedError",
    "DmpConfig",
    "DmpConfigError",
    "DmpConnectError",
    "DmpError",
    "DmpHttpError",
    "DmpIntegrityError",
    "DmpNotFoundError",
    "DmpPatientOppositionError",
    "DmpProfessionalBlockedError",
    "DmpProtocolError",
    "DmpRegistryError",
    "DmpRightsError",
    "DmpRightsPrecheckError",
    "DmpSecretConnectionError",
    "DmpSecurityError",
    "DmpSoapFault",
    "DmpStatus",
    "DmpSubmissionUnknownError",
    "DmpTimeoutError",
    "DmpTlsError",
    "DmpTooManyResultsError",
    "DmpTransportError",
    "DmpUnsafeXmlError",
    "DmpUsageError",
    "DmpValidationError",
    "ExistenceAnswer",
    "FeedDocument",
    "FeedJournal",
    "FeedOutcome",
    "FeedReport",
    "FeedStatus",
    "InsOid",
    "LaunchRequest",
    "LegalRepresentative",
    "LifecycleResult",
    "MetadataOverrides",
    "NonPsRole",
    "Observation",
    "Operation",
    "PartyKind",
    "PatientCandidate",
    "PatientIdentifier",
    "PatientIdentity",
    "PatientList",
    "PatientListDateType",
    "PatientRef",
    "PatientSearch",
    "PatientSearchResult",
    "PersonTraits",
    "PurposeOfUse",
    "RegistryErrorItem",
    "Response",
    "Structure",
    "SubmissionOptions",
    "SubmissionResult",
    "SubmissionSigner",
    "Telecom",
    "TelecomKind",
    "VihfIssuer",
    "Visibility",
    "WebPsPage",
    "XadesVersion",
    "XmlBudget",
    "__version__",
    "issuer_from_config",
    "parse_untrusted",
]
