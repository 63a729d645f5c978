"""The NHS number (England, Wales, Isle of Man): ten digits, the last a modulus-11 check digit
(NHS Data Dictionary, "NHS Number"); its FHIR identifier system is
https://fhir.nhs.uk/Id/nhs-number. Spaces and dashes as people write it ("943 476 5919")
are dropped."""

from __future__ import annotations

from typing import Final

from cervixwatch.app.errors import InvalidField

__all__ = ["NHS_NUMBER_SYSTEM", "checked_nhs_number"]

NHS_NUMBER_SYSTEM: Final = "https://fhir.nhs.uk/Id/nhs-number"


def _check_digit(first_nine: str) -> int | None:
    """The check digit of the first nine digits (None: no valid number has them, remainder
    giving 10)."""
    total = sum(int(d) * (10 - i) for i, d in enumerate(first_nine))
    digit = 11 - total % 11
    if digit == 11:
        return 0
    return None if digit == 10 else digit


def checked_nhs_number(field: str, text: str) -> str:
    """The ten digits of `text`, or `InvalidField` saying what is wrong with it."""
    digits = "".join(ch for ch in text if ch not in " -")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 10):
        raise InvalidField(field, "an NHS number is 10 digits, e.g. 943 476 5919", text)
    if _check_digit(digits[:9]) != int(digits[9]):
        raise InvalidField(
            field, f"{digits} is not an NHS number: its check digit does not match", text
        )
    return digits
