# The compiled walk (_walk.c); documents.py says what each argument is.
from collections.abc import Callable
from typing import Any

SOURCE_DIGEST: str
ABI: int

def configure(
    is_secret_name: Callable[[str, str], bool],
    name_caches: dict[str, dict[str, bool]],
    code_keys: frozenset[str],
    node: str,
    pair: str,
    min_secret: int,
    min_unnamed: int,
    max_depth: int,
    /,
) -> None: ...
def walk_node(
    value: Any,
    path: list[str],
    context: str,
    tokens: tuple[tuple[str, str], ...],
    on_match: Callable[[None, str, str, bool, str], None],
    on_deep: Callable[[None, Any, str], None],
    /,
) -> None: ...
def walk_nodes(
    nodes: list[Any],
    prefix: str,
    path: list[str],
    tokens: tuple[tuple[str, str], ...],
    on_match: Callable[[int, str, str, bool, str], None],
    on_deep: Callable[[int, Any, str], None],
    /,
) -> None: ...
def walk_data(
    value: Any,
    path: list[str],
    context: str,
    where: str,
    is_data: bool,
    tokens: tuple[tuple[str, str], ...],
    on_match: Callable[[str, str, str], None],
    on_deep: Callable[[Any, str], None],
    /,
) -> None: ...
