"""Check an 835's structure with pyx12's validator, for the posting preview.

Our reader (``billing.era.reader``) reads the money and refuses what cannot be posted; pyx12 knows
the implementation guide's loops, required segments, counts and code lists, and reports where a
file strays from them. Its findings are a report for the biller, not a gate. It takes about 10 s
per 5,000 claims, so it is a call of its own, for a background task.

How pyx12 is driven here, after the pitfalls in ``shared/reference/phase3-deps.md``:

* The text goes in as a stream decoded with ``utf-8-sig``: given a path, pyx12 reads it as ASCII
  (a byte-order mark or an accented name raises), and its ``x12valid`` command writes a partial
  ``.997`` beside the input. No acknowledgement, HTML or XML output is asked for, so nothing is
  written anywhere.
* Repeated PLB segments are valid (PLB repeats in the guide), but pyx12 reports "Loop FOOTER
  exceeded max count"; that finding is dropped.
* pyx12 logs every finding with the offending value (a patient's name, a member ID) at ERROR.
  The findings are returned instead, so its loggers are kept out of the application's logs.
"""

from __future__ import annotations

import io
import json
import logging

logger = logging.getLogger(__name__)

# Patient data must not reach the logs; pyx12's child loggers stop at this one (no last-resort output).
_pyx12_logger = logging.getLogger("pyx12")
_pyx12_logger.propagate = False
_pyx12_logger.addHandler(logging.NullHandler())

# A preview lists problems for a person to read; past this many the rest are counted.
MAX_PROBLEMS = 200


def structural_problems(data: bytes | str) -> list[str]:
    """pyx12's structural findings on an 835 as sentences naming the segment; empty when it is clean.

    Never raises for bad input: a file pyx12 cannot read at all gives one problem saying so.
    """
    text = _decode(data).lstrip("\ufeff \t\r\n")
    if not text.startswith("ISA") or len(text) < 106:
        return ["This is not an X12 file: it does not start with an interchange header (ISA)."]
    try:
        valid, report = _run_pyx12(text)
    except Exception as error:  # pyx12 raises bare engine errors on files it has no map for
        # Only the type: pyx12's messages quote the file's contents.
        logger.warning("pyx12 could not check an 835 (%s)", type(error).__name__)
        return [_engine_problem(error)]
    problems, ignored = _problems(report)
    if not valid and not problems and not ignored:
        if not report.get("interchanges"):
            return ["The structure check could not read the interchange header (ISA): the file is damaged."]
        problems = ["The structure check failed without saying where; ask the payer to check the file."]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], f"… and {more} more structural problems."]
    return problems


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # As the reader does; pyx12 then names each character outside the X12 set.
        return data.decode("latin-1")


def _run_pyx12(text: str) -> tuple[bool, dict]:
    import pyx12.params
    import pyx12.x12n_document

    report = io.StringIO()
    valid = pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), fd_997=None, fd_html=None, fd_xmldoc=None, fd_json=report
    )
    # Nothing is written when pyx12 gives up before the first segment (it only logs).
    return bool(valid), json.loads(report.getvalue() or '{"interchanges": []}')


def _engine_problem(error: Exception) -> str:
    message = str(error)
    if "Map not found" in message:
        return (
            "The group header (GS) does not name a remittance advice (835) version the structure check "
            "knows (004010X091A1 or 005010X221A1)."
        )
    if "ISA segment must have 16 elements" in message:
        return "The interchange header (ISA) is damaged: it must have 16 elements."
    return "The structure check could not read this file; ask the payer to check it."


def _problems(report: dict) -> tuple[list[str], int]:
    """Sentences from pyx12's JSON report, in file order, and how many known false positives were dropped."""
    problems: list[str] = []
    ignored = 0
    for isa in report.get("interchanges", []):
        problems += [f"Interchange {isa.get('isa_trn_set_id')}: {e['err_str']}" for e in isa.get("errors", [])]
        for gs in isa.get("groups", []):
            problems += [f"Group {gs.get('gs_control_num')}: {e['err_str']}" for e in gs.get("errors", [])]
            for st in gs.get("transactions", []):
                control = st.get("trn_set_control_num")
                if st.get("trn_set_id") != "835":
                    problems.append(
                        f"Transaction {control} is a {st.get('trn_set_id')}, not a remittance advice (835)."
                    )
                problems += [f"Transaction {control}: {e['err_str']}" for e in st.get("errors", [])]
                for segment in st.get("segments", []):
                    where = f"Segment {segment.get('cur_line')} ({segment.get('seg_id')})"
                    for error in segment.get("errors", []):
                        if _is_repeated_plb(segment, error):
                            ignored += 1
                        else:
                            problems.append(f"{where}: {error['err_str']}")
                    for element in segment.get("elements", []):
                        problems += [f"{where}: {e['err_str']}" for e in element.get("errors", [])]
    return problems, ignored


def _is_repeated_plb(segment: dict, error: dict) -> bool:
    # pyx12 4.0.0 counts each PLB as a new FOOTER loop although its map allows PLB to repeat.
    message = error.get("err_str") or ""
    return segment.get("seg_id") == "PLB" and "Loop FOOTER exceeded max count" in message
