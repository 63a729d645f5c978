"""Which codes of an ultrasound machine's report mean what CervixWatch reads: the standard
codes (LOINC, every device) and a device's own private or local codes, from data
(`knowledge/devices/codes.yaml` and a site's file of the same shape, docs/integrations.md).

A code is matched by (coding scheme, code), never by its display text
(shared/clinical/standards.md, section 0). Both readers use one table: a DICOM SR names its
concepts as (CodeValue, CodingSchemeDesignator), an HL7 v2 OBX-3 as code^text^scheme.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

__all__ = ["MEANINGS", "Device", "DeviceCodes", "Meaning", "device_codes_from_data"]

#: What a code can mean to CervixWatch.
Meaning = Literal["cervix-length", "edd", "fetus-count", "gestational-age"]
MEANINGS: Final = frozenset({"cervix-length", "edd", "fetus-count", "gestational-age"})

#: (coding scheme, code), as sent: `("LN", "11961-0")`.
SchemeCode = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Device:
    """One device's (or sending application's) own codes, and how it names its women: the
    identifier system of a Patient ID it sends without an issuer (None: such an ID matches no
    one and the report waits for review)."""

    name: str
    manufacturer: str | None = None
    model: str | None = None
    application: str | None = None
    patient_id_system: str | None = None
    codes: Mapping[SchemeCode, Meaning] = field(default_factory=dict)

    def matches(
        self, *, manufacturer: str | None, model: str | None, application: str | None
    ) -> bool:
        """An SR names its device by manufacturer and model, an HL7 message by its sending
        application (MSH-3); an entry matches when every part it gives agrees."""
        given = [
            (self.manufacturer, manufacturer),
            (self.model, model),
            (self.application, application),
        ]
        wanted = [(want, got) for want, got in given if want is not None]
        return bool(wanted) and all(
            got is not None and want.casefold() == got.strip().casefold() for want, got in wanted
        )


@dataclass(frozen=True, slots=True)
class DeviceCodes:
    """The standard codes, the codes known but not used, the devices, and the identifier
    systems of patient-ID issuers (IssuerOfPatientID, PID-3.4) that are not already URIs."""

    standard: Mapping[SchemeCode, Meaning]
    known_not_used: frozenset[SchemeCode] = frozenset()
    devices: tuple[Device, ...] = ()
    issuers: Mapping[str, str] = field(default_factory=dict)

    def device(
        self,
        *,
        manufacturer: str | None = None,
        model: str | None = None,
        application: str | None = None,
    ) -> Device | None:
        return next(
            (
                d
                for d in self.devices
                if d.matches(manufacturer=manufacturer, model=model, application=application)
            ),
            None,
        )

    def meaning(
        self, scheme: str | None, code: str | None, device: Device | None
    ) -> Meaning | None:
        """What (scheme, code) means: the standard's meaning, else the device's."""
        if not code:
            return None
        key = ((scheme or "").strip(), code.strip())
        found = self.standard.get(key)
        if found is None and device is not None:
            found = device.codes.get(key)
        return found

    def is_known(self, scheme: str | None, code: str | None, device: Device | None) -> bool:
        key = ((scheme or "").strip(), (code or "").strip())
        return self.meaning(*key, device) is not None or key in self.known_not_used

    def merged(self, other: DeviceCodes) -> DeviceCodes:
        """These codes with a site's file added: its devices and issuers (its standard codes
        may add to, never replace, the shipped ones)."""
        return DeviceCodes(
            standard={**other.standard, **self.standard},
            known_not_used=self.known_not_used | other.known_not_used,
            devices=(*other.devices, *self.devices),
            issuers={**self.issuers, **other.issuers},
        )


def _code(raw: Mapping[str, Any], where: str) -> SchemeCode:
    scheme, code = raw.get("scheme"), raw.get("code")
    if not isinstance(scheme, str) or not isinstance(code, str) or not scheme or not code:
        raise ValueError(f"{where}: needs a scheme and a code (strings)")
    return scheme.strip(), code.strip()


def _meanings(rows: Iterable[Any], where: str) -> dict[SchemeCode, Meaning]:
    found: dict[SchemeCode, Meaning] = {}
    for i, raw in enumerate(rows):
        at = f"{where}[{i}]"
        if not isinstance(raw, Mapping):
            raise ValueError(f"{at}: expected a mapping")
        means = raw.get("means")
        if means not in MEANINGS:
            raise ValueError(f"{at}.means: {means!r} is not one of {sorted(MEANINGS)}")
        if not isinstance(raw.get("source"), str) or not raw["source"].strip():
            raise ValueError(f"{at}.source: every code says where it was taken from")
        found[_code(raw, at)] = cast(Meaning, means)
    return found


def _optional_text(raw: Mapping[str, Any], key: str, where: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}.{key}: expected text")
    return value


def device_codes_from_data(data: Mapping[str, Any]) -> DeviceCodes:
    """Build the table from a parsed file; a malformed entry raises ValueError naming it."""
    devices = []
    for i, raw in enumerate(data.get("devices") or ()):
        at = f"devices[{i}]"
        if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
            raise ValueError(f"{at}: expected a mapping with a name")
        device = Device(
            name=raw["name"],
            manufacturer=_optional_text(raw, "manufacturer", at),
            model=_optional_text(raw, "model", at),
            application=_optional_text(raw, "application", at),
            patient_id_system=_optional_text(raw, "patient_id_system", at),
            codes=_meanings(raw.get("codes") or (), f"{at}.codes"),
        )
        if device.manufacturer is None and device.application is None:
            raise ValueError(f"{at}: name its manufacturer (SR) or application (HL7 v2)")
        devices.append(device)
    issuers = data.get("issuers") or {}
    if not isinstance(issuers, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in issuers.items()
    ):
        raise ValueError("issuers: expected a mapping of issuer to identifier system")
    return DeviceCodes(
        standard=_meanings(data.get("standard") or (), "standard"),
        known_not_used=frozenset(
            _code(raw, f"known_not_used[{i}]")
            for i, raw in enumerate(data.get("known_not_used") or ())
        ),
        devices=tuple(devices),
        issuers=dict(issuers),
    )
