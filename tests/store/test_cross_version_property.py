"""v1 and v2 writing the same customers, in random order, against a reference model.

Each example opens an account with two customers and runs a random sequence of steps: v1
updates (`contract.v1.decode.update_request` → `service.update_customer`), v2 creates, PUTs,
PATCHes and property PATCHes (`contract.v2.decode` → the v2 use cases) and deletes. The model
is the domain's own rules applied in memory (`apply_patch`, `apply_edits`,
`apply_property_edits`, one customer per email address): after every step the store must have
refused exactly what the model refuses, answered with the customer the model expects (new
entries aside, whose ids only the store can give), and read back exactly that. So a v1 update
that dropped v2's fields or properties, a delete that left an address taken, or a write the
store saved differently from what it answered, would each fail here.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from openscout import service
from openscout.contract.v1 import decode as v1
from openscout.contract.v2 import decode as v2
from openscout.domain.changes import CustomerPatch, apply_patch, new_customer
from openscout.domain.customers import Collection, Customer
from openscout.domain.errors import CustomerNotFound, EmailTaken, Invalid
from openscout.domain.patch import CustomerEdits, apply_edits
from openscout.domain.properties import PropertyEdits, apply_property_edits, new_definition
from openscout.store.engine import SqlStore
from openscout.webhooks.events import NO_EVENTS
from tests.store.test_sql_store import new_account_id

START = datetime(2026, 1, 1, tzinfo=UTC)
DEFINITIONS = {
    "car": new_definition("car", "Car", "text"),
    "plan": new_definition("plan", "Plan", "dropdown", ("Free", "Plus")),
}
EMAILS = ["a@x.example", "B@x.example", "b@x.example", "c@y.example", "straße@z.example"]
PHONES = ["555-0100", "555-0101"]
NAMES = ["Ann", "Bo", "Zoë", "", None]
ADDRESS = {"city": "Prague", "state": "PR", "postalCode": "11000", "country": "CZ"}


def body(document: Any) -> bytes:
    return json.dumps(document).encode()


class Model:
    """The customers the account should have, by id, and the clock."""

    def __init__(self, store: SqlStore, account: int) -> None:
        self.store, self.account = store, account
        self.customers: dict[int, Customer] = {}
        self.now = START
        self.outcomes: Counter[str] = Counter()

    def tick(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now

    def owner_conflict(self, customer_id: int | None, after: Customer) -> bool:
        """Whether `after` would take an address another customer has (spec v1 §10.6)."""
        before = self.customers.get(customer_id) if customer_id is not None else None
        own = {Collection.EMAILS.key(e.value) for e in before.emails} if before else set()
        taken = {
            Collection.EMAILS.key(e.value)
            for other_id, other in self.customers.items()
            if other_id != customer_id
            for e in other.emails
        }
        return any(
            (key := Collection.EMAILS.key(e.value)) not in own and key in taken
            for e in after.emails
        )

    def expect(self, customer_id: int | None, run: Any, expected: Any) -> Customer | None:
        """Run a store step and compare it with the model's `expected()` (a customer, or the
        error the model raises); keep what the store gave when they agree."""
        try:
            wanted = expected()
            if self.owner_conflict(customer_id, wanted):
                wanted = EmailTaken("")
        except Invalid as error:
            wanted = error
        if isinstance(wanted, Exception):
            with pytest.raises(type(wanted)):
                run()
            self.outcomes[type(wanted).__name__] += 1
            return None
        got = run()
        self.outcomes["changed" if got != self.customers.get(got.id) else "unchanged"] += 1
        before = self.customers.get(customer_id) if customer_id is not None else None
        assert without_new_ids(got, before) == wanted
        assert got.id is not None
        self.customers[got.id] = got
        return got

    def check(self) -> None:
        for customer_id, customer in self.customers.items():
            assert service.get_customer(self.store, self.account, customer_id) == customer
        assert service.count_customers(self.store, self.account) == len(self.customers)


def without_new_ids(customer: Customer, before: Customer | None) -> Customer:
    """`customer` with the ids the store gave to entries (and an address) that `before` did not
    have set back to None, as the domain leaves new ones."""
    known = {
        collection: {e.id for e in before.entries(collection)} if before else set()
        for collection in Collection
    }
    address = customer.address
    if address is not None and (before is None or before.address is None):
        address = replace(address, id=None)
    return replace(
        customer,
        id=before.id if before else None,
        address=address,
        **{
            c.value: tuple(
                e if e.id in known[c] else replace(e, id=None) for e in customer.entries(c)
            )
            for c in Collection
        },
    )


# -- what a step sends ------------------------------------------------------------------------


def entry_id(draw: Any, customer: Customer, collection: Collection) -> int:
    ids = [e.id for e in customer.entries(collection) if e.id is not None]
    return int(draw(st.sampled_from([*ids, 2_000_000_000])))


@st.composite
def v1_update(draw: Any, customer: Customer) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for field in draw(st.sets(st.sampled_from(["firstName", "lastName", "jobTitle"]))):
        document[field] = draw(st.sampled_from(NAMES))
    emails: list[dict[str, Any]] = []
    for kind in draw(st.lists(st.sampled_from(["add", "update", "remove"]), max_size=3)):
        value = draw(st.sampled_from(EMAILS))
        match kind:
            case "add":
                emails.append({"value": value, "location": draw(st.sampled_from(["work", "home"]))})
            case "update":
                emails.append({"id": entry_id(draw, customer, Collection.EMAILS), "value": value})
            case "remove":
                emails.append({"id": -entry_id(draw, customer, Collection.EMAILS)})
    if emails:
        document["emails"] = emails
    if draw(st.booleans()):
        document["phones"] = [{"value": draw(st.sampled_from(PHONES)), "location": "mobile"}]
    if draw(st.booleans()):
        if customer.address is not None and customer.address.id is not None:
            removal = {"id": -customer.address.id}
            document["address"] = draw(st.sampled_from([removal, ADDRESS, {"city": "Brno"}]))
        else:
            document["address"] = draw(st.sampled_from([ADDRESS, {"city": "Brno"}]))
    return document


@st.composite
def v2_operations(draw: Any, customer: Customer) -> list[dict[str, Any]]:
    ops: list[dict[str, Any]] = []
    for kind in draw(st.lists(st.integers(0, 8), min_size=1, max_size=4)):
        match kind:
            case 0:
                ops.append(
                    {"op": "replace", "path": "/firstName", "value": draw(st.sampled_from(NAMES))}
                )
            case 1:
                gender = draw(st.sampled_from(["Male", "female", "robot"]))
                ops.append({"op": "replace", "path": "/gender", "value": gender})
            case 2:
                ops.append({"op": "remove", "path": "/jobTitle"})
            case 3:
                value = {"value": draw(st.sampled_from(EMAILS)), "type": "home"}
                ops.append({"op": "add", "path": "/emails", "value": value})
            case 4:
                path = f"/emails/{entry_id(draw, customer, Collection.EMAILS)}"
                ops.append({"op": "remove", "path": path})
            case 5:
                path = f"/emails/{entry_id(draw, customer, Collection.EMAILS)}/value"
                ops.append({"op": "replace", "path": path, "value": draw(st.sampled_from(EMAILS))})
            case 6:
                ops.append(
                    {
                        "op": "add",
                        "path": "/phones",
                        "value": {"value": draw(st.sampled_from(PHONES))},
                    }
                )
            case 7:
                ops.append({"op": "replace", "path": "/address/city", "value": "Brno"})
            case 8:
                ops.append(
                    draw(
                        st.sampled_from(
                            [
                                {"op": "remove", "path": "/address"},
                                {"op": "replace", "path": "/address", "value": ADDRESS},
                            ]
                        )
                    )
                )
    return ops


@st.composite
def property_operations(draw: Any) -> list[dict[str, Any]]:
    choices = [
        {"op": "replace", "path": "/car", "value": "Tesla"},
        {"op": "replace", "path": "/car", "value": "Volvo"},
        {"op": "remove", "path": "/car"},
        {"op": "replace", "path": "/plan", "value": "plus"},
        {"op": "replace", "path": "/plan", "value": 1},
        {"op": "replace", "path": "/plan", "value": "Gold"},
        {"op": "remove", "path": "/plan"},
        {"op": "replace", "path": "/boat", "value": "Dinghy"},
    ]
    return draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))


# -- the steps --------------------------------------------------------------------------------


def step(model: Model, draw: Any) -> None:
    store, account = model.store, model.account
    kinds = ["create", *(["v1", "put", "patch", "properties", "delete"] if model.customers else [])]
    kind = draw(st.sampled_from(kinds))
    now = model.tick()
    if kind == "create":
        document = {
            "firstName": draw(st.sampled_from(NAMES)),
            "emails": [{"value": draw(st.sampled_from(EMAILS))}],
        }
        patch = v2.create_request(body(document))
        model.expect(
            None,
            lambda: service.create_customer(store, account, patch, now, events=NO_EVENTS),
            lambda: new_customer(patch, now),
        )
        return
    customer_id = draw(st.sampled_from(sorted(model.customers)))
    current = model.customers[customer_id]
    match kind:
        case "v1":
            patch = v1.update_request(body(draw(v1_update(current)))).patch
            model.expect(
                customer_id,
                lambda: service.update_customer(
                    store, account, customer_id, patch, now, events=NO_EVENTS
                ),
                lambda: apply_patch(current, patch, now),
            )
        case "put":
            fields = {
                name: draw(st.sampled_from(NAMES))
                for name in draw(st.sets(st.sampled_from(["firstName", "jobTitle", "age"])))
            }
            overwrite: CustomerPatch = v2.overwrite_request(body(fields))
            model.expect(
                customer_id,
                lambda: service.overwrite_customer(
                    store, account, customer_id, overwrite, now, events=NO_EVENTS
                ),
                lambda: apply_patch(current, overwrite, now),
            )
        case "patch":
            edits: CustomerEdits = v2.patch_request(body(draw(v2_operations(current))))
            model.expect(
                customer_id,
                lambda: (
                    service.edit_customer(
                        store, account, customer_id, edits, now, events=NO_EVENTS
                    ).customer
                ),
                lambda: apply_edits(current, edits, now),
            )
        case "properties":
            changes: PropertyEdits = v2.properties_request(body(draw(property_operations())))

            def expected() -> Customer:
                found = apply_property_edits(current, changes, DEFINITIONS, now)
                order = list(DEFINITIONS)
                values = tuple(sorted(found.properties, key=lambda p: order.index(p.slug)))
                return (
                    current if values == current.properties else replace(found, properties=values)
                )

            model.expect(
                customer_id,
                lambda: service.edit_properties(
                    store, account, customer_id, changes, now, events=NO_EVENTS
                ),
                expected,
            )
        case "delete":
            service.delete_customer(store, account, customer_id, events=NO_EVENTS)
            del model.customers[customer_id]
            with pytest.raises(CustomerNotFound):
                service.get_customer(store, account, customer_id)


def run_steps(store: SqlStore, data: st.DataObject) -> Counter[str]:
    account = new_account_id(store)
    for definition in DEFINITIONS.values():
        service.define_property(store, account, definition)
    model = Model(store, account)
    for document in (
        {"firstName": "Ann", "emails": [{"value": "a@x.example"}], "address": ADDRESS},
        {"firstName": "Bo", "emails": [{"value": "c@y.example"}], "phones": [{"value": "1"}]},
    ):
        patch = v2.create_request(body(document))
        made = service.create_customer(store, account, patch, START, events=NO_EVENTS)
        assert made.id is not None
        model.customers[made.id] = made
    for _ in range(data.draw(st.integers(1, 14), label="steps")):
        step(model, data.draw)
        model.check()
    return model.outcomes


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_v1_and_v2_writes_and_deletes_keep_the_store_equal_to_the_model(
    module_store: SqlStore, data: st.DataObject
) -> None:
    for outcome in run_steps(module_store, data):
        event(outcome)
