"""Customer properties: the account's custom fields and how a customer's values of them change
(Help Scout v2's "Update Customer Properties", spec helpscout-v2-customers.md §4). Pure.

A property must be defined for the account before a customer can have a value of it; the
definition says what kind of value it takes. Values are kept as text: a number as its digits,
a date as `YYYY-MM-DD`, a dropdown as the chosen option's id (its label is the value's `text`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from openscout.domain.customers import Customer, Property
from openscout.domain.errors import Invalid, Problem, Reason

#: Longest text (and URL) a property holds; and a property's name and option labels.
MAX_TEXT = 255
#: Longest slug; a slug is lowercase ASCII letters, digits, `-` and `_`
#: (docs/decisions/v2-property-definitions.md).
MAX_SLUG = 100
_SLUG = re.compile(r"[a-z0-9_-]+")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


class PropertyType(StrEnum):
    """What a property's values are."""

    TEXT = "text"
    NUMBER = "number"
    URL = "url"
    DATE = "date"
    DROPDOWN = "dropdown"


@dataclass(frozen=True, slots=True)
class PropertyDefinition:
    """One custom field of the account; `options` maps a dropdown's option ids to labels."""

    slug: str
    name: str
    type: PropertyType
    options: Mapping[int, str] = field(default_factory=dict)


def new_definition(
    slug: str, name: str, type: str, options: Sequence[str] = ()
) -> PropertyDefinition:
    """The definition of a new property as its maker (the command line, the control API)
    describes it: the slug and name without surrounding spaces, the type by its name, and a
    dropdown's option labels, which get the ids 1, 2, … in the order given. Raises `Invalid`
    with every problem (`check_definition`)."""
    kind = next((known for known in PropertyType if known.value == type), None)
    labels = {at: label.strip() for at, label in enumerate(options, start=1)}
    made = PropertyDefinition(slug.strip(), name.strip(), kind or PropertyType.TEXT, labels)
    problems = [] if kind else [Problem(("type",), type, Reason.INVALID)]
    problems += definition_problems(made, check_options=kind is not None)
    if problems:
        raise Invalid(problems)
    return made


def definition_problems(
    definition: PropertyDefinition, *, check_options: bool = True
) -> list[Problem]:
    """What is wrong with a definition (docs/decisions/v2-property-definitions.md): a slug
    must be 1 to 100 lowercase ASCII letters, digits, `-` and `_`; a name 1 to 255 characters;
    a dropdown must have options and other types none; option ids are positive, and labels 1
    to 255 characters that differ ignoring case."""
    problems: list[Problem] = []
    slug = definition.slug
    if not slug:
        problems.append(Problem(("slug",), slug, Reason.REQUIRED))
    elif len(slug) > MAX_SLUG:
        problems.append(Problem(("slug",), slug, Reason.TOO_LONG))
    elif not _SLUG.fullmatch(slug):
        problems.append(Problem(("slug",), slug, Reason.INVALID))
    problems.extend(_text_problems(("name",), definition.name))
    if not check_options:
        return problems
    options = definition.options
    if definition.type is PropertyType.DROPDOWN and not options:
        problems.append(Problem(("options",), None, Reason.REQUIRED))
    elif definition.type is not PropertyType.DROPDOWN and options:
        problems.append(Problem(("options",), list(options.values()), Reason.INVALID))
    seen: set[str] = set()
    for option_id, label in options.items():
        path = ("options", str(option_id))
        found = _text_problems(path, label)
        if isinstance(option_id, bool) or not isinstance(option_id, int) or option_id < 1:
            found.append(Problem(path, option_id, Reason.INVALID))
        elif not found and label.casefold() in seen:
            found.append(Problem(path, label, Reason.DUPLICATE_ENTRY))
        problems.extend(found)
        seen.add(label.casefold())
    return problems


def _text_problems(path: tuple[str, ...], text: str) -> list[Problem]:
    if not text or not text.strip():
        return [Problem(path, text, Reason.REQUIRED)]
    if len(text) > MAX_TEXT:
        return [Problem(path, text, Reason.TOO_LONG)]
    if "\x00" in text:
        return [Problem(path, text, Reason.INVALID)]
    return []


@dataclass(frozen=True, slots=True)
class SetProperty:
    """Give the customer this value of property `slug`, as the client sent it."""

    slug: str
    value: str | int


@dataclass(frozen=True, slots=True)
class RemoveProperty:
    """Remove the customer's value of property `slug` (nothing happens when it has none)."""

    slug: str


PropertyEdit = SetProperty | RemoveProperty


@dataclass(frozen=True, slots=True)
class PropertyEdits:
    """What one request asks of a customer's properties, in order; `problems` are the
    request's own."""

    edits: Sequence[PropertyEdit] = ()
    problems: Sequence[Problem] = ()


def apply_property_edits(
    customer: Customer,
    request: PropertyEdits,
    definitions: Mapping[str, PropertyDefinition],
    now: datetime,
) -> Customer:
    """Apply the edits in order and return the customer.

    Every slug must be defined in `definitions`, and every value must be one its type takes:
    a 64-bit whole number, text up to 255 characters, an http(s) URL, a `YYYY-MM-DD` date, or
    a dropdown option named by id or label (ignoring case). A blank value removes the
    customer's value. Raises `Invalid` with every problem; then nothing applies. A real change
    moves `modified_at` to `now`.
    """
    problems = list(request.problems)
    values = {item.slug: item for item in customer.properties}
    for edit in request.edits:
        definition = definitions.get(edit.slug)
        if definition is None:
            problems.append(Problem(("properties", edit.slug), edit.slug, Reason.UNKNOWN_ENTRY))
            continue
        match edit:
            case RemoveProperty(slug):
                values.pop(slug, None)
            case SetProperty(slug, raw):
                if isinstance(raw, str) and not raw.strip():
                    values.pop(slug, None)
                    continue
                found = _value(definition, raw)
                if found is None:
                    problems.append(Problem(("properties", slug), raw, Reason.INVALID))
                    continue
                value, text = found
                values[slug] = Property(slug, definition.name, definition.type, value, text)
    if problems:
        raise Invalid(problems)
    result = tuple(values.values())
    if result == customer.properties:
        return customer
    return replace(customer, properties=result, modified_at=now)


def _value(definition: PropertyDefinition, raw: str | int) -> tuple[str, str | None] | None:
    """The kept value and text of `raw`, or None when the property's type refuses it."""
    match definition.type:
        case PropertyType.NUMBER:
            number = _whole_number(raw)
            return None if number is None else (str(number), None)
        case PropertyType.DROPDOWN:
            return _option(definition.options, raw)
    if not isinstance(raw, str) or "\x00" in raw or len(raw) > MAX_TEXT:
        return None
    match definition.type:
        case PropertyType.URL:
            parts = urlsplit(raw.strip())
            if parts.scheme not in ("http", "https") or not parts.netloc:
                return None
            return raw.strip(), None
        case PropertyType.DATE:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
                return None
            try:
                return date.fromisoformat(raw).isoformat(), None
            except ValueError:
                return None
    return raw, None


def _whole_number(raw: str | int) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str):
        text = raw.strip()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
            return None
        raw = int(text)
    return raw if _LONG_MIN <= raw <= _LONG_MAX else None


def _option(options: Mapping[int, str], raw: str | int) -> tuple[str, str | None] | None:
    """A dropdown option named by its id, or by its label ignoring case."""
    option_id = _whole_number(raw)
    if option_id is not None and option_id in options:
        return str(option_id), options[option_id]
    if isinstance(raw, str):
        wanted = raw.strip().casefold()
        for known_id, label in options.items():
            if label.casefold() == wanted:
                return str(known_id), label
    return None
