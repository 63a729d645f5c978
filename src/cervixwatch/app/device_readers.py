"""The readers of device messages with the codes they match (`interop.device_codes`): the
shipped standard codes (knowledge/devices/codes.yaml) and the site's own file (the setting
`device_codes_file`: its devices' private codes and its patient-ID issuers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Final

import yaml

from cervixwatch.interop.device_codes import DeviceCodes, device_codes_from_data
from cervixwatch.interop.device_result import Channel, DeviceResult
from cervixwatch.interop.dicom_sr import read_sr_bytes
from cervixwatch.interop.hl7_oru import read_oru_bytes

__all__ = ["SHIPPED_CODES", "DeviceReaders", "load_device_codes"]

SHIPPED_CODES: Final = Path(__file__).parents[1] / "knowledge" / "devices" / "codes.yaml"


def _load(path: Path) -> DeviceCodes:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, Mapping):
            raise ValueError("expected a mapping at the top")
        return device_codes_from_data(data)
    except (OSError, yaml.YAMLError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None


@cache
def load_device_codes(site_file: Path | None = None) -> DeviceCodes:
    """The shipped codes, with the site's file added when given; a malformed file raises
    ValueError naming it and the entry."""
    shipped = _load(SHIPPED_CODES)
    return shipped if site_file is None else shipped.merged(_load(site_file))


class DeviceReaders:
    """`read(channel, payload)`: a message of either channel as a `DeviceResult` (raises
    `IntakeError` naming the element)."""

    def __init__(self, codes: DeviceCodes) -> None:
        self.codes = codes
        self._readers: dict[Channel, Callable[[bytes, DeviceCodes], DeviceResult]] = {
            "dicom-sr": read_sr_bytes,
            "hl7v2": read_oru_bytes,
        }

    def read(self, channel: Channel, payload: bytes) -> DeviceResult:
        return self._readers[channel](payload, self.codes)
