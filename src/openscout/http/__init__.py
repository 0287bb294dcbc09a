"""The HTTP side: an ASGI app (Starlette) around the service layer."""

from starlette.convertors import Convertor, register_url_convertor


class IdConvertor(Convertor[int]):
    """An id in a path (`{customer_id:id}`): digits, read as a number. Digits too many for any
    id read as a number past every id, so that the answer is a plain 404: Python would refuse
    to read more than 4,300 of them at all (a 500)."""

    regex = "[0-9]+"

    def convert(self, value: str) -> int:
        digits = value.lstrip("0") or "0"
        return int(digits) if len(digits) <= 18 else 10**18

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())
