"""Configurable fault injection, so that integrators can test their error handling against the mock.

Per service: a delay, a bare HTTP error (no SOAP), a malformed XML answer, or a given DMP fault;
optionally only for the next ``count`` requests. Loaded from a TOML file (``dmp mock serve --faults``)
or set from Python (tests)::

    [registry]
    delay_seconds = 2.5
    [repository]
    dmp_fault = { subcode = "DMPInvalidCertificate", reason = "Le certificat ayant signé le VIHF est invalide" }
    count = 3
"""

from __future__ import annotations

import math
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal, get_args

from dmpclient.errors import DmpConfigError
from dmpclient.transactions.spec import Service

__all__ = ["MAX_DELAY_SECONDS", "FaultCode", "FaultInjection", "FaultInjector"]

#: SOAP 1.2 fault codes an injected DMP fault may carry.
FaultCode = Literal["Sender", "Receiver"]
#: Longest injectable delay: enough to trip any client timeout, short enough not to wedge the server.
MAX_DELAY_SECONDS: Final = 600.0


@dataclass(frozen=True, slots=True)
class FaultInjection:
    """What to do to the requests of one service instead of (or before) answering them.

    Raises:
        DmpConfigError: a value out of range (checked however the injection is built).
    """

    delay_seconds: float = 0.0
    http_status: int | None = None
    malformed_xml: bool = False
    dmp_subcode: str | None = None
    dmp_reason: str = "Erreur simulée par le mock DMP"
    dmp_code: FaultCode = "Sender"
    count: int | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.delay_seconds) or not 0 <= self.delay_seconds <= MAX_DELAY_SECONDS:
            raise DmpConfigError(
                f"delay_seconds must be between 0 and {MAX_DELAY_SECONDS:g} seconds, not {self.delay_seconds}",
                field="delay_seconds",
            )
        if self.http_status is not None and not 400 <= self.http_status <= 599:
            raise DmpConfigError(
                f"http_status must be an HTTP error status (400-599), not {self.http_status}: "
                "a success or redirect status would not simulate a failure",
                field="http_status",
            )
        if self.dmp_code not in get_args(FaultCode):
            raise DmpConfigError(
                f"dmp_code must be one of {list(get_args(FaultCode))}, not {self.dmp_code!r}", field="dmp_code"
            )

    @classmethod
    def from_mapping(cls, service: str, data: object) -> FaultInjection:
        """Build from a TOML table; unknown keys and ill-typed values are refused, naming the valid ones."""
        if not isinstance(data, dict):
            raise DmpConfigError(
                f"faults.{service}: expected a [{service}] table of settings", field=f"faults.{service}"
            )
        data = dict(data)
        fault = data.pop("dmp_fault", {})
        if not isinstance(fault, dict):
            raise DmpConfigError(
                f"faults.{service}.dmp_fault: expected a table such as "
                '{ subcode = "DMPInvalidCertificate", reason = "…" }',
                field=f"faults.{service}.dmp_fault",
            )
        data.update({f"dmp_{k}": v for k, v in fault.items()})
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise DmpConfigError(
                f"faults.{service}: unknown keys {sorted(unknown)}; valid keys are {sorted(known)}",
                field=f"faults.{service}",
            )
        wrong = sorted(name for name, value in data.items() if not _has_type(value, _TYPES[name]))
        if wrong:
            expected = ", ".join(f"{name}: {_TYPES[name].__name__}" for name in wrong)
            raise DmpConfigError(f"faults.{service}: wrong value type ({expected} expected)", field=f"faults.{service}")
        try:
            return cls(**data)
        except DmpConfigError as exc:
            raise DmpConfigError(f"faults.{service}: {exc.message}", field=f"faults.{service}.{exc.field}") from None


#: Expected TOML type of each setting (integers are accepted for floats).
_TYPES: Final[dict[str, type]] = {
    "delay_seconds": float,
    "http_status": int,
    "malformed_xml": bool,
    "dmp_subcode": str,
    "dmp_reason": str,
    "dmp_code": str,
    "count": int,
}


def _has_type(value: object, expected: type) -> bool:
    if isinstance(value, bool) or expected is bool:  # bool is an int subclass: match it exactly
        return isinstance(value, bool) and expected is bool
    return isinstance(value, expected) or (expected is float and isinstance(value, int))


class FaultInjector:
    """Thread-safe registry of the injections in force, consumed per request."""

    def __init__(self, injections: dict[str, FaultInjection] | None = None) -> None:
        self._lock = threading.Lock()
        self._injections: dict[str, FaultInjection] = {}
        self._left: dict[str, int | None] = {}
        for service, injection in (injections or {}).items():
            self.set(service, injection)

    @classmethod
    def from_toml(cls, path: Path) -> FaultInjector:
        """Load ``[service]`` tables from a TOML file."""
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise DmpConfigError(f"cannot read the fault-injection file {path}: {exc}", field="faults") from None
        return cls({service: FaultInjection.from_mapping(service, table) for service, table in data.items()})

    def set(self, service: str, injection: FaultInjection) -> None:
        """Inject ``injection`` on ``service`` (replacing any previous one)."""
        if service not in Service.__members__.values():
            raise DmpConfigError(f"faults: unknown service {service!r}; use one of {sorted(Service)}")
        with self._lock:
            self._injections[service] = injection
            self._left[service] = injection.count

    def clear(self, service: str | None = None) -> None:
        """Remove the injection of one service, or all."""
        with self._lock:
            for name in [service] if service else list(self._injections):
                self._injections.pop(name, None)
                self._left.pop(name, None)

    def take(self, service: str) -> FaultInjection | None:
        """The injection to apply to this request of ``service`` (decrements a bounded count)."""
        with self._lock:
            injection = self._injections.get(service)
            if injection is None:
                return None
            left = self._left.get(service)
            if left is not None:
                if left <= 0:
                    return None
                self._left[service] = left - 1
            return injection
