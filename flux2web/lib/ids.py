"""Reading row ids out of request data: whatever a client sends, never a 500."""

MAX_DIGITS = 18  # a 64-bit key has 19; anything longer cannot name a row


def parse_id(value) -> int | None:
    value = str(value or "")
    ok = value.isascii() and value.isdigit() and len(value) <= MAX_DIGITS
    return int(value) if ok else None


def parse_ids(values) -> list[int]:
    return [i for i in (parse_id(v) for v in values) if i is not None]
