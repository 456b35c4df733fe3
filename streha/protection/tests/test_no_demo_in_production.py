"""Production code never imports the demo package: the demo generator may be left out of a
deployment, and a bulk insert the import relies on must not live beside synthetic data."""

import ast
from pathlib import Path

import streha

ROOT = Path(streha.__file__).resolve().parent


def _is_demo_code(path: Path) -> bool:
    parts = path.relative_to(ROOT).parts
    return parts[0] == "demo" or "tests" in parts or path.name in ("demo.py", "conftest.py")


def _imports_demo(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        if any(name == "streha.demo" or name.startswith("streha.demo.") for name in names):
            return True
    return False


def test_no_production_module_imports_the_demo_package():
    offenders = sorted(
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not _is_demo_code(path) and _imports_demo(ast.parse(path.read_text("utf-8")))
    )
    assert offenders == []


def test_the_check_sees_an_import_of_the_demo_package():
    assert _imports_demo(ast.parse("from streha.demo import bulk"))
    assert _imports_demo(ast.parse("import streha.demo.generator"))
    assert not _imports_demo(ast.parse("from streha.protection import bulk"))
