"""How payer lines speak numbers, letters, money, dates and durations.

Transcripts render speech as the speech-to-text heard it: identifiers come as "2-0-2-6-L as
in Lima, 0-0-8-4" or "four seven one, double five", money as "one seventy-seven eighteen" or
"three hundred twelve dollars and forty cents", dates as "the twenty-ninth of last month".
Everything here is pure text handling (standard library only); each finder returns spans
(start/end offsets into the text it was given) so callers can tell what a value follows.
"""

from __future__ import annotations

from ai.extraction._codes import (
    LIABILITY,
    DenialMention,
    bare_code,
    corrected_code,
    denial_mentions,
    group_alone,
    leading_code,
    liable_group,
    remark_codes,
)
from ai.extraction._dates import DateMention, dates
from ai.extraction._durations import Duration, business_to_calendar, durations
from ai.extraction._money import Amount, amounts, number_value
from ai.extraction._numbers import (
    DENIAL_GROUPS,
    DIGITS,
    MONTHS,
    ORDINAL_UNITS,
    REPEATS,
    TEENS,
    TENS,
    WEEKDAYS,
    Token,
    small_number,
    tokens,
)
from ai.extraction._spelled import (
    Spelled,
    alnum,
    continues_reading,
    join_reading,
    spelled_runs,
    spelled_values,
)

__all__ = [
    "DENIAL_GROUPS",
    "DIGITS",
    "LIABILITY",
    "MONTHS",
    "ORDINAL_UNITS",
    "REPEATS",
    "TEENS",
    "TENS",
    "WEEKDAYS",
    "Amount",
    "DateMention",
    "DenialMention",
    "Duration",
    "Spelled",
    "Token",
    "alnum",
    "amounts",
    "bare_code",
    "business_to_calendar",
    "continues_reading",
    "corrected_code",
    "dates",
    "denial_mentions",
    "durations",
    "group_alone",
    "join_reading",
    "leading_code",
    "liable_group",
    "number_value",
    "remark_codes",
    "small_number",
    "spelled_runs",
    "spelled_values",
    "tokens",
]
