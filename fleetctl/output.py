"""Printing: aligned tables for people, YAML and JSON for scripts and re-applying."""

import json
import sys
from typing import Any, TextIO

import yaml


def table(headers: list[str], rows: list[list[Any]], out: TextIO = sys.stdout) -> None:
    cells = [[str(c) if c is not None else "" for c in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    print(line, file=out)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |", file=out)
    print(line, file=out)
    for row in cells:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |", file=out)
    print(line, file=out)


class _Dumper(yaml.SafeDumper):
    pass


def _str_presenter(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    # Multi-line SQL reads far better as a literal block.
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_presenter)


def yaml_documents(docs: list[dict[str, Any]], out: TextIO = sys.stdout) -> None:
    for doc in docs:
        out.write("---\n")
        out.write(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1000))


def json_out(value: Any, out: TextIO = sys.stdout) -> None:
    out.write(json.dumps(value, indent=2, sort_keys=False) + "\n")


def truncate(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"
