"""v1 field selectors (spec §5): `fields=id,firstName,emails:(value)` trims each returned object
to the named keys, a name followed by `:(…)` trims the objects under that key the same way.

Envelope keys (`item`, `page`, `pages`, `count`, `items`) always stay; names the shape does not
have are dropped without a word (spec §5 [I]); a selector that cannot be read at all is a 400
like any bad parameter value (docs/list-and-search.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from openscout.domain.errors import Problem, Reason

#: The query parameter (spec §5, §9.1, §9.3).
PARAMETER: Final = "fields"

#: Key name → None for the whole value, or the selector for the objects under that key.
Selector: TypeAlias = Mapping[str, "Selector | None"]

# A name is anything up to the next delimiter: names the shapes do not have are dropped, so a
# name need not look like one.
_TOKEN: Final = re.compile(r"\s*([(),:]|[^\s(),:]+)")
_DELIMITERS: Final = frozenset("(),:")


class Unreadable(ValueError):
    """A selector that does not follow `name[:(selector)][,name…]`."""


def read(params: Mapping[str, str], problems: list[Problem]) -> Selector | None:
    """The selector of a request, None when `fields` is absent or blank; a selector that
    cannot be read is added to `problems` (and None returned)."""
    raw = params.get(PARAMETER)
    if raw is None or not raw.strip():
        return None
    try:
        return parse(raw)
    except Unreadable:
        problems.append(Problem((PARAMETER,), raw, Reason.INVALID))
        return None


def parse(text: str) -> Selector:
    """`id,emails:(value,location)` → {"id": None, "emails": {"value": None, "location": None}}.

    White space around names and delimiters is ignored. A name given both whole and with a
    nested selector is taken whole; nested selectors of one name are merged. Raises
    `Unreadable` for an empty name (`a,,b`, `a,`), an empty or unclosed group, a `:` not
    followed by `(`, or anything after the end."""
    root: dict[str, Any] = {}
    stack = [root]
    name: str | None = None
    expect = "name"  # what may come next: name, after-name, group, after-group
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:  # pragma: no cover - every character is a delimiter or in a name
            raise Unreadable(text)
        token = match.group(1)
        position = match.end()
        if expect == "name":
            if token in _DELIMITERS:
                raise Unreadable(text)
            name, expect = token, "after-name"
        elif expect == "after-name" and token == ":":
            expect = "group"
        elif expect == "group" and token == "(":
            assert name is not None
            nested = stack[-1].setdefault(name, {})
            stack.append({} if nested is None else nested)  # taken whole already: read, drop
            expect = "name"
        elif expect in ("after-name", "after-group") and token in ",)":
            if expect == "after-name":
                assert name is not None
                stack[-1][name] = None
            if token == ")":
                if len(stack) == 1:
                    raise Unreadable(text)
                stack.pop()
                expect = "after-group"
            else:
                expect = "name"
        else:
            raise Unreadable(text)
    if len(stack) != 1 or expect not in ("after-name", "after-group"):
        raise Unreadable(text)
    if expect == "after-name":
        assert name is not None
        root[name] = None
    return root


def select(body: Mapping[str, Any], selector: Selector) -> dict[str, Any]:
    """The keys of `body` that `selector` names, in the body's order; objects under a key with
    a nested selector (one object, or a list of them) are trimmed by it, other values kept."""
    return {key: _pick(value, selector[key]) for key, value in body.items() if key in selector}


def _pick(value: Any, nested: Selector | None) -> Any:
    if nested is None:
        return value
    if isinstance(value, Mapping):
        return select(value, nested)
    if isinstance(value, list):
        return [select(v, nested) if isinstance(v, Mapping) else v for v in value]
    return value
