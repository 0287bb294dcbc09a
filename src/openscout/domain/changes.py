"""The update rules: how a patch changes a customer (spec §10). Pure functions, no I/O.

A patch says which of the customer's own fields change, what happens to the address, and a list
of instructions per entry collection: add an entry, update an entry by id, remove an entry by
id. Everything a patch does not mention stays as it was. The rules are API-version neutral; the
v1 wire format is turned into a patch by `openscout.contract.v1.decode`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from openscout.domain.customers import (
    ADDRESS_FIELDS,
    REQUIRED_ADDRESS_FIELDS,
    Address,
    Collection,
    Customer,
    Entry,
)
from openscout.domain.errors import Invalid, Problem, Reason

AddressValue = str | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class AddEntry:
    """Create an entry. `label` None means the collection's default for a new entry."""

    value: str
    label: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateEntry:
    """Change the customer's entry `entry_id`; a None `value` or `label` keeps what is there."""

    entry_id: int
    value: str | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveEntry:
    """Remove the customer's entry `entry_id`."""

    entry_id: int


EntryChange = AddEntry | UpdateEntry | RemoveEntry


@dataclass(frozen=True, slots=True)
class SetAddress:
    """Make these values the customer's address, creating it or replacing all its values."""

    values: Mapping[str, AddressValue]


@dataclass(frozen=True, slots=True)
class UpdateAddress:
    """Change the named fields of the customer's address `address_id` (None clears a field)."""

    address_id: int
    values: Mapping[str, AddressValue]


@dataclass(frozen=True, slots=True)
class RemoveAddress:
    """Remove the customer's address `address_id`."""

    address_id: int


AddressChange = SetAddress | UpdateAddress | RemoveAddress


@dataclass(frozen=True, slots=True)
class CustomerPatch:
    """What one create or update request asks for.

    `fields` maps a writable field (see `WRITABLE_FIELDS`) to its new value; None clears it.
    A field that is absent is kept. `problems` are what was wrong with the request itself (as
    its API version reads it); they are reported together with those the rules find, so that
    a client learns everything wrong with a request at once.
    """

    fields: Mapping[str, str | None] = field(default_factory=dict)
    address: AddressChange | None = None
    entries: Mapping[Collection, Sequence[EntryChange]] = field(default_factory=dict)
    problems: Sequence[Problem] = ()


def new_customer(patch: CustomerPatch, now: datetime) -> Customer:
    """The customer that a create request describes; ids stay None for the store to assign."""
    blank = Customer(id=None, created_at=now, modified_at=now)
    return apply_patch(blank, patch, now)


def apply_patch(customer: Customer, patch: CustomerPatch, now: datetime) -> Customer:
    """Apply `patch` to `customer` (spec §10) and return the result.

    Raises `Invalid` with every problem found when any part of the patch cannot be applied; then
    nothing of it applies. When the result equals the customer, the customer itself comes back
    with its `modified_at` untouched; any real change moves `modified_at` to `now`.
    """
    problems: list[Problem] = list(patch.problems)
    address = _apply_address(customer.address, patch.address, now, problems)
    collections = {
        collection.value: apply_entry_changes(
            collection, customer.entries(collection), changes, problems
        )
        for collection, changes in patch.entries.items()
    }
    if problems:
        raise Invalid(problems)
    result = replace(customer, **patch.fields, address=address, **collections)  # type: ignore[arg-type]
    if result == customer:
        return customer
    return replace(result, modified_at=now)


def apply_entry_changes(
    collection: Collection,
    current: Sequence[Entry],
    changes: Sequence[EntryChange],
    problems: list[Problem],
) -> tuple[Entry, ...]:
    """Apply entry instructions to one collection, in the order given (spec §10.3).

    - AddEntry creates an entry, unless the collection already has one with the same value
      (emails ignore case): then it updates that entry instead of adding a duplicate.
    - UpdateEntry and RemoveEntry must name an entry this customer had before the request;
      any other id is a problem (it may be another customer's, and that one must stay untouched).
    - A removal wins over an update of the same entry, whatever their order.
    - Entries keep their order (creation order); new entries come last.
    Removals apply first, then updates, then additions, each kind in the order given: so the
    result never depends on how a client interleaved them, and an added value is compared with
    what the other instructions leave (re-adding a removed or renamed value keeps it).
    Problems are appended to `problems`; the returned tuple is meaningful only when none were.
    The work is linear in the number of entries and changes.
    """
    # Entries are found by id, and added values by key, through indexes kept beside the list
    # (a scan per change made a 5,000-entry request cost seconds).
    slots: list[Entry] = list(current)
    position = {entry.id: at for at, entry in enumerate(slots)}
    twins: dict[str, int] | None = None  # key of a value → where the first entry with it is
    removed: set[int] = set()
    for change in sorted(changes, key=_kind):
        match change:
            case RemoveEntry(entry_id):
                if entry_id not in position:
                    # Reported as the client wrote it: a removal is a negative id.
                    problems.append(
                        Problem((collection.value, "id"), -entry_id, Reason.UNKNOWN_ENTRY)
                    )
                    continue
                removed.add(entry_id)
            case UpdateEntry(entry_id, value, label):
                at = position.get(entry_id)
                if at is None:
                    problems.append(
                        Problem((collection.value, "id"), entry_id, Reason.UNKNOWN_ENTRY)
                    )
                    continue
                if entry_id in removed:
                    continue
                slots[at] = _updated(slots[at], value, label)
            case AddEntry(value, label):
                if twins is None:  # the first addition: removals and updates are all done
                    slots = [entry for entry in slots if entry.id not in removed]
                    twins = {}
                    for at, entry in enumerate(slots):
                        twins.setdefault(collection.key(entry.value), at)
                key = collection.key(value)
                at = twins.get(key)
                if at is None:
                    twins[key] = len(slots)
                    slots.append(Entry(None, value, label or collection.default_label))
                else:  # the same value (for emails: the same address): update that entry
                    slots[at] = _updated(slots[at], value, label)
    entries = [entry for entry in slots if entry.id not in removed]
    seen: set[str] = set()
    for entry in entries:
        key = collection.key(entry.value)
        if key in seen:
            problems.append(
                Problem((collection.value, "value"), entry.value, Reason.DUPLICATE_ENTRY)
            )
        seen.add(key)
    return tuple(entries)


def _kind(change: EntryChange) -> int:
    """The rank of a change in `apply_entry_changes`: removals, then updates, then additions."""
    match change:
        case RemoveEntry():
            return 0
        case UpdateEntry():
            return 1
        case AddEntry():
            return 2


def _updated(entry: Entry, value: str | None, label: str | None) -> Entry:
    return replace(
        entry,
        value=entry.value if value is None else value,
        label=entry.label if label is None else label,
    )


def _apply_address(
    current: Address | None,
    change: AddressChange | None,
    now: datetime,
    problems: list[Problem],
) -> Address | None:
    """Apply an address change (spec §10.5); a written address must end up complete."""
    match change:
        case None:
            return current
        case RemoveAddress(address_id):
            if current is None or current.id != address_id:
                problems.append(Problem(("address", "id"), -address_id, Reason.UNKNOWN_ENTRY))
                return current
            return None
        case UpdateAddress(address_id, values):
            if current is None or current.id != address_id:
                problems.append(Problem(("address", "id"), address_id, Reason.UNKNOWN_ENTRY))
                return current
            wanted = {name: values.get(name, getattr(current, name)) for name in ADDRESS_FIELDS}
        case SetAddress(values):
            wanted = {name: values.get(name) for name in ADDRESS_FIELDS}
    wanted["lines"] = wanted["lines"] or ()
    missing = [name for name in REQUIRED_ADDRESS_FIELDS if not wanted[name]]
    problems.extend(Problem(("address", name), None, Reason.REQUIRED) for name in missing)
    if current is not None and all(wanted[n] == getattr(current, n) for n in ADDRESS_FIELDS):
        return current
    if current is None:
        return Address(id=None, created_at=now, modified_at=now, **wanted)
    return replace(current, modified_at=now, **wanted)
