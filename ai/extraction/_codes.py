"""Denial (CARC) and remark (RARC) codes as said: "CO-16", "C-O sixteen", "N as in Nancy, one thirty"."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ai.extraction._numbers import DENIAL_GROUPS, number_groups, tokens
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
_NUM_WORDS = r"(?:\d{1,3}|(?:[a-z]+(?:[\s-][a-z]+){0,2}))"
_GROUP_THEN_NUMBER = re.compile(rf"\b({_GROUP_ALT})\b[\s,-]*(\d{{1,3}}\b|[a-z]+(?:-[a-z]+)?(?:\s[a-z]+(?:-[a-z]+)?)?)")
_GROUP_CODE = re.compile(rf"\b(?i:group)(?:\s+(?i:code))?(?:\s+(?i:is|of))?\s+({_GROUP_ALT})\b")
_REASON_CODE = re.compile(
    r"\b(?:reason|denial|adjustment|carc)(?:\s+code)?(?:\s+(?:is|of|was))?[\s,:]+"
    r"(\d{1,3}\b|[a-z]+(?:-[a-z]+)?(?:\s[a-z]+(?:-[a-z]+)?)?)",
    re.IGNORECASE,
)


def _leading_number(words: str) -> int | None:
    """The number at the start of ``words`` ("sixteen with remark" → 16)."""
    words = words.strip()
    if words[:1].isdigit():
        return int(re.match(r"\d+", words).group())
    toks = tokens(words)
    groups, _ = number_groups(toks, 0)
    if not groups:
        return None
    if len(groups) >= 2 and groups[0].kind == "small" and 1 <= groups[0].value <= 9 and 10 <= groups[1].value <= 99:
        return groups[0].value * 100 + groups[1].value
    return groups[0].value if groups[0].kind != "cents" else None


def denial_mentions(text: str) -> list[DenialMention]:
    """Denial codes in ``text``: "CO-16", "CO 16", "PR one", "C-O sixteen", "group code CO,
    reason code 50", "reason code 22, group code CO", "denial code is 197" (no group)."""
    text = _SPELLED_GROUP.sub(lambda m: m.group(1) + m.group(2), text)
    found: list[DenialMention] = []
    for m in _GROUP_THEN_NUMBER.finditer(text):
        number = _leading_number(m.group(2))
        if number is not None and 1 <= number <= 299:
            found.append(DenialMention(m.group(1), str(number), m.start(), m.end()))
    groups = list(_GROUP_CODE.finditer(text))
    for m in _REASON_CODE.finditer(text):
        if any(f.start <= m.start(1) < f.end for f in found):
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
        found.append(DenialMention(group, str(number), m.start(), m.end()))
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
