"""Client configuration: which DMP platform, which certificates, who we are (LPS, structure), timeouts, retries.

A configuration is a TOML file (every path relative to the file) overridden by ``DMP_*`` environment
variables. Passwords never appear in the file: it names the environment variable that holds them.

Example::

    environment = "dev1"                  # mock | dev1 | dev9 | formation1 … | production (see ENVIRONMENTS)
    # base_url = "https://…/si-dmp-server/v2/services"   # explicit URL, https only; wins over environment
    # webps_url = "https://…"             # web PS site of the platform (TD0.9 / TD0.10); the mock's by default
    ca_bundle = "igc-sante-cas.pem"       # CAs the DMP server certificate must chain to (no system CAs)

    [credentials.tls]                     # ORG AUTH_CLI: TLS client authentication
    p12 = "asip-p12-EL-TEST-ORG-AUTH_CLI.p12"
    p12_password_env = "DMP_TLS_P12_PASSWORD"
    [credentials.signing]                 # ORG SIGN: VIHF signature (PEM form shown)
    cert = "org-sign.pem"
    key = "org-sign.key.pem"
    # key_password_env = "DMP_SIGNING_KEY_PASSWORD"   # only if the key is encrypted

    [lps]
    nom = "MON LPS"
    version = "1.0"
    id = "1.2.250.1.999.888.2"
    id_homologation_dmp = "BCO-465897-tmp2"

    [structure]
    id = "10B0127189"                     # Struct_IdNat = OU of the ORG certificates
    secteur_activite = "SA07"
    name = "CENTRE DE SANTE RPPS12718"

    [timeouts]                            # seconds
    connect = 10
    read = 60
    [retry]                               # idempotent reads only; 1 = no retry
    max_attempts = 3

Environment overrides (strings, converted like the file values):

=====================  ==============================
``DMP_CONFIG``         path of the TOML file when ``load()`` gets none
``DMP_ENVIRONMENT``    ``environment``
``DMP_BASE_URL``       ``base_url``
``DMP_WEBPS_URL``      ``webps_url``
``DMP_CA_BUNDLE``      ``ca_bundle``
``DMP_PROXY``          ``proxy``
``DMP_TLS_CERT``       ``credentials.tls.cert`` (also ``_KEY``, ``_P12``)
``DMP_SIGNING_CERT``   ``credentials.signing.cert`` (also ``_KEY``, ``_P12``)
``DMP_STRUCTURE_ID``   ``structure.id``
``DMP_A__B__C``        any setting ``a.b.c`` (double underscore = nesting), e.g. ``DMP_TIMEOUTS__READ=120``
=====================  ==============================

Other ``DMP_*`` variables (for instance the ones holding passwords) are not configuration and are ignored.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from dmpclient._xml import XmlBudget
from dmpclient.codes import ValueSetId, load_value_set
from dmpclient.errors import DmpConfigError
from dmpclient.ids import validate_structure_id
from dmpclient.psc.config import PscConfig
from dmpclient.security.credentials import Credential, load_certificates, load_pem, load_pkcs12

if TYPE_CHECKING:
    from dmpclient.security.pki import TestPki

__all__ = [
    "ENVIRONMENTS",
    "MOCK_ENVIRONMENT",
    "SERVICES_PATH",
    "CredentialSource",
    "Credentials",
    "DmpConfig",
    "LpsIdentity",
    "MockEndpoint",
    "RetryPolicy",
    "SigningCredentialSource",
    "Structure",
    "Timeouts",
    "TlsCredentialSource",
    "WireOptions",
    "XmlLimits",
]

SERVICES_PATH: Final = "/si-dmp-server/v2/services"
MOCK_ENVIRONMENT: Final = "mock"

#: DMP platforms seen in public sources (reference §1.2); their access is restricted to registered certificates.
ENVIRONMENTS: Final[Mapping[str, str]] = {
    "dev1": f"https://lps.dev1.dmp.gouv.fr{SERVICES_PATH}",
    "dev9": f"https://lps.dev9.dmp.gouv.fr{SERVICES_PATH}",
    "dev6-legacy": f"https://dev6.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "dev9-legacy": f"https://dev9.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "dev6-igc-sante": f"https://dev6.lps-igc-sante.dmp.gouv.fr{SERVICES_PATH}",
    "formation1": f"https://formation1.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "formation2": f"https://formation2.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "formation3": f"https://formation3.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "formation5": f"https://formation5.lps2.dmp.gouv.fr{SERVICES_PATH}",
    "production": f"https://lps2.dmp.gouv.fr{SERVICES_PATH}",
}

_ENV_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "DMP_ENVIRONMENT": ("environment",),
    "DMP_BASE_URL": ("base_url",),
    "DMP_WEBPS_URL": ("webps_url",),
    "DMP_CA_BUNDLE": ("ca_bundle",),
    "DMP_PROXY": ("proxy",),
    "DMP_STRUCTURE_ID": ("structure", "id"),
    **{
        f"DMP_{role.upper()}_{item.upper()}": ("credentials", role, item)
        for role in ("tls", "signing")
        for item in ("cert", "key", "p12")
    },
}
_PATH_KEYS: Final = frozenset({"cert", "key", "p12", "ca_bundle", "jwt_key"})
_ENV_VAR_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECTEUR: Final = re.compile(r"^SA[0-9]{2}$")
_HINTS: Final[Mapping[str, str]] = {
    "ca_bundle": "the PEM file of the CAs that issued the DMP server certificate (IGC-Santé; ca-bundle.pem of the "
    "test PKI for the mock)",
    "credentials": "a [credentials.tls] section (ORG AUTH_CLI certificate) is required",
    "credentials.tls": "give the ORG AUTH_CLI certificate as cert + key (PEM) or p12",
    "lps": "a [lps] section with nom, version and id_homologation_dmp is required",
    "structure": "a [structure] section with id and secteur_activite is required",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CredentialSource(_Section):
    """One certificate + key, from PEM files (``cert`` + ``key``) or from a PKCS#12 file (``p12``).

    Passwords come from environment variables whose *names* are configured here.
    """

    role: ClassVar[str] = "certificate"

    cert: Path | None = None
    key: Path | None = None
    key_password_env: str | None = None
    p12: Path | None = None
    p12_password_env: str | None = None

    @field_validator("cert", "key", "p12")
    @classmethod
    def _file_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is not None and not value.is_file():
            advice = {
                "cert": f"point it to the {cls.role} (PEM) or use p12",
                "key": f"point it to the private key (PEM) of the {cls.role}",
                "p12": f"point it to the {cls.role} as PKCS#12 (.p12) or use cert + key",
            }[str(info.field_name)]
            raise ValueError(f"file {value} does not exist — {advice}")
        return value

    @field_validator("key_password_env", "p12_password_env")
    @classmethod
    def _env_var_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_VAR_NAME.fullmatch(value):
            raise ValueError(
                "give the NAME of the environment variable that holds the password (e.g. DMP_TLS_P12_PASSWORD), "
                "never the password itself"
            )
        return value

    @model_validator(mode="after")
    def _one_form(self) -> CredentialSource:
        pem, p12 = self.cert is not None or self.key is not None, self.p12 is not None
        if pem == p12:
            raise ValueError(f"give the {self.role} either as cert + key (PEM) or as p12, not both and not neither")
        if pem and (self.cert is None or self.key is None):
            raise ValueError(f"cert and key go together: set both for the {self.role} (or use p12)")
        return self

    def load(self, env: Mapping[str, str], where: str) -> Credential:
        """Read the files (and the password from ``env``); errors name the configuration path ``where``."""
        try:
            if self.p12 is not None:
                return load_pkcs12(self.p12, _password(env, self.p12_password_env, f"{where}.p12_password_env"))
            assert self.cert is not None  # guaranteed by _one_form
            assert self.key is not None
            return load_pem(self.cert, self.key, _password(env, self.key_password_env, f"{where}.key_password_env"))
        except DmpConfigError as exc:
            raise DmpConfigError(f"{exc.field or where}: {exc.message}", field=exc.field or where) from None


class TlsCredentialSource(CredentialSource):
    """The ORG AUTH_CLI certificate presented in mutual TLS (reference §1.4)."""

    role: ClassVar[str] = "ORG AUTH_CLI certificate"


class SigningCredentialSource(CredentialSource):
    """The ORG SIGN (cachet) certificate signing the VIHF and the XAdES submission signature."""

    role: ClassVar[str] = "ORG SIGN certificate"


class Credentials(_Section):
    """TLS client credential (required) and VIHF signing credential (not needed in DIRECTE mode)."""

    tls: TlsCredentialSource
    signing: SigningCredentialSource | None = None


class LpsIdentity(_Section):
    """The software identity sent in every VIHF (``LPS_Nom``, ``LPS_Version``, ``LPS_ID``, homologation number)."""

    nom: str = Field(min_length=1)
    version: str = Field(min_length=1)
    id: str = ""
    id_homologation_dmp: str = Field(min_length=1)


class Structure(_Section):
    """The healthcare structure (``Identifiant_Structure`` = ORG certificate ``OU``, ``Secteur_Activite``)."""

    id: str
    secteur_activite: str
    name: str = ""

    @field_validator("id")
    @classmethod
    def _structure_id(cls, value: str) -> str:
        return validate_structure_id(value, field="structure.id")

    @field_validator("secteur_activite")
    @classmethod
    def _secteur(cls, value: str) -> str:
        if not _SECTEUR.fullmatch(value) or value not in load_value_set(ValueSetId.SECTEUR_ACTIVITE):
            raise ValueError("a TRE_R02 secteur d'activité code such as SA07 (cabinet) or SA01 (public hospital)")
        return value


class Timeouts(_Section):
    """Timeouts in seconds: per phase (``connect``, ``read`` between two received bytes, ``write``, ``pool``
    wait for a free connection) and ``total``, the budget of a whole exchange with the DMP, retries included (a
    server that trickles bytes resets the read timeout on every byte, never the total). A method that makes
    several exchanges (``feed`` looking up an unknown outcome, ``replace``, ``find_new_versions``…) gives each its
    own budget, so that the recovery of a timed-out submission still has time to ask the registry. ``total`` can
    be overridden per call (``deadline=``).
    """

    connect: float = Field(10.0, gt=0)
    read: float = Field(60.0, gt=0)
    write: float = Field(60.0, gt=0)
    pool: float = Field(10.0, gt=0)
    total: float = Field(300.0, gt=0)


class RetryPolicy(_Section):
    """Automatic retries of *idempotent* calls (reads) on connect errors, timeouts and HTTP 503.

    Off by default (``max_attempts = 1``). Submissions and updates (TD2.1, TD3.3, TD0.3) are never retried.
    Delays grow exponentially from ``backoff_initial`` up to ``backoff_max`` with full jitter.
    """

    max_attempts: int = Field(1, ge=1, le=10)
    backoff_initial: float = Field(0.5, gt=0)
    backoff_max: float = Field(10.0, gt=0)


class WireOptions(_Section):
    """Wire details that official examples and working clients write differently (reference §1.3.1, §1.6).

    Attributes:
        must_understand: ``unprefixed`` (official examples: ``mustUnderstand="true"`` in no namespace) or
            ``soap`` (``soap:mustUnderstand``, the form the WS-Addressing schema validates).
        wsa_to_endpoint: send the endpoint URL in ``wsa:To`` (DRIMBOX) instead of an empty ``wsa:To``
            (official examples).
        hl7_processing_code: HL7v3 ``processingCode``: ``P`` (production, default) or ``D`` (the examples).
    """

    must_understand: Literal["unprefixed", "soap"] = "unprefixed"
    wsa_to_endpoint: bool = False
    hl7_processing_code: Literal["P", "D", "T"] = "P"


class XmlLimits(_Section):
    """The structure budget of every XML answer (``dmpclient._xml.XmlBudget``; docs/security.md): raise
    ``max_nodes`` only if the platform legitimately sends larger answers (a search of thousands of documents)."""

    max_nodes: int = Field(500_000, gt=0)
    max_depth: int = Field(256, ge=1, le=256)
    max_text: int = Field(10_000_000, ge=1, le=10_000_000)
    max_attributes: int = Field(256, gt=0)

    def budget(self, max_bytes: int) -> XmlBudget:
        """The parser budget of answers up to ``max_bytes``."""
        return XmlBudget(
            max_bytes=max_bytes,
            max_nodes=self.max_nodes,
            max_depth=self.max_depth,
            max_text=self.max_text,
            max_attributes=self.max_attributes,
        )


class MockEndpoint(_Section):
    """Where the ``mock`` environment listens."""

    host: str = "127.0.0.1"
    port: int = Field(8443, ge=1, le=65535)
    #: the mock's web PS site (TD0.9 / TD0.10), served without client certificate (browsers)
    webps_port: int = Field(8445, ge=1, le=65535)


class DmpConfig(_Section):
    """Everything a :class:`~dmpclient.DmpClient` needs. Build it with :meth:`load` or directly.

    Any invalid value raises :class:`~dmpclient.errors.DmpConfigError` naming the dotted field path
    (nested sections built on their own raise pydantic's ``ValidationError``).

    Attributes:
        environment: a platform name of :data:`ENVIRONMENTS`, or ``"mock"`` (the default: ``mock.host:mock.port``).
        base_url: an explicit https services URL; wins over ``environment``.
        ca_bundle: PEM CAs the DMP server certificate must chain to; the system store is never used and
            verification cannot be turned off.
        credentials: ``tls`` (ORG AUTH_CLI, required) and ``signing`` (ORG SIGN).
        lps, structure: the identity sent in the VIHF.
        timeouts: connect / read / write / pool seconds.
        retry: retries of idempotent calls (off by default).
        proxy: an ``http(s)://host:port`` proxy (no credentials); environment proxies are ignored.
        max_response_bytes: the largest plain SOAP answer (or MTOM root part) accepted.
        xml: the structure budget of answers (elements and attributes, depth, text size, attributes per element).
        wire: switchable wire details (``mustUnderstand`` form, ``wsa:To``, HL7 ``processingCode``).
        psc: Pro Santé Connect sign-in settings (``[psc]``, :mod:`dmpclient.psc`), when the software uses PSC.
        webps_url: the platform's web PS site (TD0.9, TD0.10); the hosts of the real platforms are not public
            for certain (reference §10.1), so only the mock has a default.
    """

    environment: str = MOCK_ENVIRONMENT
    base_url: str | None = None
    webps_url: str | None = None
    mock: MockEndpoint = MockEndpoint()
    ca_bundle: Path
    credentials: Credentials
    lps: LpsIdentity
    structure: Structure
    timeouts: Timeouts = Timeouts()
    retry: RetryPolicy = RetryPolicy()
    proxy: str | None = None
    max_response_bytes: int = Field(64 * 1024 * 1024, gt=0)
    xml: XmlLimits = XmlLimits()
    wire: WireOptions = WireOptions()
    psc: PscConfig | None = None

    _env: Mapping[str, str] | None = PrivateAttr(default=None)
    _loaded: dict[str, Credential] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _as_config_error(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            raise _config_error(exc) from None

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, value: str) -> str:
        if value != MOCK_ENVIRONMENT and value not in ENVIRONMENTS:
            known = ", ".join([MOCK_ENVIRONMENT, *ENVIRONMENTS])
            raise ValueError(f"unknown environment {value!r}; use one of {known}, or set base_url")
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme != "https":
            raise ValueError("only https:// URLs are accepted: the DMP is only reachable over mutual TLS")
        return _url(value, "https://host[:port]/si-dmp-server/v2/services")

    @field_validator("webps_url")
    @classmethod
    def _webps_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme != "https":
            raise ValueError("only https:// URLs are accepted for the web PS site")
        return _url(value, "https://host[:port]")

    @field_validator("proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("a proxy URL starts with http:// or https://")
        return _url(value, "http://proxy-host:port")

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError(f"file {value} does not exist — {_HINTS['ca_bundle']}")
        try:
            load_certificates(value)
        except DmpConfigError as exc:
            raise ValueError(exc.message) from None
        return value

    @property
    def endpoint(self) -> str:
        """The base URL of the services (``…/si-dmp-server/v2/services``), without trailing slash."""
        if self.base_url:
            return self.base_url
        if self.environment == MOCK_ENVIRONMENT:
            return f"https://{self.mock.host}:{self.mock.port}{SERVICES_PATH}"
        return ENVIRONMENTS[self.environment]

    @property
    def webps_base(self) -> str:
        """The web PS site's base URL (TD0.9, TD0.10), without trailing slash.

        Raises:
            DmpConfigError: no ``webps_url`` for a real platform.
        """
        if self.webps_url:
            return self.webps_url
        if self.environment == MOCK_ENVIRONMENT and not self.base_url:
            return f"https://{self.mock.host}:{self.mock.webps_port}"
        raise DmpConfigError(
            "webps_url: set the web PS site of this platform (reference §10.1 names wps-psc.dmp.monespacesante.fr "
            "for Pro Santé Connect; no public source confirms the host of each environment)",
            field="webps_url",
        )

    def service_url(self, service: str) -> str:
        """The URL of one service (``registry``, ``repository``, ``patients``…)."""
        return f"{self.endpoint}/{service}"

    def load_tls_credential(self) -> Credential:
        """The ORG AUTH_CLI credential (read once, then cached)."""
        return self._credential("credentials.tls", self.credentials.tls)

    def load_signing_credential(self) -> Credential:
        """The ORG SIGN credential (read once, then cached)."""
        if self.credentials.signing is None:
            raise DmpConfigError(
                "credentials.signing: not configured — add a [credentials.signing] section with the ORG SIGN "
                "certificate (cert + key or p12) to sign the VIHF",
                field="credentials.signing",
            )
        return self._credential("credentials.signing", self.credentials.signing)

    def _credential(self, where: str, source: CredentialSource) -> Credential:
        """Load once per source: copies (``model_copy``) share the cache, so it is keyed on the source itself."""
        key = f"{where}:{source.model_dump_json()}"
        if key not in self._loaded:
            self._loaded[key] = source.load(os.environ if self._env is None else self._env, where)
        return self._loaded[key]

    @classmethod
    def load(cls, path: Path | str | None = None, env: Mapping[str, str] | None = None) -> DmpConfig:
        """Read the TOML file ``path`` (or ``$DMP_CONFIG``), then apply the ``DMP_*`` overrides of ``env``.

        Args:
            path: the TOML file; relative paths inside it are relative to its directory.
            env: the environment (defaults to ``os.environ``); also where passwords are read from.
        """
        env = os.environ if env is None else env
        source = path if path is not None else env.get("DMP_CONFIG")
        data = _read_toml(Path(source)) if source else {}
        _merge(data, _env_overrides(env))
        config = cls.model_validate(data)
        config._env = env
        return config

    @classmethod
    def for_test_pki(cls, pki: TestPki, base_url: str | None = None, **overrides: Any) -> DmpConfig:
        """A configuration using a generated test PKI (tests, demo): mock environment unless ``base_url``."""
        data: dict[str, Any] = {
            "ca_bundle": pki.ca_bundle,
            "credentials": {
                "tls": {"cert": pki.org_auth.cert, "key": pki.org_auth.key},
                "signing": {"cert": pki.org_sign.cert, "key": pki.org_sign.key},
            },
            "lps": {"nom": "DMPCLIENT", "version": "0.1.0", "id": "1.2.250.1.999.1", "id_homologation_dmp": "TST-1"},
            "structure": {"id": pki.structure_id, "secteur_activite": "SA01", "name": "CENTRE HOSPITALIER DE TEST"},
        }
        if base_url is not None:
            data["base_url"] = base_url
        data.update(overrides)
        return cls.model_validate(data)


def _url(value: str | None, example: str) -> str | None:
    """Check a URL without ever echoing it (it could carry credentials); drop the trailing slash."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        raise ValueError("credentials must not be written in a URL of the configuration")
    try:
        valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"not a valid URL (expected {example})")
    return value.rstrip("/")


def _password(env: Mapping[str, str], variable: str | None, where: str) -> bytes | None:
    if variable is None:
        return None
    if variable not in env:
        raise DmpConfigError(
            f"the environment variable {variable} (named by {where}) is not set; export the password in it",
            field=where,
        )
    return env[variable].encode()


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise DmpConfigError(
            f"the configuration file {path} does not exist (pass --config FILE or set DMP_CONFIG)", field="config"
        ) from None
    except OSError as exc:
        raise DmpConfigError(f"cannot read the configuration file {path}: {exc.strerror}", field="config") from None
    except tomllib.TOMLDecodeError as exc:
        raise DmpConfigError(f"{path} is not valid TOML: {exc}", field="config") from None
    _resolve_paths(data, path.parent.resolve())
    return data


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Make the file paths of a TOML document relative to the document's directory."""
    for key, value in data.items():
        if isinstance(value, dict):
            _resolve_paths(value, base)
        elif key in _PATH_KEYS and isinstance(value, str):
            data[key] = str((base / Path(value).expanduser()).resolve())


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for name, value in env.items():
        if name in _ENV_ALIASES:
            keys = _ENV_ALIASES[name]
        elif name.startswith("DMP_") and "__" in name:
            keys = tuple(part.lower() for part in name[4:].split("__"))
        else:
            continue
        _merge(overrides, _nest(keys, value))
    return overrides


def _nest(keys: tuple[str, ...], value: Any) -> dict[str, Any]:
    for key in reversed(keys[1:]):
        value = {key: value}
    return {keys[0]: value}


def _merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = dict(value) if isinstance(value, Mapping) else value


def _describe(error: ErrorDetails) -> tuple[str, str]:
    """(dotted field path, message with a fix) for one pydantic error."""
    path = ".".join(str(part) for part in error["loc"])
    last = str(error["loc"][-1]) if error["loc"] else ""
    if error["type"] == "extra_forbidden" and ("password" in last or last in {"pin", "secret"}):
        section = path.rsplit(".", 1)[0]
        return path, (
            "a password must not be written in the configuration file — put it in an environment variable and "
            f"give that variable's name in {section}.p12_password_env (or key_password_env), "
            'e.g. p12_password_env = "DMP_TLS_P12_PASSWORD"'
        )
    if error["type"] == "extra_forbidden":
        return path, "unknown setting (check its spelling against the DmpConfig documentation)"
    if error["type"] == "missing":
        return path, f"missing — {_HINTS.get(path, 'this setting is required')}"
    context = error.get("ctx") or {}
    message = str(context["error"]) if "error" in context else error["msg"]
    return path, message.removeprefix(f"{path}: ")


def _config_error(exc: ValidationError) -> DmpConfigError:
    described = [_describe(error) for error in exc.errors(include_url=False)]
    text = "; ".join(f"{path}: {message}" if path else message for path, message in described)
    return DmpConfigError(f"invalid configuration: {text}", field=described[0][0] or None)
