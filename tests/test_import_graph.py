"""The import graph of ``src/xaitk_wcam``: no cycle between modules or subpackages; classifiers never import models."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import xaitk_wcam

ROOT = Path(xaitk_wcam.__file__).parent


def subpackage_graph() -> dict[str, set[str]]:
    """Subpackage -> the other subpackages it imports (every import statement, lazy ones included)."""
    edges: dict[str, set[str]] = defaultdict(set)
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts == ("__init__",):
            continue  # the package's public facade re-exports everything
        source = parts[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            for name in names:
                if name.startswith("xaitk_wcam.") and name.split(".")[1] != source:
                    edges[source].add(name.split(".")[1])
    return edges


def assert_acyclic(edges: dict[str, set[str]]) -> None:
    """Depth-first search of ``edges``; fails naming the first cycle found."""
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != 1, f"import cycle: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [])


def test_subpackages_form_no_cycle():
    edges = subpackage_graph()
    assert_acyclic(edges)
    assert "models" not in edges["classifiers"]


def module_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports: every import statement (lazy ones inside functions included),
    relative ones resolved, and the packages a dotted import runs on the way (``import a.b.c`` runs ``a.b``'s
    ``__init__``). The package's lazy facade (``xaitk_wcam/__init__.py``) imports nothing at module level."""
    modules = {}
    for path in ROOT.rglob("*.py"):
        parts = ("xaitk_wcam", *path.relative_to(ROOT).with_suffix("").parts)
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: list[str] = []
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                targets += [base, *(f"{base}.{alias.name}" for alias in node.names)]
        out = set()
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            while target.startswith("xaitk_wcam."):
                if target != name and not name.startswith(target + "."):
                    out.add(target)
                target = target.rpartition(".")[0]
        edges[name] = out
    return edges


def test_modules_form_no_cycle():
    edges = module_graph()
    assert "xaitk_wcam.study.config" in edges["xaitk_wcam.study.runner"]  # the graph sees imports
    assert_acyclic(edges)


def test_importing_classifiers_loads_no_model_module():
    code = "import sys, xaitk_wcam.classifiers; print(sorted(m for m in sys.modules if 'xaitk_wcam.models' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_plugin_discovery_loads_no_heavy_dependency():
    """``import xaitk_wcam`` and ``get_impls()`` of every interface this package registers into must not import
    transformers, captum, dask, matplotlib, datasets or POT: they load where a class that needs them is used."""
    code = """
import sys
import xaitk_wcam
from smqtk_classifier.interfaces.classify_image import ClassifyImage
from smqtk_detection.interfaces.detect_image_objects import DetectImageObjects
from xaitk_saliency.interfaces.gen_image_classifier_blackbox_sal import GenerateImageClassifierBlackboxSaliency
from xaitk_saliency.interfaces.gen_object_detector_blackbox_sal import GenerateObjectDetectorBlackboxSaliency
from xaitk_saliency.interfaces.saliency_metric import SaliencyMetric
from xaitk_wcam.interfaces import (
    FaithfulnessMetric, GenerateImageClassifierWhiteboxSaliency, ImageSource, SaliencyComparison,
)
interfaces = [ClassifyImage, GenerateImageClassifierBlackboxSaliency, SaliencyMetric, FaithfulnessMetric,
              GenerateImageClassifierWhiteboxSaliency, ImageSource, SaliencyComparison,
              GenerateObjectDetectorBlackboxSaliency, DetectImageObjects]
found = sum(len([c for c in i.get_impls() if c.__module__.startswith("xaitk_wcam")]) for i in interfaces)
heavy = ["transformers", "captum", "dask", "distributed", "matplotlib", "datasets", "ot"]
print(found, [h for h in heavy if h in sys.modules])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    found, loaded = out.strip().split(" ", 1)
    assert int(found) >= 29 and loaded == "[]"
