"""The GraphQL documents the system sends, one `.graphql` file each, loaded by name.

Keeping them as files lets a test validate every one against Shopify's published schema, and
lets a reader see exactly what goes over the wire.
"""

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from graphql import (
    DocumentNode,
    FieldNode,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    print_ast,
    visit,
)
from graphql.language import Visitor

DOCUMENTS_DIR = Path(__file__).with_name("documents")


@dataclass(frozen=True)
class Document:
    name: str
    text: str
    ast: DocumentNode = field(repr=False, compare=False)

    @property
    def operation(self) -> OperationDefinitionNode:
        return next(d for d in self.ast.definitions if isinstance(d, OperationDefinitionNode))

    @property
    def is_mutation(self) -> bool:
        return self.operation.operation == OperationType.MUTATION

    @property
    def root_field(self) -> str:
        first = self.operation.selection_set.selections[0]
        assert isinstance(first, FieldNode)
        return first.name.value


def document_from_text(name: str, text: str) -> Document:
    return Document(name, text, parse(text, no_location=True))


@cache
def load(name: str) -> Document:
    """A document by file name without `.graphql`, e.g. `load("product_set")`."""
    path = DOCUMENTS_DIR / f"{name}.graphql"
    return document_from_text(name, path.read_text())


def all_documents() -> list[Document]:
    return [load(path.stem) for path in sorted(DOCUMENTS_DIR.glob("*.graphql"))]


class _Renamer(Visitor):
    def __init__(self, suffix: str) -> None:
        super().__init__()
        self.suffix = suffix

    def enter_variable(self, node: VariableNode, *_args: object) -> VariableNode:
        return VariableNode(name=NameNode(value=f"{node.name.value}{self.suffix}"))


def aliased(document: Document, count: int) -> Document:
    """One request carrying `count` copies of a single-field mutation, aliased `m0`, `m1`, ...,
    with variables suffixed `_0`, `_1`, ... (see `aliased_variables`). Several cheap mutations
    then cost one round trip instead of `count`."""
    operation = document.operation
    (root,) = operation.selection_set.selections
    assert isinstance(root, FieldNode)
    fields: list[FieldNode] = []
    definitions: list[VariableDefinitionNode] = []
    for index in range(count):
        renamer = _Renamer(f"_{index}")
        renamed = visit(root, renamer)
        fields.append(
            FieldNode(
                alias=NameNode(value=f"m{index}"),
                name=renamed.name,
                arguments=renamed.arguments,
                directives=renamed.directives,
                selection_set=renamed.selection_set,
            )
        )
        definitions += [visit(d, renamer) for d in operation.variable_definitions or ()]
    combined = OperationDefinitionNode(
        operation=OperationType.MUTATION,
        name=NameNode(value=f"{operation.name.value if operation.name else 'Batch'}x{count}"),
        variable_definitions=tuple(definitions),
        directives=(),
        selection_set=SelectionSetNode(selections=tuple(fields)),
    )
    text = print_ast(DocumentNode(definitions=(combined,)))
    return document_from_text(f"{document.name}x{count}", text)


def aliased_variables(variables: list[dict[str, object]]) -> dict[str, object]:
    """The variables of an `aliased` document, from each copy's own variables."""
    return {
        f"{name}_{index}": value
        for index, copy in enumerate(variables)
        for name, value in copy.items()
    }
