"""The architecture's import rules, checked by parsing the sources (every import, top-level or late)."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "qa"

# The data flow, in order; each stage may import only earlier ones (a package counts with its modules).
STAGES = ["ingest", "chunk", "embed", "stores", "retrieve", "read", "extract", "cite"]
# Helpers a stage may share: data types and settings, text and token utilities, and the parts of a stage
# kept in their own module (documents and blocks belong to ingest and chunk, shortanswer to extract).
SHARED = {"_version", "types", "config", "text", "tokens", "blocks", "documents", "shortanswer"}
# The web and CLI adapters reach the stages only through the pipeline.
ADAPTERS = {"app", "api", "pages", "cli", "access", "metrics"}
# Where each heavy library may be imported; reader_training is the training command, never imported to serve.
HEAVY_HOME = {
    "faiss": {"qa.stores.vectors"},
    "sentence_transformers": {"qa.embed.torch_backend"},
    "torch": {"qa.embed.torch_backend", "qa.embed.export", "qa.read", "qa.reader_training"},
    "transformers": {"qa.embed.torch_backend", "qa.embed.export", "qa.read", "qa.reader_training"},
    "onnxruntime": {"qa.embed.onnx_backend", "qa.embed.export", "qa.read"},
    "pymilvus": {"qa.stores.milvus"}, "milvus_lite": {"qa.stores.milvus"},
    "ray": {"qa.distributed"},
    "fastapi": {"qa.app", "qa.api", "qa.pages", "qa.access", "qa.metrics"},
}


def module_files() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


MODULES = module_files()


def imported_names(module: str) -> set[str]:
    """Every absolute module name imported anywhere in the module; ``from pkg import sub`` names ``pkg.sub``."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{module} uses a relative import"
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found.update(submodules or {node.module})
    return found


def qa_imports(module: str) -> set[str]:
    return {name for name in imported_names(module) if name in MODULES and name != module}


def top(module: str) -> str:
    """The first name under qa: ``qa.stores.local`` -> ``stores``."""
    return module.split(".")[1] if "." in module else ""


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return path[path.index(target):] + [target]
            if not state.get(target) and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if not state.get(node) and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_anywhere_in_qa():
    cycle = find_cycle({module: qa_imports(module) for module in MODULES})
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_the_package_facade():
    # qa/__init__ is the public API: it imports the pipeline lazily, so a module importing it closes a loop
    assert not [m for m in MODULES if m != "qa" and "qa" in qa_imports(m)]


def test_base_modules_import_nothing_from_qa_but_each_other():
    for module in ("qa.types", "qa.config", "qa.text", "qa._version"):
        assert not {top(m) for m in qa_imports(module)} - SHARED, module


def test_every_stage_exists_and_imports_only_earlier_stages():
    for position, stage in enumerate(STAGES):
        members = [m for m in MODULES if top(m) == stage]
        assert members, f"stage {stage} has no module"
        for module in members:
            used = {top(m) for m in qa_imports(module)} - {stage}
            assert not used & set(STAGES[position + 1:]), f"{module} imports later stages {used & set(STAGES[position + 1:])}"
            assert not used & (ADAPTERS | {"pipeline"}), f"{module} imports {used & (ADAPTERS | {'pipeline'})}"


def test_adapters_never_import_a_stage():
    for module in MODULES:
        if top(module) in ADAPTERS:
            used = {top(m) for m in qa_imports(module)}
            assert not used & set(STAGES), f"{module} imports {used & set(STAGES)}"


def test_adapters_are_found_by_the_check():
    # a renamed adapter would silently leave the rule above with nothing to check
    assert ADAPTERS <= {top(m) for m in MODULES}


def test_heavy_libraries_live_in_one_module_each():
    for module in MODULES:
        for library, homes in HEAVY_HOME.items():
            if any(name == library or name.startswith(library + ".") for name in imported_names(module)):
                assert module in homes, f"{module} imports {library}"


def test_import_qa_is_light():
    code = ("import sys, qa, qa.cli; print([m for m in ('torch', 'faiss', 'fastapi', 'numpy', 'pymilvus', 'ray') "
            "if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
