"""The text that identifies a woman (identifiers, names), checked and normalised the same way on
every path in: the JSON API, the forms and the FHIR reader (issue 12, F9).

Two hospital numbers that print alike must be alike: "DEMO000001" and "DEMO\u200b000001" (a
zero-width space inside) showed as the same woman on the worklist. So text is normalised to
Unicode NFC (a composed "é" and "e" + combining accent are one name), and characters that do
not print, or that reorder what prints (bidi controls, which can make "0001" show as "1000"),
are refused with a message naming the character. Identifiers refuse every format character;
names keep the zero-width joiner and non-joiner, which Persian and Indic scripts need to spell
a name correctly, and refuse the rest.
"""

from __future__ import annotations

import unicodedata
from typing import Final

#: Zero-width non-joiner and joiner: part of correct spelling in several scripts.
_JOINERS: Final = frozenset("\u200c\u200d")


def identifier_text(value: str) -> str:
    """An identifier's value (a hospital number), NFC, with no control, format (zero-width,
    bidi) or lone surrogate character; raises ValueError naming the first such."""
    return _checked(value, allowed=frozenset())


def name_text(value: str) -> str:
    """A name or a free-text label, NFC, with no control, lone surrogate or format character
    other than the joiners; raises ValueError naming the first such."""
    return _checked(value, allowed=_JOINERS)


def _checked(value: str, allowed: frozenset[str]) -> str:
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            raise ValueError(f"control character U+{ord(char):04X} is not allowed")
        if category == "Cs":
            raise ValueError(f"lone surrogate U+{ord(char):04X} is not text")
        if category == "Cf" and char not in allowed:
            # Every format (Cf) character has a name in the Unicode database; the default is
            # a guard for a database that lacks one, which no test can make.
            name = unicodedata.name(char, "a format character")  # pragma: no mutate
            raise ValueError(
                f"invisible or direction-changing character U+{ord(char):04X} ({name.lower()})"
                " is not allowed"
            )
    return unicodedata.normalize("NFC", value)
