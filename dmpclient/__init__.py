"""dmpclient: a typed Python SDK for the French DMP (Mon espace santé) web services."""

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

__version__ = "0.1.0"

__all__ = [
    "DmpBusinessError",
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
    "DmpTimeoutError",
    "DmpTlsError",
    "DmpTransportError",
    "DmpUnsafeXmlError",
    "DmpUsageError",
    "DmpValidationError",
    "RegistryErrorItem",
    "__version__",
]
