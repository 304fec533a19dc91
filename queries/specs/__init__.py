"""Fleet-style YAML specs: `apiVersion: v1` documents of kind query, label, pack, policy, config
(or kolide's `options`) and enroll_secret.

- A file applies as a whole or not at all; errors are `file:line: document N (kind K): message`.
- Documents apply in dependency order (queries, labels, packs, policies, options, secrets), so a
  pack may name queries and labels defined anywhere in the same file or already stored.
- Objects are matched by name and saved only when something differs; the report says created,
  updated or unchanged for each. Apply never deletes objects, except a pack's scheduled queries
  that its spec no longer lists; an enroll_secret list deactivates secrets it does not list.
- Fleet-only fields (interval/logging on queries, observer_can_run, tags, ...) are ignored with a
  warning or silently when they have no meaning here; `team` and kind `team` are refused.
- export_specs returns documents that apply_spec_text accepts with no changes.
"""

from .apply import ApplyReport, apply_spec_text
from .documents import SpecError
from .export import EXPORT_KINDS, export_specs

__all__ = ["EXPORT_KINDS", "ApplyReport", "SpecError", "apply_spec_text", "export_specs"]
