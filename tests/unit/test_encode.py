"""contract.v1.encode and wire: customers as v1 JSON, problems as v1 validation bodies (§7, §8)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from openscout.contract.v1 import encode, wire
from openscout.domain.customers import Address, Customer, Entry
from openscout.domain.errors import Problem, Reason
from tests.helpers import FULL_KEYS, LIST_KEYS, SEARCH_KEYS

CREATED = datetime(2017, 9, 23, 20, 12, 43, tzinfo=UTC)
MODIFIED = datetime(2017, 12, 13, 22, 39, 59, tzinfo=UTC)


def recorded_customer() -> Customer:
    """The customer of the recorded full item in spec §8.1."""
    return Customer(
        id=144228647,
        created_at=CREATED,
        modified_at=MODIFIED,
        first_name="Test",
        last_name="User",
        organization="Test Company",
        job_title="CEO",
        emails=(Entry(191676921, "test@example.com", "work"),),
        phones=(Entry(198059533, "1234567890", "work"),),
    )


def rich_customer() -> Customer:
    return Customer(
        id=7,
        created_at=CREATED,
        modified_at=MODIFIED,
        first_name="Ann",
        last_name="Lee",
        organization="Acme",
        job_title="CEO",
        background="Met at a fair",
        location="Boston, MA",
        photo_url="https://secure.gravatar.com/avatar/x",
        photo_type="gravatar",
        gender="female",
        age="30-35",
        address=Address(
            id=61,
            lines=("1 Main St", "Suite 2"),
            city="Boston",
            state="MA",
            postal_code="02110",
            country="US",
            created_at=CREATED,
            modified_at=MODIFIED,
        ),
        emails=(Entry(11, "ann@example.com", "work"), Entry(12, "ann@home.example", "home")),
        phones=(Entry(21, "555-0100", "mobile"),),
        chats=(Entry(31, "ann.lee", "skype"),),
        social_profiles=(Entry(41, "https://twitter.com/ann", "twitter"),),
        websites=(Entry(51, "https://ann.example", None),),
    )


# -- the three shapes (§8.1) ---------------------------------------------------------------------


def test_the_recorded_full_item_is_reproduced_exactly() -> None:
    """The example full item of spec §8.1, key order included."""
    recorded = (
        b'{"item":{"id":144228647,"firstName":"Test","lastName":"User","fullName":"Test User",'
        b'"photoUrl":null,"photoType":null,"gender":"unknown","age":null,'
        b'"organization":"Test Company","jobTitle":"CEO","location":null,'
        b'"createdAt":"2017-09-23T20:12:43Z","modifiedAt":"2017-12-13T22:39:59Z",'
        b'"background":null,"address":null,"socialProfiles":null,'
        b'"emails":[{"id":191676921,"value":"test@example.com","location":"work"}],'
        b'"phones":[{"id":198059533,"value":"1234567890","location":"work"}],'
        b'"chats":null,"websites":null}}'
    )
    assert msgspec.json.encode(wire.item(encode.full(recorded_customer()))) == recorded


def test_the_full_shape_has_every_key_in_the_recorded_order() -> None:
    body = encode.full(rich_customer())
    assert tuple(body) == FULL_KEYS
    assert body == {
        "id": 7,
        "firstName": "Ann",
        "lastName": "Lee",
        "fullName": "Ann Lee",
        "photoUrl": "https://secure.gravatar.com/avatar/x",
        "photoType": "gravatar",
        "gender": "female",
        "age": "30-35",
        "organization": "Acme",
        "jobTitle": "CEO",
        "location": "Boston, MA",
        "createdAt": "2017-09-23T20:12:43Z",
        "modifiedAt": "2017-12-13T22:39:59Z",
        "background": "Met at a fair",
        "address": {
            "id": 61,
            "lines": ["1 Main St", "Suite 2"],
            "city": "Boston",
            "state": "MA",
            "postalCode": "02110",
            "country": "US",
            "createdAt": "2017-09-23T20:12:43Z",
            "modifiedAt": "2017-12-13T22:39:59Z",
        },
        "socialProfiles": [{"id": 41, "value": "https://twitter.com/ann", "type": "twitter"}],
        "emails": [
            {"id": 11, "value": "ann@example.com", "location": "work"},
            {"id": 12, "value": "ann@home.example", "location": "home"},
        ],
        "phones": [{"id": 21, "value": "555-0100", "location": "mobile"}],
        "chats": [{"id": 31, "value": "ann.lee", "type": "skype"}],
        "websites": [{"id": 51, "value": "https://ann.example"}],
    }


def test_child_objects_have_their_keys_in_the_documented_order() -> None:
    """Spec §8.2."""
    body = encode.full(rich_customer())
    assert list(body["address"]) == [
        "id",
        "lines",
        "city",
        "state",
        "postalCode",
        "country",
        "createdAt",
        "modifiedAt",
    ]
    assert list(body["emails"][0]) == ["id", "value", "location"]
    assert list(body["phones"][0]) == ["id", "value", "location"]
    assert list(body["chats"][0]) == ["id", "value", "type"]
    assert list(body["socialProfiles"][0]) == ["id", "value", "type"]
    assert list(body["websites"][0]) == ["id", "value"]


def test_the_list_shape_is_the_full_shape_up_to_modified_at() -> None:
    full = encode.full(rich_customer())
    item = encode.list_item(rich_customer())
    assert tuple(item) == LIST_KEYS
    assert item == {key: full[key] for key in LIST_KEYS}


def test_the_search_shape_carries_emails_as_plain_strings_after_full_name() -> None:
    full = encode.full(rich_customer())
    item = encode.search_item(rich_customer())
    assert tuple(item) == SEARCH_KEYS
    assert item["emails"] == ["ann@example.com", "ann@home.example"]
    assert {key: value for key, value in item.items() if key != "emails"} == {
        key: full[key] for key in SEARCH_KEYS if key != "emails"
    }


def test_the_search_shape_of_a_customer_without_emails_has_an_empty_list() -> None:
    assert encode.search_item(replace(rich_customer(), emails=()))["emails"] == []


def test_empty_collections_follow_the_recorded_quirk() -> None:
    """emails and phones come back as [], the other three and the address as null (§8.1, Q13)."""
    bare = Customer(id=1, created_at=CREATED, modified_at=CREATED)
    body = encode.full(bare)
    assert (
        body["emails"],
        body["phones"],
        body["socialProfiles"],
        body["chats"],
        body["websites"],
        body["address"],
    ) == ([], [], None, None, None, None)


def test_a_customer_known_by_nothing_has_nulls_but_a_gender() -> None:
    body = encode.full(Customer(id=1, created_at=CREATED, modified_at=CREATED))
    assert body == {
        "id": 1,
        "firstName": None,
        "lastName": None,
        "fullName": None,
        "photoUrl": None,
        "photoType": None,
        "gender": "unknown",
        "age": None,
        "organization": None,
        "jobTitle": None,
        "location": None,
        "createdAt": "2017-09-23T20:12:43Z",
        "modifiedAt": "2017-09-23T20:12:43Z",
        "background": None,
        "address": None,
        "socialProfiles": None,
        "emails": [],
        "phones": [],
        "chats": None,
        "websites": None,
    }


@pytest.mark.parametrize(
    ("first", "last", "full"),
    [("Ann", "Lee", "Ann Lee"), ("Brentonhughes", None, "Brentonhughes"), (None, "Lee", "Lee")],
)
def test_full_name_skips_a_missing_part(first: str | None, last: str | None, full: str) -> None:
    """Spec §8.4: "Brentonhughes" with lastName null, no stray space."""
    customer = replace(rich_customer(), first_name=first, last_name=last)
    assert encode.full(customer)["fullName"] == full
    assert encode.list_item(customer)["fullName"] == full
    assert encode.search_item(customer)["fullName"] == full


# -- values v1 does not know are mapped on output (§8.3) ------------------------------------


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (None, None),
        ("gravatar", "gravatar"),
        ("linkedin", "linkedin"),
        ("googleprofile", "googleprofile"),
        ("Twitter", "twitter"),
        ("instagram", "unknown"),
        ("unknown", "unknown"),
    ],
)
def test_photo_types_outside_v1s_list_show_as_unknown(
    stored: str | None, shown: str | None
) -> None:
    customer = replace(rich_customer(), photo_type=stored)
    for body in (
        encode.full(customer),
        encode.list_item(customer),
        encode.search_item(customer),
    ):
        assert body["photoType"] == shown


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("male", "male"),
        ("Male", "male"),
        ("FEMALE", "female"),
        ("unknown", "unknown"),
        ("nonbinary", "unknown"),
        ("", "unknown"),
    ],
)
def test_gender_is_lowercase_and_never_outside_v1s_three(stored: str, shown: str) -> None:
    customer = replace(rich_customer(), gender=stored)
    for body in (
        encode.full(customer),
        encode.list_item(customer),
        encode.search_item(customer),
    ):
        assert body["gender"] == shown


def test_entry_labels_outside_v1s_lists_show_as_other() -> None:
    customer = replace(
        rich_customer(),
        emails=(Entry(11, "a@example.com", "office"), Entry(12, "b@example.com", "HOME")),
        phones=(Entry(21, "555", "satellite"), Entry(22, "556", "Fax")),
        chats=(Entry(31, "ann", "whatsapp"), Entry(32, "bob", "xmpp")),
        social_profiles=(Entry(41, "https://ig.example/ann", "instagram"),),
    )
    body = encode.full(customer)
    assert [e["location"] for e in body["emails"]] == ["other", "home"]
    assert [e["location"] for e in body["phones"]] == ["other", "fax"]
    assert [e["type"] for e in body["chats"]] == ["other", "xmpp"]
    assert [e["type"] for e in body["socialProfiles"]] == ["other"]


def test_a_website_shows_no_label_whatever_is_stored() -> None:
    customer = replace(rich_customer(), websites=(Entry(51, "https://a.example", "blog"),))
    assert encode.full(customer)["websites"] == [{"id": 51, "value": "https://a.example"}]


def test_entries_show_in_the_order_they_are_kept() -> None:
    emails = (Entry(12, "b@example.com", "work"), Entry(11, "a@example.com", "work"))
    body = encode.full(replace(rich_customer(), emails=emails))
    assert [e["id"] for e in body["emails"]] == [12, 11]


# -- timestamps (§2) ---------------------------------------------------------------------------


def test_timestamps_are_utc_whole_seconds_with_a_z() -> None:
    with_fraction = datetime(2017, 12, 13, 22, 49, 9, 987654, tzinfo=UTC)
    customer = replace(rich_customer(), created_at=with_fraction, modified_at=with_fraction)
    body = encode.full(customer)
    assert body["createdAt"] == body["modifiedAt"] == "2017-12-13T22:49:09Z"
    assert wire.timestamp(datetime(2012, 7, 3, 2, 4, 5, tzinfo=UTC)) == "2012-07-03T02:04:05Z"


def test_an_address_may_have_no_modified_at() -> None:
    """Stored addresses may lack `modifiedAt` (§8.2); it shows as null."""
    address = replace(rich_customer().address or Address(id=1), modified_at=None)
    body = encode.full(replace(rich_customer(), address=address))
    assert body["address"]["modifiedAt"] is None
    assert body["address"]["createdAt"] == "2017-09-23T20:12:43Z"


def test_a_partial_stored_address_shows_its_nulls() -> None:
    """Real stored addresses can lack city, state and postal code (§8.2)."""
    address = Address(id=3, lines=("",), country="NL", created_at=CREATED)
    body = encode.full(replace(rich_customer(), address=address))
    assert body["address"] == {
        "id": 3,
        "lines": [""],
        "city": None,
        "state": None,
        "postalCode": None,
        "country": "NL",
        "createdAt": "2017-09-23T20:12:43Z",
        "modifiedAt": None,
    }


# -- envelopes (§5) ------------------------------------------------------------------------------


def test_envelopes_have_their_keys_in_order() -> None:
    assert list(wire.item({"id": 1})) == ["item"]
    page = wire.collection(2, 3, 120, [{"id": 1}])
    assert page == {"page": 2, "pages": 3, "count": 120, "items": [{"id": 1}]}
    assert list(page) == ["page", "pages", "count", "items"]


def test_a_location_ends_in_the_plural_path_and_the_id() -> None:
    """Clients read the id from the last segment minus `.json` (§9.4, Q2)."""
    assert (
        wire.customer_location("https://support.example/", 156969476)
        == "https://support.example/v1/customers/156969476.json"
    )
    assert (
        wire.customer_location("http://127.0.0.1:8080", 5)
        == "http://127.0.0.1:8080/v1/customers/5.json"
    )


# -- validation bodies (§7) -------------------------------------------------------------------


def errors_of(*problems: Problem) -> list[dict[str, Any]]:
    body = wire.validation_body(problems)
    assert list(body) == ["code", "error", "validationErrors"]
    assert (body["code"], body["error"]) == (400, "Input could not be validated")
    for error in body["validationErrors"]:
        assert list(error) == ["property", "value", "message"]
    result: list[dict[str, Any]] = body["validationErrors"]
    return result


def test_the_recorded_address_state_error_is_reproduced() -> None:
    """The 400 recorded for a missing state (§7)."""
    assert wire.validation_body([Problem(("address", "state"), None, Reason.REQUIRED)]) == {
        "code": 400,
        "error": "Input could not be validated",
        "validationErrors": [
            {"property": "address:state", "value": None, "message": "Value is required"}
        ],
    }


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("Ann", "Ann"),
        (" Ann ", " Ann "),
        (2562545, "2562545"),
        (-1234, "-1234"),
        (0, "0"),
        (10**30, "1" + "0" * 30),
        (1.5, "1.5"),
        (True, "true"),
        (False, "false"),
        (["a", 1], '["a",1]'),
        ({"a": None}, '{"a":null}'),
    ],
    ids=repr,
)
def test_values_are_shown_as_strings_or_null(value: object, shown: str | None) -> None:
    """Numbers too are strings; an empty or blank string came back as null (§7)."""
    [error] = errors_of(Problem(("first_name",), value, Reason.INVALID))
    assert error["value"] == shown


@pytest.mark.parametrize(
    ("path", "property_name"),
    [
        (("first_name",), "firstName"),
        (("last_name",), "lastName"),
        (("organization",), "organization"),
        (("job_title",), "jobTitle"),
        (("background",), "background"),
        (("address",), "address"),
        (("address", "id"), "address:id"),
        (("address", "lines"), "address:lines"),
        (("address", "city"), "address:city"),
        (("address", "postal_code"), "address:postalCode"),
        (("address", "country"), "address:country"),
        (("emails",), "emails"),
        (("emails", "value"), "emails:value"),
        (("emails", "location"), "emails:location"),
        (("phones", "location"), "phones:location"),
        (("chats", "type"), "chats:type"),
        (("social_profiles",), "socialProfiles"),
        (("social_profiles", "type"), "socialProfiles:type"),
        (("social_profiles", "id"), "socialProfiles:id"),
        (("websites", "value"), "websites:value"),
    ],
)
def test_properties_are_v1_names_joined_by_colons(
    path: tuple[str, ...], property_name: str
) -> None:
    [error] = errors_of(Problem(path, "x", Reason.INVALID))
    assert error["property"] == property_name


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        (Reason.REQUIRED, "Value is required"),
        (Reason.INVALID, "Value is not valid"),
        (Reason.TOO_LONG, "Value is too long"),
        (Reason.NOT_AN_EMAIL, "Value is not a valid email address"),
    ],
)
def test_messages_are_short_and_in_help_scouts_style(reason: Reason, message: str) -> None:
    [error] = errors_of(Problem(("emails", "value"), "x", reason))
    assert error["message"] == message


@pytest.mark.parametrize(
    ("collection", "noun"),
    [("emails", "email"), ("phones", "phone"), ("chats", "chat"), ("websites", "website")],
)
def test_an_unknown_entry_id_is_the_specified_thing_is_not_valid(
    collection: str, noun: str
) -> None:
    """Spec §10.3: {"property":"emails:id","value":"<id>","message":"The specified email is not
    valid"}; a removal shows the negative id it was sent as."""
    assert errors_of(
        Problem((collection, "id"), 1234, Reason.UNKNOWN_ENTRY),
        Problem((collection, "id"), -1234, Reason.UNKNOWN_ENTRY),
    ) == [
        {
            "property": f"{collection}:id",
            "value": "1234",
            "message": f"The specified {noun} is not valid",
        },
        {
            "property": f"{collection}:id",
            "value": "-1234",
            "message": f"The specified {noun} is not valid",
        },
    ]


def test_an_unknown_social_profile_id_names_its_own_property() -> None:
    [error] = errors_of(Problem(("social_profiles", "id"), -41, Reason.UNKNOWN_ENTRY))
    assert (error["property"], error["value"]) == ("socialProfiles:id", "-41")
    assert error["message"].startswith("The specified ") and error["message"].endswith(
        " is not valid"
    )


def test_an_unknown_address_id_is_the_specified_address_is_not_valid() -> None:
    """Spec §10.5."""
    assert errors_of(Problem(("address", "id"), 99, Reason.UNKNOWN_ENTRY)) == [
        {"property": "address:id", "value": "99", "message": "The specified address is not valid"}
    ]


def test_every_problem_is_listed_in_the_order_found() -> None:
    found = errors_of(
        Problem(("first_name",), None, Reason.REQUIRED),
        Problem(("address", "postal_code"), None, Reason.REQUIRED),
        Problem(("emails", "value"), "Ann@Example.com", Reason.DUPLICATE_ENTRY),
    )
    assert [(e["property"], e["value"]) for e in found] == [
        ("firstName", None),
        ("address:postalCode", None),
        ("emails:value", "Ann@Example.com"),
    ]
    assert found[2]["message"].startswith("Value ")


def test_error_bodies_always_have_code_and_a_string_error() -> None:
    assert wire.error_body(404, wire.NOT_FOUND) == {
        "code": 404,
        "error": "The requested resource was not found.",
    }
    assert wire.route_not_found("/v1/mailboxes.json") == (
        "The specified resource was not found: '/v1/mailboxes.json'"
    )
    assert wire.rate_limited_body() == {
        "code": 429,
        "error": "API rate limit exceeded",
        "message": "API rate limit exceeded",
    }
