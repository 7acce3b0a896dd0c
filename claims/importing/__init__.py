"""Importing claims from billers' CSV and Excel exports.

Parsing is plain Python, without the database, in four steps:

* ``readers.open_table`` checks the file and streams ``(row_number, values)``;
* ``headers.detect_header`` finds the header row and maps its columns to claim fields;
* ``rows.parse_row`` turns each data row into a ``ClaimRow`` or a list of ``RowError``
  (``rows.is_totals_row`` spots summary rows to skip);
* ``values`` holds the cell parsers they share.

``engine`` writes the parsed rows to the database.
"""

from __future__ import annotations
