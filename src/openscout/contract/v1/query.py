"""v1 query strings → domain searches: the list filters (spec §9.1), the search parameters and
the search query language (§9.6), read into `openscout.domain.search` objects; and the field
selector of reads (§5, `fields`), read by `openscout.contract.v1.fields`.

The query language is Lucene-like. Its grammar is below; a term is a value, optionally behind a
field name and a colon:

    john                        a word of a first name, last name or email address
    john@appleseed.com          a bare or quoted email address: customers having it
    "John Smith"                a whole first, last or full name (case-insensitive)
    firstName:"John"            a whole field value;  firstName:john  a word of it
    id:123                      a customer id
    modifiedAt:[2017-01-01T00:00:00Z TO *]   an inclusive range; {…} excludes the bound
    modifiedSince:"2013-11-20T00:00:00Z"      modified at or after
    a AND b, a b, a OR b, NOT a, (…)          NOT binds tighter than AND, AND than OR
    *                           every customer

What openscout decided where v1 is silent is in docs/list-and-search.md.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from lark import Lark, Token, Tree, UnexpectedCharacters, UnexpectedInput
from lark import UnexpectedToken as LarkUnexpectedToken

from openscout.contract.v1 import fields as field_selectors
from openscout.contract.v1 import wire
from openscout.contract.v1.fields import Selector
from openscout.domain.errors import Invalid, Problem, Reason, UnreadableQuery
from openscout.domain.search import (
    EVERYTHING,
    MOMENT_FIELDS,
    NEWEST_FIRST,
    NOTHING,
    RANGE_FIELDS,
    And,
    Contains,
    Criteria,
    Field,
    Match,
    Not,
    Range,
    Search,
    Sort,
    Word,
    all_of,
    any_of,
    comparisons,
    folded,
    words,
)

#: Longer queries, more deeply nested ones or ones with more conditions are refused: each
#: condition becomes part of one SQL statement, and databases bound how big one may be. A
#: condition is one comparison (`domain.search.comparisons`): a bare word is three (first name,
#: last name, email), a quoted name three plus one per word (its full name can be split at
#: every space).
MAX_QUERY_LENGTH: Final = 2000
MAX_NESTING: Final = 32
MAX_CONDITIONS: Final = 200

_GRAMMAR: Final = r"""
?start: expr?
?expr: or_expr
?or_expr: and_expr (OR and_expr)*
?and_expr: unary (AND? unary)*
?unary: NOT unary -> negated
      | atom
?atom: LPAR expr RPAR -> group
     | term
term: FIELD (QUOTED | VALUE | range)
    | QUOTED
    | WORD
range: OPEN bound TO bound CLOSE
bound: BOUND | QUOTED

// A field is a name glued to its colon; after it, a value may hold colons (timestamps).
FIELD.2: /[A-Za-z_][A-Za-z0-9_]*:/
QUOTED: /"(?:[^"\\]|\\.)*"/
WORD: /(?:[^\s()\[\]{}"\\:]|\\.)+/
VALUE: /(?:[^\s()\[\]{}"\\]|\\.)+/
BOUND: /[^\s\[\]{}()"]+/
AND: "AND"
OR: "OR"
NOT: "NOT"
TO: "TO"
LPAR: "("
RPAR: ")"
OPEN: "[" | "{"
CLOSE: "]" | "}"
%import common.WS
%ignore WS
"""

_OPERATORS: Final = frozenset({"AND", "OR", "NOT"})

#: Fields that name the customer's text, for a term without a field: names and emails (§9.6).
_FREE_TEXT_WORDS: Final = (Field.FIRST_NAME, Field.LAST_NAME, Field.EMAIL)
_FREE_TEXT_NAMES: Final = (Field.FIRST_NAME, Field.LAST_NAME, Field.FULL_NAME)


# --- list and search parameters ------------------------------------------------------------


def list_search(params: Mapping[str, str]) -> Search:
    """The parameters of L1 (§9.1): filters that must all match, newest first, 50 a page.

    `firstName`, `lastName` and `email` match a whole value, ignoring case (an email: any of the
    customer's addresses); `modifiedSince` is inclusive. A blank parameter counts as absent.
    Raises `Invalid` listing every bad value.
    """
    problems: list[Problem] = []
    page = read_page(params, problems)
    field_selectors.read(params, problems)
    criteria: list[Criteria] = []
    for name, field in wire.LIST_FILTERS.items():
        value = given(params, name)
        if value is not None:
            criteria.append(Match(field, value))
    since = given(params, wire.MODIFIED_SINCE)
    if since is not None:
        moment = wire.parse_timestamp(since)
        if moment is None:
            problems.append(Problem((wire.MODIFIED_SINCE,), since, Reason.INVALID))
        else:
            criteria.append(Range(Field.MODIFIED_AT, low=moment))
    if problems:
        raise Invalid(problems)
    return Search(And(tuple(criteria)), NEWEST_FIRST, page, wire.PAGE_SIZE)


def mailbox_page(params: Mapping[str, str]) -> int:
    """The page asked of L2 (§9.2), which has no filters. Raises `Invalid` for a bad page."""
    problems: list[Problem] = []
    page = read_page(params, problems)
    field_selectors.read(params, problems)
    if problems:
        raise Invalid(problems)
    return page


def search(params: Mapping[str, str]) -> Search:
    """The parameters of S (§9.6). Raises `Invalid` for bad parameter values, then
    `UnreadableQuery` for a query that cannot be read."""
    problems: list[Problem] = []
    page = read_page(params, problems)
    field_selectors.read(params, problems)
    page_size = wire.PAGE_SIZE
    raw_size = given(params, wire.PAGE_SIZE_PARAMETER)
    if raw_size is not None:
        size = whole_number(raw_size)
        if size == 0:
            page_size = wire.PAGE_SIZE  # documented as 0-50; 0 means the default (§9.6)
        elif size is None or not 0 < size <= wire.PAGE_SIZE:
            problems.append(Problem((wire.PAGE_SIZE_PARAMETER,), raw_size, Reason.INVALID))
        else:
            page_size = size
    sort = read_sort(params, problems)
    if problems:
        raise Invalid(problems)
    criteria = parse(params.get(wire.QUERY_PARAMETER) or "")
    return Search(criteria, sort, page, page_size)


def read_sort(params: Mapping[str, str], problems: list[Problem]) -> Sort:
    """`sortField` and `sortOrder` (§9.6); bad values are added to `problems`."""
    raw_field = given(params, wire.SORT_FIELD)
    raw_order = given(params, wire.SORT_ORDER)
    key = wire.SORT_FIELDS.get(raw_field.casefold()) if raw_field else None
    descending = wire.SORT_ORDERS.get(raw_order.casefold()) if raw_order else True
    if raw_field is not None and raw_field.casefold() not in wire.SORT_FIELDS:
        problems.append(Problem((wire.SORT_FIELD,), raw_field, Reason.INVALID))
    if descending is None:
        problems.append(Problem((wire.SORT_ORDER,), raw_order, Reason.INVALID))
    elif key is not None:  # `score`: every score ties without ranking; newest first (§9.6)
        return Sort(key, descending)
    return NEWEST_FIRST


def fields(params: Mapping[str, str]) -> Selector | None:
    """The field selector of G, L1, L2 or S (§5), None without one. Raises `Invalid` for one
    that cannot be read (the readers above report it with the other parameters' problems)."""
    problems: list[Problem] = []
    selector = field_selectors.read(params, problems)
    if problems:
        raise Invalid(problems)
    return selector


def given(params: Mapping[str, str], name: str) -> str | None:
    """A parameter's value without surrounding spaces; None when absent or blank."""
    value = params.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def read_page(params: Mapping[str, str], problems: list[Problem]) -> int:
    """`page`: a positive whole number, 1 when absent. The spec would read a bad page as 1;
    openscout refuses it (docs/list-and-search.md): the problem is added to `problems`."""
    raw = given(params, wire.PAGE_PARAMETER)
    if raw is None:
        return 1
    page = whole_number(raw)
    if page is None or not 0 < page <= wire.MAX_PAGE:
        problems.append(Problem((wire.PAGE_PARAMETER,), raw, Reason.INVALID))
        return 1
    return page


def whole_number(text: str) -> int | None:
    """A whole number written with ASCII digits and an optional sign, nothing else."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return None
    return int(text)


# --- the query language ---------------------------------------------------------------------


def parse(query: str, *, containing: frozenset[Field] = frozenset()) -> Criteria:
    """The criteria a v1 search query asks for (§9.6); a blank query or `*` means everyone.

    `containing` names the fields whose `field:value` terms match any value containing the
    text (`Contains`) rather than a whole value or a word: v2 reads `email:` so (v2 spec §4).
    Raises `UnreadableQuery` naming the position (1-based) where reading failed and why.
    """
    if len(query) > MAX_QUERY_LENGTH:
        raise UnreadableQuery(MAX_QUERY_LENGTH + 1, wire.QUERY_TOO_LONG.format(MAX_QUERY_LENGTH))
    try:
        tree = _parser().parse(query)
    except UnexpectedInput as error:
        raise _syntax_error(query, error) from None
    reader = _Reader(query, containing)
    criteria = reader.criteria(tree, depth=0)
    if reader.conditions > MAX_CONDITIONS:
        raise UnreadableQuery(1, wire.QUERY_TOO_COMPLEX.format(MAX_CONDITIONS))
    return criteria


@functools.cache
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", propagate_positions=False, maybe_placeholders=False)


def _syntax_error(query: str, error: UnexpectedInput) -> UnreadableQuery:
    if isinstance(error, UnexpectedCharacters):
        at = error.pos_in_stream or 0
        position, found = at + 1, query[at : at + 1]
        if found == '"':
            return UnreadableQuery(position, wire.QUERY_UNCLOSED_QUOTE)
        return UnreadableQuery(position, wire.QUERY_UNEXPECTED.format(found))
    if isinstance(error, LarkUnexpectedToken) and error.token.type != "$END":
        token: Token = error.token
        return UnreadableQuery(
            (token.start_pos or 0) + 1, wire.QUERY_UNEXPECTED.format(token.value)
        )
    expected = set(getattr(error, "expected", ()) or ())
    if expected == {"RPAR"}:
        return UnreadableQuery(len(query) + 1, wire.QUERY_UNCLOSED_GROUP)
    if expected and expected <= {"BOUND", "QUOTED", "TO", "CLOSE"}:
        return UnreadableQuery(len(query) + 1, wire.QUERY_UNCLOSED_RANGE)
    return UnreadableQuery(len(query) + 1, wire.QUERY_ENDS_EARLY)


class _Reader:
    """Turns a parse tree into criteria, checking what the grammar cannot (fields, values)."""

    def __init__(self, query: str, containing: frozenset[Field]) -> None:
        self.query = query
        self.containing = containing
        self.conditions = 0

    def criteria(self, node: Tree[Token] | Token, depth: int) -> Criteria:
        if isinstance(node, Token):  # pragma: no cover - the grammar wraps every token
            raise _at(node, wire.QUERY_UNEXPECTED.format(node.value))
        if depth > MAX_NESTING:
            raise _at(_first_token(node), wire.QUERY_TOO_DEEP.format(MAX_NESTING))
        match node.data:
            case "start":
                return EVERYTHING
            case "or_expr":
                return any_of([self.criteria(child, depth + 1) for child in _operands(node)])
            case "and_expr":
                return all_of([self.criteria(child, depth + 1) for child in _operands(node)])
            case "negated":
                return Not(self.criteria(node.children[1], depth + 1))
            case "group":
                return self.criteria(node.children[1], depth + 1)
            case "term":
                return self.term(node)
        raise AssertionError(f"unknown rule {node.data}")  # pragma: no cover

    def term(self, node: Tree[Token]) -> Criteria:
        first = node.children[0]
        if isinstance(first, Token) and first.type == "FIELD":
            return self.fielded(first, node.children[1])
        assert isinstance(first, Token)
        if first.type == "WORD" and first.value in _OPERATORS:
            raise _at(first, wire.QUERY_UNEXPECTED.format(first.value))
        text = _text(first)
        if first.type == "WORD" and text == "*":
            return EVERYTHING
        if _is_email(text):
            return self.count(Match(Field.EMAIL, text))
        if first.type == "QUOTED":
            return any_of([self.count(Match(field, text)) for field in _FREE_TEXT_NAMES])
        return self.words(first, text, _FREE_TEXT_WORDS)

    def fielded(self, name_token: Token, value: Tree[Token] | Token) -> Criteria:
        name = name_token.value[:-1]
        known = wire.QUERY_FIELDS.get(name.casefold())
        if known is None and name.casefold() != wire.MODIFIED_SINCE.casefold():
            raise _at(name_token, wire.QUERY_UNKNOWN_FIELD.format(name))
        if isinstance(value, Tree):  # a range
            if known not in RANGE_FIELDS:
                raise _at(name_token, wire.QUERY_NO_RANGE.format(name))
            return self.range(known, value)
        if known is None:  # modifiedSince:"…" (§9.6)
            return self.count(Range(Field.MODIFIED_AT, low=self.moment(value)))
        if known is Field.ID:
            return self.count(Match(known, self.number(value)))
        if known in MOMENT_FIELDS:
            return self.count(Match(known, self.moment(value)))
        text = _text(value)
        if "*" in text and value.type != "QUOTED":
            raise _at(value, wire.QUERY_NO_WILDCARDS)
        if known is Field.EMAIL_DOMAIN:
            return self.count(Match(known, text.lstrip("@")))
        if known in self.containing:
            if not folded(text):
                raise _at(value, wire.QUERY_NOTHING_TO_SEARCH.format(text))
            return self.count(Contains(known, folded(text)))
        if value.type == "QUOTED" or (known is Field.EMAIL and _is_email(text)):
            return self.count(Match(known, text))
        return self.words(value, text, (known,))

    def words(self, token: Token, text: str, fields: tuple[Field, ...]) -> Criteria:
        """Every word of `text` is a word of one of `fields`. A NUL is not a space between
        words: no stored text holds one (bodies with NUL are refused), so a term holding one
        matches nothing, as a quoted value or a list filter holding one does."""
        if "*" in text:
            raise _at(token, wire.QUERY_NO_WILDCARDS)
        if "\x00" in text:
            self.conditions += 1
            return NOTHING
        found = words(text)
        if not found:
            raise _at(token, wire.QUERY_NOTHING_TO_SEARCH.format(text))
        return all_of(
            [any_of([self.count(Word(field, word)) for field in fields]) for word in found]
        )

    def range(self, field: Field, node: Tree[Token]) -> Criteria:
        opening, low, _to, high, closing = node.children
        assert isinstance(opening, Token) and isinstance(closing, Token)
        bounds: list[int | datetime | None] = []
        for bound in (low, high):
            assert isinstance(bound, Tree)
            token = bound.children[0]
            assert isinstance(token, Token)
            if token.type == "BOUND" and token.value == "*":
                bounds.append(None)
            elif field is Field.ID:
                bounds.append(self.number(token))
            else:
                bounds.append(self.moment(token))
        return self.count(
            Range(
                field,
                bounds[0],
                bounds[1],
                include_low=opening.value == "[",
                include_high=closing.value == "]",
            )
        )

    def number(self, token: Token) -> int:
        number = whole_number(_text(token))
        if number is None:
            raise _at(token, wire.QUERY_NOT_A_NUMBER.format(_text(token)))
        return number

    def moment(self, token: Token) -> datetime:
        moment = wire.parse_timestamp(_text(token))
        if moment is None:
            raise _at(token, wire.QUERY_NOT_A_MOMENT.format(_text(token)))
        return moment

    def count(self, criterion: Match | Word | Contains | Range) -> Criteria:
        self.conditions += comparisons(criterion)
        return criterion


def _operands(node: Tree[Token]) -> list[Tree[Token] | Token]:
    return [c for c in node.children if not (isinstance(c, Token) and c.type in _OPERATORS)]


def _first_token(node: Tree[Token] | Token) -> Token:
    while isinstance(node, Tree):
        node = node.children[0]
    return node


def _at(token: Token, detail: str) -> UnreadableQuery:
    return UnreadableQuery((token.start_pos or 0) + 1, detail)


def _text(token: Token) -> str:
    """A token's value with quotes and backslash escapes removed."""
    value: str = token.value
    if token.type == "QUOTED":
        value = value[1:-1]
    if "\\" not in value:
        return value
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)


def _is_email(text: str) -> bool:
    """Enough of an address to be looked up as one: something on both sides of one `@`."""
    local, at, domain = text.strip().rpartition("@")
    return bool(at and local and domain) and not any(c.isspace() for c in text.strip())
