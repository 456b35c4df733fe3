"""Serbian (Latin): 30.11.2026. and 30.11.2026. 15:04 (the closing dot is Serbian usage)."""

DATE_FORMAT = SHORT_DATE_FORMAT = "d.m.Y."
DATETIME_FORMAT = SHORT_DATETIME_FORMAT = "d.m.Y. H:i"
TIME_FORMAT = "H:i"
MONTH_DAY_FORMAT = "j. F"
YEAR_MONTH_FORMAT = "F Y."
FIRST_DAY_OF_WEEK = 1
# ISO first: date and datetime-local inputs take only ISO values, and Django writes a
# DateInput's value in the first input format.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d.%m.%Y.", "%d.%m.%Y"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%dT%H:%M",
    "%d.%m.%Y. %H:%M",
    "%d.%m.%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
]
