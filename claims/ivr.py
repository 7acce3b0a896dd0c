"""The payer's phone menu, as structured steps the voice agent can follow.

    {"steps": [{"prompt": "For claims, press 2", "options": {"1": "eligibility", "2": "claims"}}]}

Each step is what the menu says (``prompt``) and what each key does (``options``); a
step may also say what to ``say`` instead of pressing keys, or ``wait_seconds``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from jsonschema import Draft202012Validator

IVR_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["steps"],
    "properties": {
        "steps": {
            "type": "array",
            "maxItems": 30,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["prompt"],
                "properties": {
                    "prompt": {"type": "string", "minLength": 1, "maxLength": 500},
                    "options": {
                        "type": "object",
                        "propertyNames": {"pattern": r"^[0-9*#]{1,3}$"},
                        "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 200},
                    },
                    "say": {"type": "string", "maxLength": 500},
                    "wait_seconds": {"type": "integer", "minimum": 0, "maximum": 600},
                },
            },
        }
    },
}
_VALIDATOR = Draft202012Validator(IVR_SCHEMA)


def validate_ivr_config(value: object) -> None:
    """Raise ValidationError with one plain sentence per problem, naming where it is."""
    if value in (None, {}):
        return
    problems = []
    for error in sorted(_VALIDATOR.iter_errors(value), key=lambda e: list(e.absolute_path)):
        problems.append(f"{_where(list(error.absolute_path))}: {_explain(error)}")
    if problems:
        raise ValidationError(problems, code="ivr_config")


def _where(path: list) -> str:
    if not path:
        return "The menu"
    parts = []
    for index, key in enumerate(path):
        if key == "steps":
            continue
        if isinstance(key, int) and index > 0 and path[index - 1] == "steps":
            parts.append(f"step {key + 1}")
        elif path[index - 1 : index] == ["options"]:
            parts.append(f"key {key}")
        else:
            parts.append(str(key))
    return (" ".join(parts) or "steps").capitalize()


def _explain(error) -> str:
    if error.validator == "required":
        missing = error.message.split("'")[1]
        return f"needs a {missing!r}."
    if error.validator == "additionalProperties":
        return "has fields it should not have; use prompt, options, say and wait_seconds."
    if error.validator == "propertyNames":
        return 'keys must be digits, * or # (at most 3), like "1" or "#".'
    if error.validator == "type":
        return f"should be {'a list' if error.validator_value == 'array' else 'a ' + str(error.validator_value)}."
    if error.validator == "minLength":
        return "cannot be empty."
    if error.validator in ("maxLength", "maxItems", "maximum", "minimum"):
        return f"is out of range ({error.message})."
    return error.message
