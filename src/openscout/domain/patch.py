"""Overwrites and edits by path: the update rules of an API that replaces a customer's own fields
wholesale or changes one field or one entry at a time (Help Scout v2's PUT and PATCH, spec
helpscout-v2-customers.md §4, §8). Pure functions over `changes.apply_patch`, no I/O.

- An overwrite sets every own field of the customer: one left out becomes null (a gender left
  out becomes `unknown`, a customer's gender is never null). Entries and the address stay.
- Edits apply one after another, each to the result of those before it (as JSON Patch does):
  an edit may name an entry only while the customer has it. Each entry edit follows the entry
  rules of `changes.apply_entry_changes`; edits of the address are gathered and the address
  they leave must be complete, as any written address must.
- All or nothing: every problem of every edit is reported together, and then none applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from openscout.domain.changes import (
    AddressValue,
    CustomerPatch,
    EntryChange,
    SetAddress,
    apply_patch,
)
from openscout.domain.customers import ADDRESS_FIELDS, WRITABLE_FIELDS, Collection, Customer
from openscout.domain.errors import Invalid, Problem, Reason

#: The customer's own fields that an overwrite sets: the writable ones and the profile that
#: v1 only reads (location, photo, gender, age).
OWN_FIELDS = (*WRITABLE_FIELDS, "location", "photo_url", "photo_type", "gender", "age")

#: What a field that must never be null becomes when it is cleared.
_CLEARED: Mapping[str, str] = {"gender": "unknown"}


@dataclass(frozen=True, slots=True)
class SetField:
    """Give the own field `name` (one of `OWN_FIELDS`) this value; None clears it."""

    name: str
    value: str | None


@dataclass(frozen=True, slots=True)
class SetAddressField:
    """Give one field of the address (one of `ADDRESS_FIELDS`) this value; None clears it.
    On a customer without an address, this starts one."""

    name: str
    value: AddressValue


@dataclass(frozen=True, slots=True)
class DropAddress:
    """Remove the customer's address, whatever its id."""


@dataclass(frozen=True, slots=True)
class EditEntry:
    """Add, update or remove one entry of one collection."""

    collection: Collection
    change: EntryChange


Edit = SetField | SetAddressField | SetAddress | DropAddress | EditEntry


@dataclass(frozen=True, slots=True)
class CustomerEdits:
    """What one edit request asks for, in order; `problems` are those of the request itself."""

    edits: Sequence[Edit] = ()
    problems: Sequence[Problem] = ()


def overwrite(fields: Mapping[str, str | None], problems: Sequence[Problem] = ()) -> CustomerPatch:
    """The patch that overwrites every own field with `fields`, a field absent from it with
    null (spec v2 §4 "Overwrite Customer", §8a.9); entries and the address are not touched."""
    return CustomerPatch(
        fields={name: _value(name, fields.get(name)) for name in OWN_FIELDS},
        problems=tuple(problems),
    )


def apply_edits(customer: Customer, request: CustomerEdits, now: datetime) -> Customer:
    """Apply the edits of `request` to `customer`, in order, and return the result.

    Raises `Invalid` with every problem found (the request's own ones first) when any edit
    cannot be applied; then none applies. When the result equals the customer, the customer
    itself comes back with its `modified_at` untouched.
    """
    problems: list[Problem] = list(request.problems)
    result = customer
    address = _AddressDraft(customer)
    for edit in request.edits:
        match edit:
            case SetField(name, value):
                step = CustomerPatch(fields={name: _value(name, value)})
            case EditEntry(collection, change):
                step = CustomerPatch(entries={collection: (change,)})
            case _:
                address.edit(edit, problems)
                continue
        try:
            result = apply_patch(result, step, now)
        except Invalid as invalid:
            problems.extend(invalid.problems)
    if address.is_dropped and result.address is not None:
        result = replace(result, address=None, modified_at=now)
    elif address.values is not None and address.touched:
        try:
            result = apply_patch(result, CustomerPatch(address=SetAddress(address.values)), now)
        except Invalid as invalid:
            problems.extend(invalid.problems)
    if problems:
        raise Invalid(problems)
    if replace(result, modified_at=customer.modified_at) == customer:
        return customer  # edits that undo each other change nothing
    return result


def _value(name: str, value: str | None) -> str | None:
    return _CLEARED.get(name) if value is None else value


class _AddressDraft:
    """The address as the edits so far leave it; written once, after the other edits (a
    `SetAddress` of an existing address keeps its id and replaces its values)."""

    def __init__(self, customer: Customer) -> None:
        self.values: dict[str, AddressValue] | None = (
            None
            if customer.address is None
            else {name: getattr(customer.address, name) for name in ADDRESS_FIELDS}
        )
        self.touched = False

    def edit(
        self, edit: SetAddressField | SetAddress | DropAddress, problems: list[Problem]
    ) -> None:
        match edit:
            case SetAddress(values):
                self.values = {name: values.get(name) for name in ADDRESS_FIELDS}
            case SetAddressField(name, value):
                if self.values is None:
                    self.values = dict.fromkeys(ADDRESS_FIELDS)
                self.values[name] = value
            case DropAddress():
                if self.values is None:
                    problems.append(Problem(("address",), None, Reason.UNKNOWN_ENTRY))
                    return
                self.values = None
        self.touched = True

    @property
    def is_dropped(self) -> bool:
        return self.touched and self.values is None
