"""Email addresses: which values are taken as one, and when two are the same address.

The rules and their reasons are in docs/decisions/email-uniqueness.md and validation.md. In
short: an address has no invisible characters and a domain of non-empty labels; two addresses
are the same when their local parts differ only in case (lower-casing, not case folding: `ß` is
not `ss`, the Kelvin sign is not `k`) and their domains name the same internet domain (NFKC,
lower case, non-ASCII labels in their IDNA `xn--` form). For plain ASCII that is lower-casing
the whole address, as openscout always did.
"""

from __future__ import annotations

import unicodedata

#: Unicode categories refused anywhere in an address: controls (Cc) and format characters
#: (Cf: zero-width spaces and joiners, the soft hyphen, direction marks, the byte order mark).
#: They are invisible, so two addresses that differ only by one look the same.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf"})


def is_address(text: str) -> bool:
    """Enough of an address to be kept as one (deliberately loose, v1 documents no syntax):
    one `@` with something before it, a domain of dot-separated non-empty labels after it
    (so neither `ann@example` nor `ann@example.com.`), no white space and nothing invisible."""
    local, at, domain = text.rpartition("@")
    labels = domain.split(".")
    return (
        bool(at and local)
        and "@" not in local
        and len(labels) > 1
        and all(labels)
        and not any(c.isspace() or unicodedata.category(c) in INVISIBLE_CATEGORIES for c in text)
    )


def key(address: str) -> str:
    """What two addresses share exactly when they are the same address. Total: any text has a
    key (stored values from before a rule tightened, search terms that are not addresses)."""
    if address.isascii():
        return address.lower()
    local, at, domain = address.rpartition("@")
    if not at:
        return _local_key(address)
    return f"{_local_key(local)}@{_domain_key(domain)}"


def _local_key(local: str) -> str:
    """The local part in lower case, except for characters that lower-case into another
    letter than their own small form: signs that Unicode only decomposes to a letter (Kelvin
    sign, Ohm sign, Ångström sign) and the dotted capital I, which stay as they are."""
    pieces: list[str] = []
    start = 0
    for at, char in enumerate(local):
        if _is_sign(char):
            pieces += [local[start:at].lower(), char]
            start = at + 1
    pieces.append(local[start:].lower())
    return "".join(pieces)


def _is_sign(char: str) -> bool:
    lower = char.lower()
    return lower != char and (len(lower) != 1 or unicodedata.normalize("NFC", char) != char)


def _domain_key(domain: str) -> str:
    """The domain as DNS would ask for it: NFKC, lower case, and each label that is not ASCII
    in its IDNA form (`straße.de` is `xn--strae-oqa.de`, which is not `strasse.de`)."""
    labels = unicodedata.normalize("NFKC", domain).lower().split(".")
    return ".".join(
        label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
        for label in labels
    )
