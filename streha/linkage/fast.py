"""Scoring a few pairs with a stored model in plain Python, for the check at registration.

Why: starting DuckDB and Splink's SQL for every registration costs seconds, and the check runs
while someone waits. A Fellegi-Sunter model is only a table of comparison levels with their
m/u probabilities, so scoring the few candidates the blocking keys found is a loop over that
table. Nothing here is a second model: ``Compiled`` reads the stored Splink JSON through
Splink's own settings parser (match weights, term-frequency rules, the level order) and turns
each level's SQL condition into a Python predicate with sqlglot, which Splink itself uses to
parse its SQL. ``tests/test_fast.py`` checks the result against Splink's own scoring of the
same pairs, so the fast path cannot drift from the model.

Also here: the registration blocking keys (the plaintext keys, before ``services`` turns them
into blind indexes), one per blocking rule of ``engine.blocking_rules``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

# --- String similarity, as DuckDB computes it ---------------------------------------------------


def jaro_winkler(a: str, b: str) -> float:
    """DuckDB's ``jaro_winkler_similarity`` (prefix scale 0.1, up to 4 letters, applied
    above 0.7)."""
    if a == b:
        return 1.0 if a else 0.0
    la, lb = len(a), len(b)
    if not la or not lb:
        return 0.0
    window = max(0, max(la, lb) // 2 - 1)
    taken_b = [False] * lb
    matched_a = []
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(lb, i + window + 1)):
            if not taken_b[j] and b[j] == char:
                taken_b[j] = True
                matched_a.append(char)
                break
    matches = len(matched_a)
    if not matches:
        return 0.0
    matched_b = [b[j] for j in range(lb) if taken_b[j]]
    transpositions = sum(x != y for x, y in zip(matched_a, matched_b, strict=True)) // 2
    jaro = (matches / la + matches / lb + (matches - transpositions) / matches) / 3
    if jaro <= 0.7:
        return jaro
    prefix = 0
    for x, y in zip(a[:4], b[:4], strict=False):
        if x != y:
            break
        prefix += 1
    return jaro + prefix * 0.1 * (1 - jaro)


def damerau_levenshtein(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    if a == b:
        return 0
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]


# --- Level conditions: Splink's SQL as Python predicates ----------------------------------------

Record = dict  # the model's columns (``engine.COLUMNS``) of one person
Predicate = Callable[[Record, Record], object]


def _left(text: str, count) -> str:
    return text[: max(0, int(count))]


def _right(text: str, count) -> str:
    count = int(count)
    return text[-count:] if count > 0 else ""


FUNCTIONS = {
    "jarowinklersimilarity": jaro_winkler,
    "jaro_winkler_similarity": jaro_winkler,
    "damerau_levenshtein": damerau_levenshtein,
    # The cheap guard before a distance (``engine.near_sql``); DuckDB counts characters.
    "length": len,
    "left": _left,
    "right": _right,
}


class UnsupportedCondition(ValueError):
    """A level condition this module cannot evaluate (then the check uses Splink instead)."""


def compile_condition(sql: str) -> Predicate:
    """A function of (left record, right record) giving the condition's SQL value: True, False
    or None (SQL's unknown, e.g. a comparison with a missing value)."""
    import sqlglot
    from sqlglot import exp

    comparisons = _comparisons()

    def build(node) -> Predicate:
        if isinstance(node, exp.Paren):
            return build(node.this)
        if isinstance(node, exp.Column):
            name = node.name
            side, column = name[-1], name[:-2]
            if name[-2:] not in ("_l", "_r"):
                raise UnsupportedCondition(name)
            if side == "l":
                return lambda left, right: left.get(column)
            return lambda left, right: right.get(column)
        if isinstance(node, exp.Literal):
            value = node.this if node.is_string else float(node.this)
            return lambda left, right: value
        if isinstance(node, exp.Null):
            return lambda left, right: None
        if isinstance(node, exp.And):
            a, b = build(node.this), build(node.expression)
            return lambda left, right: _and(a(left, right), b(left, right))
        if isinstance(node, exp.Or):
            a, b = build(node.this), build(node.expression)
            return lambda left, right: _or(a(left, right), b(left, right))
        if isinstance(node, exp.Not):
            a = build(node.this)
            return lambda left, right: None if (v := a(left, right)) is None else not v
        if isinstance(node, exp.Is) and isinstance(node.expression, exp.Null):
            a = build(node.this)
            return lambda left, right: a(left, right) is None
        compare = comparisons.get(type(node))
        if compare is not None:
            a, b = build(node.this), build(node.expression)
            return lambda left, right: _compare(compare, a(left, right), b(left, right))
        if isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.key).lower()
            function = FUNCTIONS.get(name)
            if function is None:
                raise UnsupportedCondition(name)
            if isinstance(node, exp.Anonymous):
                arguments = [build(a) for a in node.expressions]
            else:
                arguments = [build(node.this)]
                if node.args.get("expression") is not None:
                    arguments.append(build(node.expression))
            return lambda left, right: _call(function, [a(left, right) for a in arguments])
        raise UnsupportedCondition(type(node).__name__)

    return build(sqlglot.parse_one(sql, read="duckdb"))


def _and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return bool(a) and bool(b)


def _or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return bool(a) or bool(b)


def _compare(operator, a, b):
    if a is None or b is None:
        return None
    return operator(a, b)


def _call(function, arguments):
    if any(a is None for a in arguments):
        return None
    return function(*arguments)


def _comparisons():
    import operator

    from sqlglot import exp

    return {
        exp.EQ: operator.eq,
        exp.NEQ: operator.ne,
        exp.GT: operator.gt,
        exp.GTE: operator.ge,
        exp.LT: operator.lt,
        exp.LTE: operator.le,
    }


# --- The compiled model -------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    predicate: Predicate | None  # None: the ELSE level
    weight: float  # log2 of the Bayes factor (0 for the null level)
    tf_column: str | None = None
    tf_weight: float = 0.0
    tf_log2_u_exact: float = 0.0
    tf_minimum_u: float = 0.0


@dataclass(frozen=True)
class Comparison:
    name: str  # Splink's output column name (``engine.OUTPUT_NAMES``)
    levels: tuple[Level, ...]


class Compiled:
    """A stored model (Splink's JSON) made ready to score pairs in Python.

    ``frequency(column, value)`` gives a value's term frequency (share of the persons with a
    value in that column), as Splink computes it from the data it predicts on; the caller
    reads it from ``NameFrequency`` (``services``)."""

    def __init__(self, model: dict):
        from splink.internals.settings_creator import SettingsCreator

        parsed = SettingsCreator.from_path_or_dict(model).get_settings("duckdb")
        prior = parsed._probability_two_random_records_match
        self.prior = math.log2(prior / (1 - prior))
        comparisons = []
        for comparison in parsed.comparisons:
            levels = []
            for level in comparison.comparison_levels:
                predicate = None if level._is_else_level else compile_condition(level.sql_condition)
                weight = 0.0 if level.is_null_level else float(level._log2_bayes_factor)
                tf = {}
                if (
                    level._has_tf_adjustments
                    and level._tf_adjustment_weight
                    and not level._is_else_level
                    and not level.is_null_level
                ):
                    u_exact = level._u_probability_corresponding_to_exact_match(
                        comparison.comparison_levels
                    )
                    tf = {
                        "tf_column": level._tf_adjustment_input_column.input_name,
                        "tf_weight": float(level._tf_adjustment_weight),
                        "tf_log2_u_exact": math.log2(u_exact),
                        "tf_minimum_u": float(level._tf_minimum_u_value),
                    }
                levels.append(Level(predicate=predicate, weight=weight, **tf))
            comparisons.append(Comparison(comparison.output_column_name, tuple(levels)))
        self.comparisons = tuple(comparisons)

    def tf_columns(self) -> set[str]:
        return {level.tf_column for c in self.comparisons for level in c.levels if level.tf_column}

    def score(self, left: Record, right: Record, frequency=None) -> tuple[float, float, dict]:
        """(match probability, match weight, {comparison: weight}) of one pair; the vector's
        weights include the term-frequency adjustment, like ``engine.comparison_vector``."""
        total = self.prior
        vector = {}
        for comparison in self.comparisons:
            chosen = comparison.levels[-1]
            for level in comparison.levels:
                if level.predicate is None or level.predicate(left, right) is True:
                    chosen = level
                    break
            weight = chosen.weight
            if chosen.tf_column and frequency is not None:
                weight += self._tf_adjustment(chosen, left, right, frequency)
            vector[comparison.name] = weight
            total += weight
        probability = 1.0 / (1.0 + 2.0 ** (-total)) if total > -1000 else 0.0
        return probability, total, vector

    @staticmethod
    def _tf_adjustment(level: Level, left: Record, right: Record, frequency) -> float:
        column = level.tf_column
        tf_l = frequency(column, left.get(column))
        tf_r = frequency(column, right.get(column))
        if tf_l is None and tf_r is None:
            return 0.0
        value = max(tf_l if tf_l is not None else tf_r, tf_r if tf_r is not None else tf_l)
        value = max(value, level.tf_minimum_u)
        return level.tf_weight * (level.tf_log2_u_exact - math.log2(value))


# --- Blocking keys for the check at registration ------------------------------------------------

# One stored key per blocking rule of ``engine.blocking_rules``. The swapped-names rules need
# no key of their own: the new person probes with its names swapped. "initials_sex" and
# "ends_sex" are stored only for persons without a year of birth, as the rules ask of one
# side (one key for the two rules each, "the left has no year" and "the right has none").
KEY_KINDS = (
    "names",
    "dob",
    "personal_number",
    "passport_number",
    "phone_number",
    "family_year_initial",
    "given_year_initial",
    "initials_year",
    "initials_sex",
    "ends_year",
    "ends_sex",
)


def _joined(*values) -> str | None:
    if any(not v for v in values):
        return None
    return "\x1f".join(values)


def stored_keys(row: Record) -> list[tuple[str, str]]:
    """(kind, plaintext key) pairs a person is found by, from the model's columns."""
    given, family = row.get("given_name"), row.get("family_name")
    year, sex = row.get("birth_year"), row.get("sex")
    keys = [
        ("names", _joined(given, family)),
        ("dob", _joined(row.get("dob"))),
        ("personal_number", _joined(row.get("personal_number"))),
        ("passport_number", _joined(row.get("passport_number"))),
        ("phone_number", _joined(row.get("phone_number"))),
        ("family_year_initial", _joined(family, year, (given or "")[:1])),
        ("given_year_initial", _joined(given, year, (family or "")[:1])),
        ("initials_year", _joined((given or "")[:2], (family or "")[:2], year)),
        ("ends_year", _joined(_ends(given), _ends(family), year)),
    ]
    if not year:
        keys.append(("initials_sex", _joined((given or "")[:2], (family or "")[:2], sex)))
        keys.append(("ends_sex", _joined(_ends(given), _ends(family), sex)))
    return [(kind, text) for kind, text in keys if text]


def _ends(name: str | None) -> str:
    """A name's first and last letters (``given_ends`` in ``engine.FEATURES_SQL``)."""
    return (name[:1] + name[-1:]) if name else ""


def probe_keys(row: Record) -> list[tuple[str, str]]:
    """The keys a new person looks others up by: its own, its names swapped (with the year
    keys too), and the persons without a year by initials or first and last letters and
    sex."""
    sex_kinds = ("initials_sex", "ends_sex")
    keys = [(kind, text) for kind, text in stored_keys(row) if kind not in sex_kinds]
    given, family, sex = row.get("given_name"), row.get("family_name"), row.get("sex")
    year = row.get("birth_year")
    swapped = _joined(family, given)
    if swapped:
        keys.append(("names", swapped))
    keys += [
        ("initials_year", _joined((family or "")[:2], (given or "")[:2], year)),
        ("ends_year", _joined(_ends(family), _ends(given), year)),
    ]
    for first, second in ((given, family), (family, given)):
        keys += [
            ("initials_sex", _joined((first or "")[:2], (second or "")[:2], sex)),
            ("ends_sex", _joined(_ends(first), _ends(second), sex)),
        ]
    keys = [(kind, text) for kind, text in keys if text]
    return list(dict.fromkeys(keys))
