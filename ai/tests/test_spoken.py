from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ai.extraction import spoken


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("it's R as in Robert, four seven one", "R471"),
        ("nine nine oh, double seven", "99077"),
        ("triple two, one", "2221"),
        ("3-3-1, 9-0, Z as in zebra", "33190Z"),
        ("Q-T-4-4", "QT44"),
        ("number is twelve thirty-four", "1234"),
        ("ref XJ4410", "XJ4410"),
        ("W as in whiskey, X as in X-ray, 6-0-2", "WX602"),
        ("it's k as in kilo, five five oh", "K550"),
        ("B, like boy, 7 7 1", "B771"),
        ('T for "Tango", 3-3-8', "T338"),
        ("Charlie-Alpha-4-7-1", "CA471"),
        ("Bravo Zulu 9 9 2", "BZ992"),
        ("3-3-9-Echo", "339E"),
        ("X-ray 5 0 5", "X505"),
    ],
)
def test_it_reads_spelled_identifiers(text, value):
    assert value in [run.value for run in spoken.spelled_runs(text)]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("the number is R 4 7 1 2", "R4712"),
        ("it's 6 6 0 1 K.", "6601K"),
        ("that's P R 3 0 0 8", "PR3008"),
        ("9 9 Q 1 4", "99Q14"),
    ],
)
def test_it_reads_letters_said_apart_among_digits(text, value):
    assert [run.value for run in spoken.spelled_runs(text)] == [value]


def test_it_does_not_spell_plain_speech_near_numbers():
    assert [run.value for run in spoken.spelled_runs("I like it, 4-7-1")] == ["471"]
    assert spoken.spelled_runs("This is Mike, how can I help?") == []
    assert [run.value for run in spoken.spelled_runs("I think 5 5 0 is right")] == ["550"]
    assert not any(run.value.startswith("A") for run in spoken.spelled_runs("A two week wait"))


def test_it_does_not_spell_articles_and_pronouns():
    assert spoken.spelled_runs("A claim came in. I see it.") == []
    assert [run.value for run in spoken.spelled_runs("It's 5-5-0, I think")] == ["550"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("three hundred twelve dollars and forty cents", "312.40"),
        ("$1,024.56", "1024.56"),
        ("forty dollars", "40.00"),
        ("one sixty-two thirty", "162.30"),
        ("one ninety", "190.00"),
        ("fifty-five ten", "55.10"),
        ("two hundred eight oh five", "208.05"),
        ("four eighty even", "480.00"),
        ("twelve hundred", "1200.00"),
        ("a hundred and twelve fifty", "112.50"),
        ("two thousand forty dollars and nine cents", "2040.09"),
        ("it was paid 846 dollars and 8 cents", "846.08"),
        ("we paid 1,443 dollars and 6 cents", "1443.06"),
        ("we paid 97 dollars and 45 cents", "97.45"),
        ("a payment of $312.4 went out", "312.40"),
    ],
)
def test_it_reads_money(text, value):
    assert [a.value for a in spoken.amounts(text)] == [Decimal(value)]


@pytest.mark.parametrize("text", ["on July thirty-first", "twenty percent", "ten business days", "the 2-0-6-1-0 line"])
def test_it_does_not_take_dates_percentages_or_codes_for_money(text):
    assert spoken.amounts(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paid July ninth", date(2026, 7, 9)),
        ("on 7/9", date(2026, 7, 9)),
        ("on the fourth of last month", date(2026, 6, 4)),
        ("the twelfth", date(2026, 7, 12)),
        ("last Monday", date(2026, 7, 13)),
        ("yesterday", date(2026, 7, 14)),
        ("June 30th, 2025", date(2025, 6, 30)),
        ("March third, two thousand twenty-six", date(2026, 3, 3)),
    ],
)
def test_it_reads_past_dates(text, expected):
    today = date(2026, 7, 15)  # a Wednesday
    (mention,) = spoken.dates(text)
    assert mention.resolve(today, "past") == expected


def test_it_reads_future_dates():
    (mention,) = spoken.dates("next Monday")
    assert mention.resolve(date(2026, 7, 15), "future") == date(2026, 7, 20)


def test_it_does_not_take_counting_words_for_dates():
    assert spoken.dates("the first one was denied, the second claim paid") == []


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("ten business days", 14),
        ("5 working days", 7),
        ("about three weeks", 21),
        ("a couple of weeks", 14),
        ("a month", 30),
        ("two months", 60),
        ("four to six weeks", 42),
        ("twenty-one days", 21),
    ],
)
def test_it_converts_waits_to_calendar_days(text, days):
    assert [d.days for d in spoken.durations(text)] == [days]


def test_it_counts_to_the_end_of_the_month():
    assert [d.days for d in spoken.durations("by the end of the month", date(2026, 7, 15))] == [16]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("denied CO-45", "CO-45"),
        ("P R two, coinsurance", "PR-2"),
        ("O-A twenty-three", "OA-23"),
        ("group code PI, reason code 204", "PI-204"),
        ("reason code 18, group code CO", "CO-18"),
        ("the denial code is two fifty-two", "252"),
    ],
)
def test_it_reads_denial_codes(text, code):
    assert [m.code for m in spoken.denial_mentions(text)] == [code]


def test_it_reads_remark_codes():
    assert [c for c, _, _ in spoken.remark_codes("remark codes N362 and MA130, plus M15")] == ["N362", "MA130", "M15"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("it's 7781, then 0334, then 19", "7781033419"),
        ("slowly: 4-4-1, 9-9, Sierra, 3", "44199S3"),
        ("2-2, Victor, 0-8", "22V08"),
    ],
)
def test_it_joins_a_number_read_in_groups(text, value):
    assert [run.value for run in spoken.spelled_runs(text)] == [value]


def test_it_reads_a_letter_a_after_another_letter_in_a_remark():
    assert [c for c, _, _ in spoken.remark_codes("with remark M A one forty")] == ["MA140"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("eleven oh seven twenty", "1107.20"),
        ("a check for six ten even", "610.00"),
        ("we paid three of the five units, two hundred four dollars", "204.00"),
    ],
)
def test_it_reads_more_money_shorthand(text, value):
    assert [a.value for a in spoken.amounts(text)] == [Decimal(value)]


def test_it_reads_a_date_counted_back_from_today():
    (mention,) = spoken.dates("it went out three weeks ago today")
    assert mention.resolve(date(2026, 7, 15)) == date(2026, 6, 24)
    assert spoken.durations("it went out three weeks ago") == []


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Denied P R two-oh-one, not covered", "PR-201"),
        ("reason code two four two", "242"),
        ("looks like an eighteen denial", "18"),
        ("that one denied one eighty-five, wrong place of service", "185"),
        ("the group's PR, reason three", "PR-3"),
        ("it's an O A dash twenty-three", "OA-23"),
        ("reason code one-oh-nine, CO, not covered by this plan", "CO-109"),
        ("Denial code CO-B7, the provider wasn't certified for this service", "CO-B7"),
        ("that's CO B15, it needed to be billed with the other", "CO-B15"),
        ("reason code 96, precertification absent, that's a PR", "PR-96"),
    ],
)
def test_it_reads_denial_codes_said_other_ways(text, code):
    assert [m.code for m in spoken.denial_mentions(text)] == [code]


@pytest.mark.parametrize(
    "text", ["it was denied ten days ago.", "they denied two of the units.", "denied twice, sadly."]
)
def test_it_does_not_take_counts_or_waits_next_to_denied_for_codes(text):
    assert spoken.denial_mentions(text) == []


def test_a_group_after_a_code_belongs_to_the_next_code_when_a_number_follows_it():
    mentions = spoken.denial_mentions("reason code forty-five, CO 97 on the other line")
    assert [m.code for m in mentions] == ["45", "CO-97"]


def test_it_reads_a_group_said_alone_and_a_code_opening_a_sentence():
    assert spoken.group_alone("The group is O A.") == "OA"
    assert spoken.group_alone("Group code CO, reason 45.") is None
    assert spoken.leading_code("Two fifty-two, the attachment is missing.").number == "252"
    assert spoken.leading_code("Okay, let me look.") is None


def test_it_reads_niner_as_nine_in_a_spelled_run():
    assert spoken.alnum(spoken.spelled_runs("Tango, four, niner, two")[0].value) == "T492"


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("allow fourteen additional days", 14),
        ("give it ten more business days", 14),
        ("you have a hundred and eighty days", 180),
        ("a week", 7),
    ],
)
def test_it_reads_more_waits(text, days):
    assert [d.days for d in spoken.durations(text)] == [days]


def test_it_reads_a_code_said_alone_and_nothing_else():
    assert spoken.bare_code("One ninety-seven.").code == "197"
    assert spoken.bare_code("Fifty-five") is not None
    assert spoken.bare_code("One ninety-seven, no auth.") is None
    assert spoken.bare_code("Six hundred.") is None
    assert spoken.bare_code("Thanks.") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Three hundred six dollars, seventy-one cents.", "306.71"),
        ("three hundred six and seventy-one cents", "306.71"),
        ("paid three hundred six point seven one", "306.71"),
        ("paid one thousand forty point zero zero", "1040.00"),
        ("paid eighty point five", "80.50"),
        ("paid 306 point 71.", "306.71"),
        ("paid 312.40.", "312.40"),
        ("paid forty dollars, two visits", "40.00"),
    ],
)
def test_it_reads_amounts_said_with_point_and_or_a_comma(text, value):
    assert [a.value for a in spoken.amounts(text)] == [Decimal(value)]


@pytest.mark.parametrize(
    "text",
    [
        "we paid one on September thirtieth",
        "we paid one claim and 1 line",
        "it covers one cleaning",
        "paid three hundred point seven one two",
        "a rate of 2 point 5 percent",
        "version 1.20.3",
    ],
)
def test_it_does_not_take_counts_or_broken_readings_for_money(text):
    assert spoken.amounts(text) == []


def test_it_marks_cents_said_alone():
    (amount,) = spoken.amounts("seventy-one cents")
    assert amount.value == Decimal("0.71")
    assert amount.cents_only
    assert not spoken.amounts("three hundred six dollars")[0].cents_only


def test_it_reads_a_date_field_read_out_in_pairs():
    (mention,) = spoken.dates("check date zero three, zero six, twenty-six")
    assert mention.resolve(date(2026, 3, 13)) == date(2026, 3, 6)
    (mention,) = spoken.dates("dated oh four, fifteen, twenty twenty-five")
    assert mention.resolve(date(2026, 3, 13)) == date(2025, 4, 15)
    # pairs without a date label are how identifiers are read
    assert spoken.dates("reference zero three, zero six, twenty-six") == []


@pytest.mark.parametrize(
    "said, value",
    [
        ("one thousand, one hundred fourteen dollars and twenty-two cents", "1114.22"),
        ("two thousand, forty-seven dollars and ninety-one cents", "2047.91"),
        ("Payment was twelve eighty-six forty.", "1286.40"),
        ("Thirty-nine sixty-four eighty.", "3964.80"),
        ("twelve point six K, twelve thousand six hundred forty even", "12640.00"),
    ],
)
def test_amounts_in_the_thousands_as_reps_say_them(said, value):
    assert [str(a.value) for a in spoken.amounts(said)] == [value]
