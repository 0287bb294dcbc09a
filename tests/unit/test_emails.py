"""The email rules of openscout.domain.emails: which values are addresses, and when two are the
same address (docs/decisions/email-uniqueness.md)."""

from __future__ import annotations

import pytest

from openscout.domain import emails
from openscout.domain.customers import Collection


@pytest.mark.parametrize(
    "address",
    [
        "ann@example.com",
        "ANN+tag@Example.co.uk",
        "o'brien@mail.example",
        "a@b.c",
        "straße@bücher.de",
        "émile@xn--bcher-kva.de",
        "\u212aelvin@x.com",
        "用户@例子.广告",
    ],
)
def test_addresses(address: str) -> None:
    assert emails.is_address(address)


@pytest.mark.parametrize(
    "text",
    [
        "ann@x.com.",  # a trailing dot: the same host in DNS, but not how mail is addressed
        "ann@.x.com",
        "ann@x..com",
        "ann@x\u200b.com",  # zero-width space
        "ann\u00ad@x.com",  # soft hyphen
        "ann\u200d@x.com",  # zero-width joiner
        "\ufeffann@x.com",  # byte order mark
        "ann@x.com\u200e",  # left-to-right mark
        "ann\x07@x.com",  # a control character
        "ann\x85@x.com",  # next line: white space and a control
        "ann\u00a0@x.com",  # no-break space
        "nope",
        "@example.com",
        "ann@",
        "ann@localhost",
        "a@b@c.com",
    ],
    ids=repr,
)
def test_not_addresses(text: str) -> None:
    assert not emails.is_address(text)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("ann@example.com", "ANN@Example.COM"),
        ("émile@x.com", "ÉMILE@X.com"),
        ("жанна@x.ru", "ЖАННА@x.ru"),
        ("straße@x.de", "STRAẞE@x.de"),  # capital sharp s lower-cases to ß
        ("ann@straße.de", "ann@xn--strae-oqa.de"),  # a domain and its IDNA form
        ("ann@straße.de", "ann@XN--STRAE-OQA.DE"),
        ("ann@ex.com", "ann@\uff25\uff38.com"),  # full-width letters in a domain (NFKC)
        ("ann@\u212a.com", "ann@k.com"),  # the Kelvin sign in a domain is k (NFKC)
        ("οδος@x.gr", "ΟΔΟΣ@x.gr"),  # final sigma
    ],
)
def test_the_same_address(one: str, other: str) -> None:
    assert emails.key(one) == emails.key(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("straße@x.de", "strasse@x.de"),  # case folding would make them one
        ("\u212aelvin@x.com", "kelvin@x.com"),  # and these
        ("\u212aelvin@x.com", "Kelvin@x.com"),
        ("\u2126mega@x.com", "ωmega@x.com"),  # the Ohm sign is not omega
        ("ann@straße.de", "ann@strasse.de"),  # different domains under IDNA 2008
        ("ann@x.com", "ann@x.com."),
        ("ann.lee@x.com", "annlee@x.com"),  # dots are the mail host's business
        ("ann+a@x.com", "ann@x.com"),
    ],
)
def test_different_addresses(one: str, other: str) -> None:
    assert emails.key(one) != emails.key(other)


@pytest.mark.parametrize(
    "address", ["Ann.Lee+Tag@Example.COM", "O'BRIEN@MAIL.EXAMPLE", "x@Y.Z", "no-at-sign", ""]
)
def test_ascii_keys_are_lower_case_as_before(address: str) -> None:
    """Stored keys of plain ASCII addresses do not change (the old rule was `casefold`)."""
    assert emails.key(address) == address.lower() == address.casefold()


@pytest.mark.parametrize(
    "text",
    [
        "ann\u200b@x\u200b.com",
        "ann@x.com.",
        "@",
        "\uff41\uff4e\uff4e",
        "ann@",
        "@straße",
        "İ@x.com",
    ],
)
def test_any_text_has_a_key(text: str) -> None:
    """Stored values from before the rules tightened, and search terms, need keys too."""
    assert isinstance(emails.key(text), str)


def test_the_email_collection_compares_by_this_key_and_others_exactly() -> None:
    assert Collection.EMAILS.key("ANN@straße.DE") == "ann@xn--strae-oqa.de"
    assert Collection.PHONES.key("\uff21\uff22\uff23") == "\uff21\uff22\uff23"
