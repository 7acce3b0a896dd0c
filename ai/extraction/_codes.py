"""Denial (CARC) and remark (RARC) codes as said: "CO-16", "C-O sixteen", "N as in Nancy, one thirty"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.extraction._numbers import DENIAL_GROUPS, DIGITS, number_groups, numberish, tokens
from ai.extraction._spelled import spelled_runs


@dataclass(frozen=True)
class DenialMention:
    group: str | None
    number: str
    start: int
    end: int

    @property
    def code(self) -> str:
        return f"{self.group}-{self.number}" if self.group else self.number


_GROUP_ALT = "|".join(DENIAL_GROUPS)
_SPELLED_GROUP = re.compile(r"\b([CPO])[\s.-]{1,2}([ORAI])\b\.?")
# A code number in words: "sixteen", "one ninety-seven", "two-oh-four", "one zero nine".
_WORDS = r"[a-z]+(?:-[a-z]+){0,2}(?:\s[a-z]+(?:-[a-z]+){0,2}){0,2}"
# a number read digit by digit: "9-7", "1-9-7"
_DIGITS_READ = r"\d(?:-\d){1,2}\b"
_GROUP_THEN_LETTER_CODE = re.compile(
    rf"\b({_GROUP_ALT})\b[\s,-]*\b([ABDPWY])(?:\b|(?=\d{{1,2}}\b))(?:,?\s+(?:as in|like|for)\s+[A-Za-z]+)?[\s,-]*"
    rf"(\d{{1,2}}\b|[a-z]+(?:-[a-z]+)?)"
)
_GROUP_THEN_NUMBER = re.compile(rf"\b({_GROUP_ALT})\b(?:[\s,-]|(?i:dash))*({_DIGITS_READ}|\d{{1,3}}\b|{_WORDS})")
_GROUP_CODE = re.compile(rf"\b(?i:group)(?:'s|\s+(?i:code))?(?:\s+(?i:is|of))?[\s,]+({_GROUP_ALT})\b")
_GROUP_AFTER = re.compile(rf"[\s,]+({_GROUP_ALT})\b(?![-\s]*\d)")
# The group named later in the sentence: "Reason code 198, precertification exceeded, that's a CO."
_GROUP_TOLD = re.compile(
    rf"[^.?!]*?\b(?i:that's|that is|it's|it is|which is)\s+(?:(?i:an?|the)\s+)?(?:(?i:group)\s+)?"
    rf"({_GROUP_ALT})\b(?![-\s]*\d)"
)
_REASON_CODE = re.compile(
    rf"\b(?:(?:claim\s+)?adjustment\s+reason|reason|denial|adjustment|carc)(?:\s+code)?(?:\s+(?:is|of|was))?[\s,:]+({_DIGITS_READ}|\d{{1,3}}\b|{_WORDS})",
    re.IGNORECASE,
)
# The number said next to the word itself: "a sixteen denial", "it denied ninety-six, non-covered".
_NUMBER_DENIAL = re.compile(rf"\b(?:an?|the)\s+(\d{{1,3}}|{_WORDS}?)\s+denial\b", re.IGNORECASE)
_DENIED_NUMBER = re.compile(rf"\bdenied\s+(\d{{1,3}}\b|{_WORDS})(?=\s*[,.;]|\s+(?:for|with|because)\b)", re.IGNORECASE)


_BILL_PATIENT = r"bill (?:the (?:patient|member|client|beneficiary)|him|her|them)\b"
_PATIENT = r"(?:patient|member|customer|subscriber|client|beneficiary)"
# Who the payer says must pay settles the group of a code said without one: "reason 119 ... the
# patient is responsible for that one" is PR; "the client can't be billed for it" is CO.
LIABILITY = {
    "PR": re.compile(
        rf"\b{_PATIENT}(?:'s)? responsib|\b(?:the )?{_PATIENT} is (?:responsible|liable)\b|\bdeductible\b|"
        rf"(?<!n't )(?<!not )(?<!cannot )\b{_BILL_PATIENT}",
        re.I,
    ),
    "CO": re.compile(
        rf"\bcontractual\b|\bprovider(?:'s)? liab|\bwrite[ -]?(?:it )?off\b|\b(?:can't|cannot|can not) {_BILL_PATIENT}|"
        rf"\b(?:{_PATIENT}|he|she|they) (?:can't|cannot|can not|may not) be billed\b",
        re.I,
    ),
    "OA": re.compile(r"\bother adjustment", re.I),
    "PI": re.compile(r"\bpay[eo]r[- ]initiated", re.I),
}


def liable_group(text: str) -> str | None:
    """The group the liability words in ``text`` settle (the patient's share first), if any."""
    return next((group for group, words in LIABILITY.items() if words.search(text)), None)


def _leading_number(words: str) -> int | None:
    """The number at the start of ``words`` ("sixteen with remark" → 16)."""
    words = words.strip()
    if re.match(r"\d(?:-\d){1,2}\b", words):
        return int(re.match(r"\d(?:-\d){1,2}", words).group().replace("-", ""))
    if words[:1].isdigit():
        return int(re.match(r"\d+", words).group())
    toks = [tok for tok in tokens(words) if tok.text != "-"]
    # read digit by digit: "one zero nine" → 109, "two-oh-four" → 204
    digits = []
    for tok in toks[:3]:
        if tok.low not in DIGITS:
            break
        digits.append(str(DIGITS[tok.low]))
    if len(digits) == 3 or (len(digits) == 2 and toks[1].low in ("oh", "zero")):
        return int("".join(digits))
    toks = tokens(words)
    groups, _ = number_groups(toks, 0)
    if not groups:
        return None
    if len(groups) >= 2 and groups[0].kind == "small" and 1 <= groups[0].value <= 9 and 10 <= groups[1].value <= 99:
        return groups[0].value * 100 + groups[1].value
    return groups[0].value if groups[0].kind != "cents" else None


def _only_number(words: str) -> bool:
    return all(tok.text == "-" or tok.text.isdigit() or numberish(tok) for tok in tokens(words))


def denial_mentions(text: str) -> list[DenialMention]:
    """Denial codes in ``text``: "CO-16", "CO 16", "PR one", "C-O sixteen", "group code CO,
    reason code 50", "reason code 22, group code CO", "denial code is 197" (no group)."""
    text = _SPELLED_GROUP.sub(lambda m: m.group(1) + m.group(2), text)
    found: list[DenialMention] = []
    for m in _GROUP_THEN_LETTER_CODE.finditer(text):
        # the lettered reason codes: "C-O, B twenty", "CO, B as in bravo, seven" (CO-B20, CO-B7)
        number = _leading_number(m.group(3))
        if number is not None and 1 <= number <= 99:
            found.append(DenialMention(m.group(1), f"{m.group(2).upper()}{number}", m.start(), m.end()))
    for m in _GROUP_THEN_NUMBER.finditer(text):
        if any(f.start <= m.start() < f.end for f in found):
            continue
        number = _leading_number(m.group(2))
        if number is not None and 1 <= number <= 299:
            found.append(DenialMention(m.group(1), str(number), m.start(), m.end()))
    groups = list(_GROUP_CODE.finditer(text))
    # next to "denied"/"denial" only a number alone is a code ("denied ten days ago" is not)
    # "the denied one" is a pronoun, not reason code 1
    bare = [
        m
        for p in (_NUMBER_DENIAL, _DENIED_NUMBER)
        for m in p.finditer(text)
        if _only_number(m.group(1)) and m.group(1).strip().lower() != "one"
    ]
    for m in sorted([*_REASON_CODE.finditer(text), *bare], key=lambda m: m.start()):
        if any(f.start <= m.start(1) < f.end or m.start() <= f.start < m.end() for f in found):
            continue
        number = _leading_number(m.group(1))
        if number is None or not 1 <= number <= 299:
            continue
        # the group said separately in the same sentence, before or after
        group = None
        for g in groups:
            between = text[min(g.end(), m.end()) : max(g.start(), m.start())]
            if not re.search(r"[.?!]\s", between):
                group = g.group(1)
        # the group's letters alone straight after the number ("reason code one-oh-nine, CO, not covered")
        # or named later in the sentence ("... precertification exceeded, that's a CO")
        after = _GROUP_AFTER.match(text, m.end()) or _GROUP_TOLD.match(text, m.end())
        found.append(DenialMention(group or (after and after.group(1)), str(number), m.start(), m.end()))
    found.sort(key=lambda d: d.start)
    return found


_REMARK = re.compile(r"\b(MA\d{2,3}|N\d{1,3}|M\d{1,3})\b")


def remark_codes(text: str) -> list[tuple[str, int, int]]:
    """RARC codes (N130, MA04, M80) written or spelled ("N as in Nancy, one thirty")."""
    found = [(m.group(1), m.start(), m.end()) for m in _REMARK.finditer(text)]
    for run in spelled_runs(text):
        value = run.value
        if re.fullmatch(r"MA\d{2,3}|N\d{1,3}|M\d{1,3}", value) and not any(s <= run.start < e for _, s, e in found):
            found.append((value, run.start, run.end))
    found.sort(key=lambda f: f[1])
    return found


_GROUP_ALONE = re.compile(
    rf"^\W*(?:(?i:the)\s+)?(?:(?i:claim)\s+)?(?:(?i:adjustment)\s+)?(?i:group)(?:'s|\s+(?i:code))?(?:\s+(?i:is|was|of))?[\s,:]+({_GROUP_ALT})\b"
)
_LEADING_NUMBER = re.compile(rf"^\W*(\d{{1,3}}|{_WORDS}?)\s*,", re.I)


def group_alone(text: str) -> str | None:
    """The group of a code said on its own: "Group code is C O.", "Group's PR." (no number with it)."""
    text = _SPELLED_GROUP.sub(lambda m: m.group(1) + m.group(2), text)
    match = _GROUP_ALONE.search(text)
    return match.group(1) if match and not denial_mentions(text) else None


def leading_code(text: str) -> DenialMention | None:
    """A code that opens a sentence after one about the reason: "One ninety-seven, no authorization on file"."""
    match = _LEADING_NUMBER.search(text)
    number = _leading_number(match.group(1)) if match else None
    if match is None or number is None or not 1 <= number <= 299:
        return None
    return DenialMention(None, str(number), match.start(1), match.end(1))


# A number said as a correction of the code just given: "No, I'm sorry, twenty-seven."
_CODE_CORRECTION = re.compile(
    r"^\W*(?:no\W+)?(?:i'm sorry|sorry|correction|i mean|actually|wait)\W+(?:(?:it's|that's|make that|"
    r"reason(?: code)?|it should be|should be)\s+)?([a-z]+(?:-[a-z]+)?|\d{1,3})\s*(?:[.,;]|$)",
    re.I,
)


def corrected_code(text: str) -> DenialMention | None:
    """The code number a sentence gives in place of the one said before it (no group: it stays as said)."""
    match = _CODE_CORRECTION.match(text)
    number = _leading_number(match.group(1)) if match else None
    if match is None or number is None or not 1 <= number <= 299:
        return None
    return DenialMention(None, str(number), match.start(1), match.end(1))


_BARE_NUMBER = re.compile(rf"^\W*(\d{{1,3}}|{_WORDS}?)\W*$", re.I)


def bare_code(text: str) -> DenialMention | None:
    """A sentence that is only a code number: "One ninety-seven." (a correction said on its own)."""
    match = _BARE_NUMBER.match(text)
    if match is None or not _only_number(match.group(1)):
        return None
    number = _leading_number(match.group(1))
    if number is None or not 1 <= number <= 299:
        return None
    return DenialMention(None, str(number), match.start(1), match.end(1))
