"""A fuzzer over the v1 request decoder: whatever the bytes, `decode` returns a decoded request
or raises `Malformed` (problems with values travel in `patch.problems`), never anything else;
and what it returns holds only values the rules can take, with problems v1 can render.

The inputs are arbitrary bytes, mutated customer bodies, and JSON documents shaped like
customers whose values are anything JSON can hold: huge integers, floats, NUL, lone surrogates
(as JSON escapes), combining marks, right-to-left text, emoji, deep nesting. Set
OPENSCOUT_FUZZ_EXAMPLES to run more examples than CI does.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openscout.contract.v1 import decode, query, wire
from openscout.domain.changes import (
    AddEntry,
    CustomerPatch,
    RemoveAddress,
    RemoveEntry,
    SetAddress,
    UpdateAddress,
    UpdateEntry,
)
from openscout.domain.customers import Collection
from openscout.domain.errors import Invalid, Malformed, UnreadableQuery
from openscout.domain.search import Search

EXAMPLES = int(os.environ.get("OPENSCOUT_FUZZ_EXAMPLES", "300"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DECODERS = {"create": decode.create_request, "update": decode.update_request}

# --- what the requests are made of -----------------------------------------------------------

ODD_TEXT = [
    "\x00",
    "a\x00b",
    "\ud800",  # lone surrogates: json.dumps writes them as escapes
    "\udfff",
    "e\u0301",  # a combining mark
    "\u202eevil\u202c",  # right-to-left override
    "שלום",
    "👩\u200d👩\u200d👧\u200d👦",
    "\ufeff",
    "\u3000",
    " ",
    "",
    "x" * 41,
    "y" * 256,
    "ann@example.com",
    "ANN@EXAMPLE.COM",
    "not-an-email",
    "Work",
    " HOME ",
    "xmmp",
    "true",
    "1",
]
BIG_NUMBERS = [2**31 - 1, 2**31, 2**63, 2**70, -(2**70), -(2**31), 0, -1, 1]

text = st.one_of(st.text(max_size=60), st.sampled_from(ODD_TEXT))
numbers = st.one_of(
    st.integers(),
    st.sampled_from(BIG_NUMBERS),
    st.floats(allow_nan=True, allow_infinity=True),  # NaN and Infinity are not JSON at all
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(text, inner, max_size=4)),
    max_leaves=12,
)

ENTRY_KEYS = ["id", "value", "location", "type"]
ADDRESS_KEYS = ["id", "lines", "city", "state", "postalCode", "postcalCode", "country"]
ids = st.one_of(st.sampled_from(BIG_NUMBERS), numbers, st.none(), st.booleans(), text)
entries = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "value": st.one_of(text, values),
        "location": st.one_of(text, values),
        "type": st.one_of(text, values),
    },
)
addresses = st.fixed_dictionaries(
    {},
    optional={
        "id": ids,
        "lines": st.one_of(st.lists(st.one_of(text, values), max_size=3), text, values),
        **{name: st.one_of(text, numbers, values) for name in ADDRESS_KEYS[2:]},
    },
)
customers = st.fixed_dictionaries(
    {},
    optional={
        **{name: st.one_of(text, values) for name in wire.WRITABLE_FIELDS},
        **{
            name: st.one_of(st.lists(st.one_of(entries, values), max_size=4), values)
            for name in wire.COLLECTIONS
        },
        "address": st.one_of(addresses, values),
        "reload": values,
        # Read-only and unknown keys, which must change nothing.
        "id": values,
        "fullName": values,
        "gender": values,
    },
)
documents = st.one_of(customers, customers.map(lambda c: {"customer": c}), values)
KNOWN_KEYS = {*wire.WRITABLE_FIELDS, *wire.COLLECTIONS, "address", "reload", "customer"}


def encoded(document: Any) -> bytes:
    return json.dumps(document).encode()


def is_proper_json(value: Any) -> bool:
    """Whether `json.dumps` writes `value` as proper JSON text: no NaN or Infinity (not JSON at
    all), no lone surrogate (a JSON escape that stands for no character: openscout refuses the
    whole body as not formatted correctly, wherever it is)."""
    match value:
        case float():
            return math.isfinite(value)
        case str():
            return not any(0xD800 <= ord(char) <= 0xDFFF for char in value)
        case list():
            return all(is_proper_json(item) for item in value)
        case dict():
            return all(is_proper_json(k) and is_proper_json(v) for k, v in value.items())
    return True


NESTINGS = [(b"[", b"]"), (b'{"a":', b"}")]


def nested(depth: int, shape: tuple[bytes, bytes]) -> bytes:
    opener, closer = shape
    return opener * depth + b"1" + closer * depth


def mutated(body: bytes, at: int, junk: bytes) -> bytes:
    at %= len(body) + 1
    return body[:at] + junk + body[at + 1 :]


raw_bodies = st.one_of(
    st.binary(max_size=300),
    documents.map(encoded),
    st.builds(mutated, documents.map(encoded), st.integers(0, 500), st.binary(max_size=3)),
    st.builds(nested, st.integers(1, 20_000), st.sampled_from(NESTINGS)),
    st.integers(1, 6000).map(lambda n: b'{"firstName": ' + b"9" * n + b"}"),
)


# --- what a decoded request may hold ----------------------------------------------------------


def check_text(value: object, limit: int) -> None:
    assert isinstance(value, str), value
    assert value.strip(), repr(value)
    assert "\x00" not in value
    assert len(value) <= limit


def check_request(request: object) -> None:
    """The decoded request holds only values the domain rules can take."""
    assert isinstance(request, decode.WriteRequest), request
    assert isinstance(request.reload, bool)
    patch = request.patch
    assert isinstance(patch, CustomerPatch)
    for name, value in patch.fields.items():
        assert name in wire.MAX_LENGTHS, name
        if value is not None:
            check_text(value, wire.MAX_LENGTHS[name])
    for collection, changes in patch.entries.items():
        assert isinstance(collection, Collection)
        for change in changes:
            match change:
                case AddEntry(value=value, label=label):
                    check_text(value, wire.MAX_ENTRY_LENGTH)
                    assert label is None or label in wire.LABELS[collection], label
                case UpdateEntry(entry_id=entry_id, value=value, label=label):
                    assert isinstance(entry_id, int) and entry_id > 0
                    if value is not None:
                        check_text(value, wire.MAX_ENTRY_LENGTH)
                    assert label is None or label in wire.LABELS[collection], label
                case RemoveEntry(entry_id=entry_id):
                    assert isinstance(entry_id, int) and entry_id > 0
                case _:
                    raise AssertionError(f"not an entry change: {change!r}")
    match patch.address:
        case None:
            pass
        case SetAddress(values=fields) | UpdateAddress(values=fields):
            assert set(fields) <= set(wire.ADDRESS_FIELDS.values()), fields
            for name, value in fields.items():
                if name == "lines":
                    assert isinstance(value, tuple)
                    for line in value:
                        check_text(line, wire.MAX_ENTRY_LENGTH)
                elif value is not None:
                    check_text(value, wire.MAX_ENTRY_LENGTH)
        case RemoveAddress(address_id=address_id):
            assert isinstance(address_id, int) and address_id > 0
        case _:
            raise AssertionError(f"not an address change: {patch.address!r}")
    # Every problem renders as v1's validation body, and that body is JSON (spec §7).
    body = wire.validation_body(patch.problems)
    rendered = msgspec.json.decode(msgspec.json.encode(body))
    for shown in rendered["validationErrors"]:
        assert isinstance(shown["property"], str) and shown["property"]
        assert shown["value"] is None or isinstance(shown["value"], str)
        assert isinstance(shown["message"], str) and shown["message"]


def decoded(kind: str, body: bytes, query_reload: str | None = None) -> object:
    """What the decoder makes of `body`: a request, or the Malformed it raised."""
    try:
        return DECODERS[kind](body, query_reload)
    except Malformed as error:
        return error


# --- the properties ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", DECODERS)
@fuzz
@given(body=raw_bodies, query_reload=st.one_of(st.none(), text))
def test_any_bytes_decode_to_a_request_or_malformed(
    kind: str, body: bytes, query_reload: str | None
) -> None:
    result = decoded(kind, body, query_reload)
    if not isinstance(result, Malformed):
        check_request(result)


@pytest.mark.parametrize("kind", DECODERS)
@fuzz
@given(document=documents)
def test_any_json_document_decodes_to_a_request_or_malformed(kind: str, document: Any) -> None:
    result = decoded(kind, encoded(document))
    # Malformed exactly when the body is not a JSON object.
    is_object = isinstance(document, dict) and is_proper_json(document)
    assert isinstance(result, Malformed) is not is_object, (document, result)
    if is_object:
        check_request(result)


@pytest.mark.parametrize("kind", DECODERS)
@fuzz
@given(document=customers, extra=st.dictionaries(text, values, max_size=4))
def test_unknown_keys_change_nothing(kind: str, document: Any, extra: dict[str, Any]) -> None:
    """Unknown keys in a body are ignored, never an error (spec §2)."""
    unknown = {key: value for key, value in extra.items() if key not in KNOWN_KEYS}
    plain = decoded(kind, encoded(document))
    padded = decoded(kind, encoded({**unknown, **document}))
    if isinstance(plain, Malformed) or not is_proper_json(unknown):
        assert isinstance(padded, Malformed)
    else:
        assert padded == plain


@pytest.mark.parametrize("kind", DECODERS)
@fuzz
@given(document=customers)
def test_the_customer_wrapper_reads_the_same(kind: str, document: Any) -> None:
    """`{"customer": {...}}` is the same request (spec §11)."""
    if isinstance(document.get("customer"), dict):
        return
    plain = decoded(kind, encoded(document))
    wrapped = decoded(kind, encoded({"customer": document}))
    if isinstance(plain, Malformed):
        assert isinstance(wrapped, Malformed)
    else:
        assert isinstance(wrapped, decode.WriteRequest)
        assert wrapped == plain


@pytest.mark.parametrize("depth", [10, 100, 1_000, 10_000, 50_000])
@pytest.mark.parametrize("shape", NESTINGS, ids=["arrays", "objects"])
def test_deep_nesting_is_malformed_or_read(depth: int, shape: tuple[bytes, bytes]) -> None:
    body = b'{"firstName": "Ann", "lastName": "Lee", "x": ' + nested(depth, shape) + b"}"
    for kind in DECODERS:
        result = decoded(kind, body)
        if not isinstance(result, Malformed):
            check_request(result)


# --- the query string decoders (list filters, search parameters, the search language) ---------

QUERY_WORDS = [
    "AND",
    "OR",
    "NOT",
    "TO",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    "\\",
    ":",
    "*",
    "id:",
    "firstName:",
    "modifiedAt:",
    "modifiedSince:",
    "emailDomain:",
    "2017-01-01T00:00:00Z",
    str(2**70),
    "-1",
    "a@b.co",
    "\x00",
    "é",
    " ",
]
queries = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(QUERY_WORDS), max_size=30).map("".join),
    st.lists(st.sampled_from(QUERY_WORDS), max_size=30).map(" ".join),
)
parameters = st.dictionaries(
    st.sampled_from(
        [
            "query",
            "page",
            "pageSize",
            "sortField",
            "sortOrder",
            "firstName",
            "email",
            "modifiedSince",
        ]
    ),
    st.one_of(queries, st.sampled_from(["0", "1", "50", "51", "+2", " 3 ", str(2**31), "1e3"])),
)


@fuzz
@given(params=parameters)
def test_any_query_string_reads_as_a_search_or_a_400(params: dict[str, str]) -> None:
    for reader in (query.search, query.list_search):
        try:
            search = reader(params)
        except (Invalid, UnreadableQuery) as error:
            if isinstance(error, UnreadableQuery):
                assert 1 <= error.position <= len(params.get("query", "")) + 2001
            else:
                assert wire.validation_body(error.problems)["validationErrors"]
            continue
        assert isinstance(search, Search)
        assert 1 <= search.page <= wire.MAX_PAGE
        assert 1 <= search.page_size <= wire.PAGE_SIZE
