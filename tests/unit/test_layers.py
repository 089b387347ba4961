"""Enforced layers: pages -> recsys_ui -> recsys_core; inside the engine, data below models (import-linter)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_linter_contracts_are_kept():
    # The contracts live in .importlinter at the repository root.
    command = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    run = subprocess.run([sys.executable, "-c", command, "--config", str(ROOT / ".importlinter")],
                         cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "BROKEN" not in run.stdout
    assert run.stdout.count("KEPT") == 4


def test_pages_import_only_the_ui_layer_and_public_engine_modules():
    for page in sorted((ROOT / "pages").glob("*.py")) + [ROOT / "app.py"]:
        tree = ast.parse(page.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                module = node.module
            elif isinstance(node, ast.Import):
                module = node.names[0].name
            else:
                continue
            parts = module.split(".")
            assert not any(part.startswith("_") and part != "__future__" for part in parts), (page.name, module)
            if parts[0] == "recsys_core":
                # Pages draw; modelling code stays below them.
                assert parts[1:2] in ([], ["errors"], ["cold_start"], ["projection"], ["evaluation"], ["models"],
                                      ["dataset"], ["data"]), (page.name, module)
