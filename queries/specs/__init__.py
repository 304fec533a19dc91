"""Fleet-style YAML specs: apply them, export them. See apply.apply_spec_text."""

from .apply import ApplyReport, apply_spec_text
from .documents import SpecError
from .export import EXPORT_KINDS, export_specs

__all__ = ["EXPORT_KINDS", "ApplyReport", "SpecError", "apply_spec_text", "export_specs"]
