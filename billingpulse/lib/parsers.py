"""The API's request parsers. Kept apart from views and routers: DRF imports parsers while
``rest_framework.views`` is still loading."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.parsers import JSONParser

from billingpulse.lib import strict_json


class StrictJSONParser(JSONParser):
    """JSON without NaN/Infinity, absurd nesting or unstorable text; a 400 says which."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            return strict_json.loads(stream.read().decode(encoding))
        except UnicodeDecodeError:
            raise exceptions.ParseError(f"The body is not valid {encoding} text.") from None
        except strict_json.StrictJSONError as error:
            raise exceptions.ParseError(str(error)) from None
