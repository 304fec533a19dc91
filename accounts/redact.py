"""Keep secrets out of the activity log even when a caller passes them by mistake.

The audit log is read by every operator who can see activity, and it is kept for good; a
secret that lands there is exposed for as long as the row lives. Detail keys that name a
secret are stored as "[redacted]", at any depth.
"""

import re
from typing import Any

REDACTED = "[redacted]"
# Names like enroll_secret, node_key, api_token, password, secret, authorization. `key` alone
# is not enough (query keys, label keys are ordinary data), so it must come as node_key/api_key.
_SECRET_NAME = re.compile(r"(secret|password|passwd|token|authorization|node_key|api_key|private_key)", re.I)


def redact(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_NAME.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    return value
