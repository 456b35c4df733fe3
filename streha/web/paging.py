"""Page numbers asked for by a request: one rule for every paged list."""

# Far beyond any list (25,000,000 rows at 25 a page), far below the numbers whose LIMIT or
# OFFSET overflows a 64-bit integer: ``?page=10723151780598845931`` was a server error.
MAX_PAGE = 1_000_000


def page_number(page, *, last: int = MAX_PAGE) -> int:
    """The page asked for, a whole number from 1 to ``last``; anything else (missing, not a
    number, below 1) is the first page, and a larger number is ``last``."""
    try:
        number = int(page)
    except (TypeError, ValueError):
        return 1
    return min(max(number, 1), last)
