"""YAML documents with their source positions, so every error can name file and line."""

from dataclasses import dataclass
from typing import Any

import yaml


class SpecError(Exception):
    """Bad spec input, reported as `file:line: message`."""

    def __init__(self, filename: str, line: int, message: str) -> None:
        super().__init__(f"{filename}:{line}: {message}")
        self.filename = filename
        self.line = line
        self.message = message


def _child(node: yaml.Node, key: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                return value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        return node.value[key]
    return None


@dataclass
class Document:
    filename: str
    index: int  # 1-based position in the file, counting empty documents too
    node: yaml.Node
    data: Any

    @property
    def kind(self) -> str:
        return str(self.data.get("kind") or "") if isinstance(self.data, dict) else ""

    def line(self, *path: Any) -> int:
        """The line of the deepest node along `path` that exists (1-based)."""
        node = self.node
        for key in path:
            found = _child(node, key)
            if found is None:
                break
            node = found
        return node.start_mark.line + 1

    def error(self, message: str, *path: Any) -> SpecError:
        where = f"document {self.index}"
        if self.kind:
            where += f" (kind {self.kind})"
        return SpecError(self.filename, self.line(*path), f"{where}: {message}")


def load_documents(text: str, filename: str) -> list[Document]:
    """Every non-empty document in `text`, or SpecError with the line of the YAML problem."""
    documents: list[Document] = []
    loader = None
    try:
        # Creating the loader already reads the stream, and rejects control characters.
        loader = yaml.SafeLoader(text)
        index = 0
        while loader.check_node():
            index += 1
            node = loader.get_node()
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is not None:
                documents.append(Document(filename, index, node, data))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        raise SpecError(filename, line, f"invalid YAML: {problem}{context}") from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1 if isinstance(text, str) else 1
        raise SpecError(filename, line, f"invalid YAML: {exc.reason} (character {exc.character!r})") from None
    except yaml.YAMLError as exc:
        raise SpecError(filename, 1, f"invalid YAML: {exc}") from None
    except RecursionError:
        line = loader.get_mark().line + 1 if loader is not None else 1
        raise SpecError(filename, line, "invalid YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
    return documents
