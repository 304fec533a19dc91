"""Hypothesis settings and strategies shared by the fuzz tests (tests/**/test_*_fuzz.py).

The fuzz tests run in CI, so they are bounded and reproducible: a fixed number of examples per
test, derandomized (the same examples on every run), no deadline (timing is not what they check).
FLEETWEB_FUZZ_EXAMPLES raises the count for a deeper local run, e.g. `FLEETWEB_FUZZ_EXAMPLES=2000`;
FLEETWEB_FUZZ_RANDOM=1 draws fresh examples each run.
"""

import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("FLEETWEB_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=EXAMPLES or examples,
        deadline=None,
        derandomize=not os.environ.get("FLEETWEB_FUZZ_RANDOM"),
        database=None,
        # The database and client fixtures are per test, not per example, on purpose: every
        # example runs against the state the previous ones left, as a real server would.
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


# Text an agent could send: any code point JSON can carry, including NUL, control characters,
# right-to-left marks, 4-byte characters, and strings that mean something elsewhere.
hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            "\x00",
            "\u202e",
            "\U0001f4a9" * 3,
            "<script>alert(1)</script>",
            '=HYPERLINK("http://x")',
            "'; DROP TABLE hosts; --",
            "../../etc/passwd",
            "%s%n%x",
            "a" * 300,
            "<14>1 - - - - - injected\n",
        ]
    ),
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)


def json_values(keys: st.SearchStrategy[str] | None = None, max_leaves: int = 25) -> st.SearchStrategy[Any]:
    key_strategy = keys if keys is not None else hostile_text
    return st.recursive(
        json_scalars,
        lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(key_strategy, children, max_size=5)),
        max_leaves=max_leaves,
    )
