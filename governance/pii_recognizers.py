"""Structured identifiers found by pattern and proven by their own checksum or rules.

Every finder here pairs a permissive pattern with a validator (Luhn for cards, ISO 7064
mod 97 for IBANs, the SSA's issued ranges for SSNs, the letter check of a Spanish
DNI/NIE, the ``ipaddress`` parser, ``phonenumbers``' numbering plans, the public suffix
list for e-mail domains), so a number that merely looks like one is not reported. No
model runs here: the log filter uses these finders on every record, and the detector
runs them before (and instead of, when names are off) the NER model.

Numbers share one hard negative: a label that names the number as something else. A
candidate right after "order", "invoice no.", "SKU", "ISBN", "version", "part no.",
"tracking" and the like (:data:`_OTHER_LABEL`) is an order number or a product code
that happens to pass a checksum (one random number in ten passes Luhn), not PII.
"""

from __future__ import annotations

import ipaddress
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import phonenumbers

EMAIL: Final = "EMAIL"
PHONE: Final = "PHONE"
CREDIT_CARD: Final = "CREDIT_CARD"
IBAN: Final = "IBAN"
US_SSN: Final = "US_SSN"
IP_ADDRESS: Final = "IP_ADDRESS"
ES_NIF: Final = "ES_NIF"


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One piece of PII in a text: ``text[start:end]`` is the value."""

    entity_type: str
    start: int
    end: int
    score: float


# --- context: labels just before a number ------------------------------------------------

_OTHER_HEAD = (
    r"orders?|invoices?|inv|rechnung|facture|sku|part|items?|article|product|model|serial"
    r"|sn|ean|upc|gtin|isbn(?:-1[03])?|tracking|ticket|case|claim|policy|po|ref|reference"
    r"|catalog(?:ue)?|version|ver|release|build|firmware|mask|netmask|subnet|confirmation"
    r"|booking|job|batch|lot"
)
_LABEL_FILL = r"(?:\s*(?:no\.?|nr\.?|n°|number|num|#|id|code|is|:|=|_id|-id|\(|\.))*\s*"
_OTHER_LABEL: Final = re.compile(rf"\b(?:{_OTHER_HEAD}){_LABEL_FILL}$", re.IGNORECASE)
_PHONE_LABEL: Final = re.compile(
    r"\b(?:call|phone|tel|telephone|mobile|cell|fax|whatsapp|ring|text|callback|contact"
    r"|handy|telefon|numéro|sms)\b",
    re.IGNORECASE,
)
_SSN_LABEL: Final = re.compile(
    r"\b(?:ssns?|social security|soc\.? ?sec|ss#|taxpayer)", re.IGNORECASE
)
_LOOK_BACK: Final = 40


# The head of an IBAN-shaped string: digits after it are its tail (one that failed its
# checksum), not a card or a phone number of their own.
_IBAN_HEAD: Final = re.compile(r"\b[A-Z]{2}\d{2}(?: [A-Z0-9]{4})* $")


def _labelled_other(text: str, start: int) -> bool:
    before = text[max(0, start - _LOOK_BACK) : start]
    return _OTHER_LABEL.search(before) is not None or _IBAN_HEAD.search(before) is not None


def _labelled(label: re.Pattern[str], text: str, start: int) -> bool:
    return label.search(text[max(0, start - _LOOK_BACK) : start]) is not None


# --- e-mail --------------------------------------------------------------------------------

_EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])"
)


class _PublicSuffixes:
    """The public suffix list shipped inside ``tldextract``, loaded once, never fetched.

    ``tldextract``'s default extractor downloads the list (and hangs where the network
    does); an extractor with no URLs reads its bundled snapshot and writes no cache.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extract: Callable[[str], object] | None = None

    def known(self, domain: str) -> bool:
        with self._lock:
            if self._extract is None:
                import tldextract

                self._extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
        result = self._extract(domain)
        return bool(getattr(result, "suffix", "")) and bool(getattr(result, "domain", ""))


_SUFFIXES: Final = _PublicSuffixes()


def find_emails(text: str) -> Iterator[PiiFinding]:
    for m in _EMAIL.finditer(text):
        if _SUFFIXES.known(m.group().rsplit("@", 1)[1]):
            yield PiiFinding(EMAIL, m.start(), m.end(), 1.0)


# --- phone numbers -------------------------------------------------------------------------

# Numbers written in these countries' national format are found (outside the US only
# with the trunk prefix 0 they are written with); a number with its "+country" prefix
# is found whatever its country.
PHONE_REGIONS: Final = ("US", "GB", "DE", "FR")
# What a phone number looks like written down: an optional +country, an optional
# (area), then groups of digits joined by single spaces, dots or hyphens.
_PHONE_CANDIDATE: Final = re.compile(
    r"(?<![\w+.,/-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,5}\)[ .-]?)?\d{1,14}(?:[ .-]\d{1,10}){0,6}"
    r"(?![\w/-]|[.,]\d)"
)
_BARE_DIGITS: Final = re.compile(r"\d+")
# Shapes a numbering plan may accept that people write for other things: a date
# ("03.15.2024"), an SSN ("056-98-7627"), an IPv4 address, a dotted version with
# one-digit parts.
_NOT_A_PHONE: Final = re.compile(
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2}|^\d{3}-\d{2}-\d{4}$"
    r"|^\d{1,3}(?:\.\d{1,3}){3}$|(?:^|\.)\d(?:\.|$)"
)
_MIN_PHONE_DIGITS: Final = 7
_MAX_PHONE_DIGITS: Final = 15  # E.164


def _phone_valid(candidate: str) -> bool:
    if candidate.startswith("+"):
        regions: tuple[str | None, ...] = (None,)
    elif candidate.lstrip("(").startswith("0"):
        regions = PHONE_REGIONS[1:]
    else:
        regions = PHONE_REGIONS[:1]
    for region in regions:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


_TOKEN: Final = re.compile(r"\+?\(?\d+\)?")


def _windows(candidate: str) -> Iterator[tuple[int, int]]:
    """Runs of whole digit groups in ``candidate`` set apart by spaces, longest first.

    A pattern takes in the numbers around an identifier ("room 12 415-728-3910",
    "4111 1111 1111 1111 2027"); the identifier is one of these runs.
    """
    tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(candidate)]
    for size in range(len(tokens), 0, -1):
        for first in range(len(tokens) - size + 1):
            start, end = tokens[first][0], tokens[first + size - 1][1]
            # Only a space parts two numbers; "978-0-306-40615-7" is one code throughout.
            if candidate[start - 1 : start] in ("", " ") and candidate[end : end + 1] in ("", " "):
                yield start, end


def _phone_in(candidate: str) -> tuple[int, int] | None:
    """Where in ``candidate`` the longest valid phone number lies."""
    for start, end in _windows(candidate):
        number = candidate[start:end]
        digits = sum(c.isdigit() for c in number)
        if (
            _MIN_PHONE_DIGITS <= digits <= _MAX_PHONE_DIGITS
            and not _NOT_A_PHONE.search(number)
            and _phone_valid(number)
        ):
            return start, end
    return None


def find_phones(text: str) -> Iterator[PiiFinding]:
    for m in _PHONE_CANDIDATE.finditer(text):
        if sum(c.isdigit() for c in m.group()) < _MIN_PHONE_DIGITS:
            continue
        window = _phone_in(m.group())
        if window is None:
            continue
        start, end = m.start() + window[0], m.start() + window[1]
        if _labelled_other(text, start):
            continue
        bare = _BARE_DIGITS.fullmatch(text[start:end]) is not None
        if bare and not _labelled(_PHONE_LABEL, text, start):
            continue  # an unformatted digit run is a phone number only when called one
        yield PiiFinding(PHONE, start, end, 0.75 if bare else 0.9)


# --- payment cards -------------------------------------------------------------------------

_CARD: Final = re.compile(r"(?<![\w.,/-])\d{2,6}(?:([ -]?)\d{2,6}(?:\1\d{1,6}){0,4})?(?![\w/-])")
# Issuer prefixes (IIN) of the networks whose cards are 13 to 19 digits: Visa 4,
# Mastercard 51-55 and 2221-2720, Amex 34/37, Discover 6011/644-649/65, JCB 3528-3589,
# Diners 36/38/300-305, Maestro 50/56-69, UnionPay 62.
_IIN: Final = re.compile(r"4|5[0-6]|2(?:2[2-9]|[3-6]|7[01]|720)|3[4-8]|30[0-5]|6")


_MIN_CARD_DIGITS: Final = 13


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_number(digits: str) -> bool:
    return (
        13 <= len(digits) <= 19
        and _IIN.match(digits) is not None
        and len(set(digits)) > 1
        and luhn_valid(digits)
    )


def find_cards(text: str) -> Iterator[PiiFinding]:
    for m in _CARD.finditer(text):
        if len(m.group()) < _MIN_CARD_DIGITS:
            continue
        for start, end in _windows(m.group()):
            if _card_number(re.sub(r"\D", "", m.group()[start:end])):
                if not _labelled_other(text, m.start() + start):
                    yield PiiFinding(CREDIT_CARD, m.start() + start, m.start() + end, 1.0)
                break


# --- IBAN ----------------------------------------------------------------------------------

_IBAN_LENGTH: Final = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip
_IBAN_START: Final = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})\d{2}(?=[ ]?[A-Z0-9])")


def iban_valid(compact: str) -> bool:
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def _iban_end(text: str, start: int, length: int) -> int | None:
    """Where an IBAN of ``length`` characters starting at ``start`` ends (single spaces allowed)."""
    count, i = 0, start
    while count < length and i < len(text):
        ch = text[i]
        if ch == " " and count > 0 and i + 1 < len(text) and text[i + 1].isalnum():
            i += 1
            continue
        if not (ch.isdigit() or "A" <= ch <= "Z"):
            return None
        count += 1
        i += 1
    if count < length or (i < len(text) and text[i].isalnum()):
        return None
    return i


def find_ibans(text: str) -> Iterator[PiiFinding]:
    for m in _IBAN_START.finditer(text):
        length = _IBAN_LENGTH.get(m.group(1))
        if length is None:
            continue
        end = _iban_end(text, m.start(), length)
        if end is not None and iban_valid(text[m.start() : end].replace(" ", "")):
            yield PiiFinding(IBAN, m.start(), end, 1.0)


# --- US Social Security numbers ------------------------------------------------------------

_SSN: Final = re.compile(r"(?<![\w-])(\d{3})([- ]?)(\d{2})\2(\d{4})(?![\w-])")
_SSN_NEVER_ISSUED: Final = frozenset({"123456789", "078051120", "219099999", "987654320"})


def ssn_valid(area: str, group: str, serial: str) -> bool:
    """The SSA never issues area 000, 666 or 900-999, group 00 or serial 0000."""
    digits = area + group + serial
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and len(set(digits)) > 1
        and digits not in _SSN_NEVER_ISSUED
    )


def find_ssns(text: str) -> Iterator[PiiFinding]:
    for m in _SSN.finditer(text):
        area, separator, group, serial = m.groups()
        if not ssn_valid(area, group, serial) or _labelled_other(text, m.start()):
            continue
        if separator != "-" and not _labelled(_SSN_LABEL, text, m.start()):
            continue  # nine digits, or 3-2-4 with spaces, are an SSN only when called one
        yield PiiFinding(US_SSN, m.start(), m.end(), 0.95)


# --- IP addresses --------------------------------------------------------------------------

_IPV4: Final = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
_IPV6: Final = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


def find_ip_addresses(text: str) -> Iterator[PiiFinding]:
    for m in _IPV4.finditer(text):
        try:
            ipaddress.IPv4Address(m.group())
        except ValueError:
            continue
        if not _labelled_other(text, m.start()):
            yield PiiFinding(IP_ADDRESS, m.start(), m.end(), 0.95)
    for m in _IPV6.finditer(text):
        if sum(c.isalnum() for c in m.group()) < 2:
            continue
        try:
            ipaddress.IPv6Address(m.group())
        except ValueError:
            continue
        yield PiiFinding(IP_ADDRESS, m.start(), m.end(), 0.95)


# --- Spanish DNI / NIE ---------------------------------------------------------------------

_NIF: Final = re.compile(r"(?<![\w-])([XYZ]?)(\d{7,8})-?([A-Z])(?![\w-])")
_NIF_LETTERS: Final = "TRWAGMYFPDXBNJZSQVHLCKE"


def nif_valid(prefix: str, digits: str, letter: str) -> bool:
    """A DNI has 8 digits, a NIE X/Y/Z and 7; the letter is the number mod 23."""
    if len(digits) != (7 if prefix else 8):
        return False
    number = int(str("XYZ".index(prefix)) + digits) if prefix else int(digits)
    return _NIF_LETTERS[number % 23] == letter


def find_es_nifs(text: str) -> Iterator[PiiFinding]:
    for m in _NIF.finditer(text):
        if nif_valid(*m.groups()) and not _labelled_other(text, m.start()):
            yield PiiFinding(ES_NIF, m.start(), m.end(), 1.0)


# --- all of them ---------------------------------------------------------------------------

FINDERS: Final[dict[str, Callable[[str], Iterator[PiiFinding]]]] = {
    EMAIL: find_emails,
    PHONE: find_phones,
    CREDIT_CARD: find_cards,
    IBAN: find_ibans,
    US_SSN: find_ssns,
    IP_ADDRESS: find_ip_addresses,
    ES_NIF: find_es_nifs,
}
STRUCTURED_TYPES: Final = tuple(FINDERS)
_MAY_HOLD_ONE: Final = re.compile(r"[\d@]")


def find_structured(text: str, entity_types: Iterable[str] = STRUCTURED_TYPES) -> list[PiiFinding]:
    """Every structured identifier of the asked types in ``text``, non-overlapping, by start."""
    if _MAY_HOLD_ONE.search(text) is None:  # each type holds a digit or an "@"
        return []
    found = [f for t in entity_types if t in FINDERS for f in FINDERS[t](text)]
    return without_overlaps(found)


def without_overlaps(findings: Sequence[PiiFinding]) -> list[PiiFinding]:
    """Keep the surest, then the longest, of findings that overlap; sorted by start."""
    kept: list[PiiFinding] = []
    for f in sorted(findings, key=lambda f: (-f.score, f.start - f.end, f.start)):
        if all(f.end <= k.start or k.end <= f.start for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: f.start)
