"""The architecture's import rules, checked by parsing the sources."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "qa"
STAGES = ["ingest", "chunk", "embed", "index", "retrieve", "read", "extract", "cite"]
ADAPTERS = {"app", "api", "pages", "cli"}
# Where each heavy library may be imported; reader_training is the training command, never imported to serve.
HEAVY_HOME = {"faiss": {"index"}, "sentence_transformers": {"embed"}, "torch": {"embed", "read", "reader_training"},
              "transformers": {"embed", "read", "reader_training"}, "pymilvus": {"milvus"}, "milvus_lite": {"milvus"},
              "ray": {"distributed"}}


def imports_of(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_base_modules_import_nothing_from_qa():
    for module in ("types", "config", "text"):
        assert not {m for m in imports_of(module) if m.startswith("qa.")} - {"qa"}


def test_stages_import_only_earlier_stages():
    for position, stage in enumerate(STAGES):
        used = {m.split(".")[1] for m in imports_of(stage) if m.startswith("qa.")}
        later = used & set(STAGES[position + 1 :])
        assert not later, f"{stage} imports later stages {later}"
        assert not used & ADAPTERS and "pipeline" not in used


def test_adapters_never_import_a_stage():
    for adapter in ADAPTERS:
        used = {m.split(".")[1] for m in imports_of(adapter) if m.startswith("qa.")}
        assert not used & set(STAGES), f"{adapter} imports {used & set(STAGES)}"


def test_heavy_libraries_live_in_one_module_each():
    for path in PACKAGE.glob("*.py"):
        for library, home in HEAVY_HOME.items():
            if any(m == library or m.startswith(library + ".") for m in imports_of(path.stem)):
                assert path.stem in home, f"{path.stem} imports {library}"


def test_import_qa_is_light():
    code = ("import sys, qa, qa.cli; print([m for m in ('torch', 'faiss', 'fastapi', 'numpy', 'pymilvus', 'ray') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
