"""apply_patch against a small reference model of the entry rules (spec §10.3), on random patches.

The model below is written from the spec, not from the implementation: a collection is a list
of [id, value, label] rows; removals apply first and win, then updates field by field, then
additions, which update the entry already holding the value (emails ignore case) or come last.
Several patches run one after another on the same customer, with ids handed to new entries in
between as a store would.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    EntryChange,
    RemoveEntry,
    UpdateEntry,
    apply_patch,
)
from openscout.domain.customers import WRITABLE_FIELDS, Collection, Customer, Entry
from openscout.domain.errors import Invalid, Problem, Reason

START = datetime(2017, 1, 1, tzinfo=UTC)

#: Few values, so that additions meet existing values and updates collide; emails differ in case.
VALUES: dict[Collection, list[str]] = {
    collection: ["a@x.io", "A@x.IO", "b@x.io", "c@x.io"]
    if collection is Collection.EMAILS
    else ["a", "A", "b", "c"]
    for collection in Collection
}
LABELS = ["home", "work", "other"]
DEFAULT_LABELS = {
    Collection.EMAILS: "work",
    Collection.PHONES: "work",
    Collection.CHATS: "other",
    Collection.SOCIAL_PROFILES: "other",
    Collection.WEBSITES: None,
}
#: Ids that never belong to the customer (another customer's entries, say).
FOREIGN_IDS = [9001, 9002]
REQUEST_PROBLEM = Problem(("first_name",), "x" * 41, Reason.TOO_LONG)

Row = list[object]  # [id, value, label]


def same_value(collection: Collection, one: str, other: str) -> bool:
    if collection is Collection.EMAILS:
        return one.lower() == other.lower()
    return one == other


@dataclass
class Model:
    """The customer as the reference model sees it."""

    fields: dict[str, str | None]
    rows: dict[Collection, list[tuple[int | None, str, str | None]]] = field(default_factory=dict)

    def apply(self, patch: CustomerPatch) -> tuple[Model, list[Problem]]:
        problems = list(patch.problems)
        rows = dict(self.rows)
        for collection, changes in patch.entries.items():
            rows[collection], found = model_collection(collection, self.rows[collection], changes)
            problems.extend(found)
        return Model({**self.fields, **patch.fields}, rows), problems


def model_collection(
    collection: Collection,
    rows: list[tuple[int | None, str, str | None]],
    changes: list[EntryChange],
) -> tuple[list[tuple[int | None, str, str | None]], list[Problem]]:
    name = collection.value
    owned = {row[0] for row in rows}
    problems: list[Problem] = []
    removed: set[int] = set()
    for change in changes:
        if isinstance(change, RemoveEntry):
            if change.entry_id in owned:
                removed.add(change.entry_id)
            else:
                problems.append(Problem((name, "id"), -change.entry_id, Reason.UNKNOWN_ENTRY))
        elif isinstance(change, UpdateEntry) and change.entry_id not in owned:
            problems.append(Problem((name, "id"), change.entry_id, Reason.UNKNOWN_ENTRY))
    state: list[Row] = [list(row) for row in rows if row[0] not in removed]
    for change in changes:
        if isinstance(change, UpdateEntry):
            for row in state:
                if row[0] == change.entry_id:
                    row[1] = row[1] if change.value is None else change.value
                    row[2] = row[2] if change.label is None else change.label
    for change in changes:
        if isinstance(change, AddEntry):
            twin = next((r for r in state if same_value(collection, str(r[1]), change.value)), None)
            if twin is None:
                label = DEFAULT_LABELS[collection] if change.label is None else change.label
                state.append([None, change.value, label])
            else:
                twin[1] = change.value
                twin[2] = twin[2] if change.label is None else change.label
    for index, row in enumerate(state):
        if any(same_value(collection, str(row[1]), str(other[1])) for other in state[:index]):
            problems.append(Problem((name, "value"), row[1], Reason.DUPLICATE_ENTRY))
    return [(row[0], row[1], row[2]) for row in state], problems  # type: ignore[misc]


# -- strategies --------------------------------------------------------------------------------


def initial_rows(collection: Collection) -> st.SearchStrategy[list[tuple[str, str | None]]]:
    key = (lambda v: v.lower()) if collection is Collection.EMAILS else (lambda v: v)
    return st.lists(
        st.tuples(st.sampled_from(VALUES[collection]), st.sampled_from(LABELS)),
        unique_by=lambda pair: key(pair[0]),
        max_size=3,
    )


def entry_changes(collection: Collection, ids: list[int]) -> st.SearchStrategy[EntryChange]:
    values = st.sampled_from(VALUES[collection])
    labels = st.none() | st.sampled_from(LABELS)
    some_id = st.sampled_from(ids)
    return st.one_of(
        st.builds(AddEntry, values, labels),
        st.builds(UpdateEntry, some_id, st.none() | values, labels),
        st.builds(RemoveEntry, some_id),
    )


@st.composite
def patches(draw: st.DrawFn, ids: list[int]) -> CustomerPatch:
    fields = draw(
        st.dictionaries(
            st.sampled_from(WRITABLE_FIELDS), st.sampled_from([None, "Ann", "Bo"]), max_size=2
        )
    )
    collections = draw(st.lists(st.sampled_from(list(Collection)), unique=True, max_size=3))
    entries = {
        collection: draw(st.lists(entry_changes(collection, ids), max_size=5))
        for collection in collections
    }
    problems = draw(st.sampled_from([(), (), (), (REQUEST_PROBLEM,)]))
    return CustomerPatch(fields=fields, entries=entries, problems=problems)


# -- the property ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_apply_patch_agrees_with_the_model(data: st.DataObject) -> None:
    new_ids = itertools.count(100)
    rows = {
        c: [(next(new_ids), value, label) for value, label in data.draw(initial_rows(c))]
        for c in Collection
    }
    fields: dict[str, str | None] = {name: None for name in WRITABLE_FIELDS}
    fields["first_name"] = "Ann"
    model = Model(fields, rows)
    customer = Customer(
        id=1,
        created_at=START,
        modified_at=START,
        **fields,  # type: ignore[arg-type]
        **{c.value: tuple(Entry(*row) for row in rows[c]) for c in Collection},
    )
    seen_ids = {row[0] for rows_of in rows.values() for row in rows_of}
    now = START
    for _ in range(data.draw(st.integers(1, 4), label="patches")):
        now += timedelta(hours=1)
        ids = sorted(i for i in seen_ids if i is not None) + FOREIGN_IDS
        patch = data.draw(patches(ids))
        expected, problems = model.apply(patch)
        if problems:
            try:
                apply_patch(customer, patch, now)
            except Invalid as invalid:
                assert Counter(invalid.problems) == Counter(problems)
            else:
                raise AssertionError(f"the model found {problems}, apply_patch none")
            continue

        result = apply_patch(customer, patch, now)
        for collection in Collection:
            assert result.entries(collection) == tuple(
                Entry(*row) for row in expected.rows[collection]
            )
            if collection not in patch.entries:
                assert result.entries(collection) is customer.entries(collection)
        for name in WRITABLE_FIELDS:
            assert getattr(result, name) == expected.fields[name]
        assert result.created_at == START
        if expected == model:
            assert result is customer
        else:
            assert result.modified_at == now

        # The store hands ids to new entries; the model's new rows get the same ones, in order.
        assigned: dict[Collection, list[tuple[int | None, str, str | None]]] = {}
        for collection in Collection:
            assigned[collection] = [
                (next(new_ids) if row[0] is None else row[0], row[1], row[2])
                for row in expected.rows[collection]
            ]
        model = Model(expected.fields, assigned)
        seen_ids |= {row[0] for rows_of in assigned.values() for row in rows_of}
        customer = replace(
            result,
            **{c.value: tuple(Entry(*row) for row in assigned[c]) for c in Collection},  # type: ignore[arg-type]
        )
