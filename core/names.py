"""Entity names and fully qualified names, as OpenWhisk accepts them."""

import re

from core.errors import BadRequest

_NAME = re.compile(r"^\w[\w@ .&-]*$", re.ASCII)
MAX_NAME = 256
NAME_PATTERN = r"^[A-Za-z0-9_]([A-Za-z0-9_@ .&-]*[A-Za-z0-9_@.&-])?$"  # the same rule, as a JSON Schema says it


def check_name(name: str, what: str = "name") -> str:
    if len(name) > MAX_NAME:
        raise BadRequest(f"The {what} is longer than allowed: {len(name)} > {MAX_NAME} characters.")
    if not _NAME.match(name) or name.endswith(" "):
        raise BadRequest(f"The {what} '{name}' contains illegal characters.")
    return name
