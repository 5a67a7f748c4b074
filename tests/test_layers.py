"""Layering of the briefing package, checked on the source: no I/O in ``briefing``, the parser's
stages import one way only.

Reading files and fetching URLs is :mod:`briefcast.ingest.read`'s job; ``briefing`` turns text
into a model. The parser (``briefing/parse/``) is split along its pipeline and each stage may
import only the stages before it, so the import graph among its modules must be acyclic.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import briefcast.briefing
import briefcast.briefing.parse

BRIEFING = Path(briefcast.briefing.__file__).parent
PARSE = Path(briefcast.briefing.parse.__file__).parent
NETWORK = ("httpx", "requests", "aiohttp", "urllib.request", "http.client", "socket", "telegram", "slack_sdk")
FILE_CALLS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "iterdir", "glob", "rglob"})
# The sector catalogue is configuration, loaded once from a file: the one reader in the package.
FILE_READERS = frozenset({"sectors.py"})


def _module_name(path: Path) -> str:
    rel = path.relative_to(BRIEFING.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return "briefcast." + ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Modules a file imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``); relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _files(root: Path) -> list[Path]:
    files = sorted(root.rglob("*.py"))
    assert files, f"no Python files under {root}"
    return files


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_briefing_imports_no_network_client() -> None:
    offenders = {
        f"{path.relative_to(BRIEFING)}: {module}"
        for path in _files(BRIEFING)
        for module in _imports(path)
        if any(_is_under(module, net) for net in NETWORK)
    }
    assert not offenders, f"briefing must do no I/O (read sources in briefcast.ingest.read): {offenders}"


def test_briefing_imports_only_itself_of_ours() -> None:
    """``briefing`` is the bottom room: nothing of ours but itself and the error types."""
    offenders = {
        f"{path.relative_to(BRIEFING)}: {module}"
        for path in _files(BRIEFING)
        for module in _imports(path)
        if _is_under(module, "briefcast")
        and not _is_under(module, "briefcast.briefing")
        and not _is_under(module, "briefcast.errors")
    }
    assert not offenders, offenders


def test_briefing_reads_no_files() -> None:
    offenders = []
    for path in _files(BRIEFING):
        if path.name in FILE_READERS and path.parent == BRIEFING:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            if (isinstance(fn, ast.Name) and fn.id == "open") or (
                isinstance(fn, ast.Attribute) and (fn.attr in FILE_CALLS or fn.attr == "open")
            ):
                offenders.append(f"{path.relative_to(BRIEFING)}:{node.lineno}")
    assert not offenders, f"file access in briefing: {offenders}"


def test_importing_the_parser_loads_no_network_client() -> None:
    """At run time too: the parser's dependencies pull in no HTTP client."""
    code = (
        "import sys, briefcast.briefing.parse, briefcast.briefing.source, briefcast.briefing.watch\n"
        f"print(','.join(m for m in {NETWORK!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == ""


def test_parser_stages_form_a_dag() -> None:
    """Each stage imports only earlier stages: no cycle, and no stage imports the package itself."""
    package = "briefcast.briefing.parse"
    parser_file = Path(briefcast.briefing.parse.__file__)
    assert parser_file.name == "__init__.py", "the parser is a package of stages, not one module"
    stages = {_module_name(p): p for p in _files(PARSE) if p.name != "__init__.py"}
    assert len(stages) >= 6, sorted(stages)  # markdown, inline, blocks, structure, metadata, html, …
    graph: dict[str, set[str]] = {}
    for name, path in stages.items():
        imported = _imports(path)
        assert package not in imported, f"{name} imports the package {package} (a cycle through __init__)"
        graph[name] = {m for m in imported if m in stages and m != name}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        raise AssertionError(f"import cycle among the parser's stages: {err.args[1]}") from None
    assert order.index(f"{package}.markdown") < order.index(f"{package}.inline")
    assert order.index(f"{package}.inline") < order.index(f"{package}.blocks")
    assert order.index(f"{package}.blocks") < order.index(f"{package}.structure")


def test_each_parser_stage_says_what_it_does() -> None:
    for path in _files(PARSE):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert doc and doc.strip(), f"{path.name} has no docstring naming its stage"


def test_the_parser_package_exposes_its_public_names() -> None:
    public = set(briefcast.briefing.parse.__all__)
    assert {
        "ParseOptions",
        "html_to_markdown",
        "markdown_tokens",
        "parse_html",
        "parse_markdown",
        "parse_text",
        "split_title",
    } <= public
    for name in public:
        assert getattr(briefcast.briefing.parse, name) is not None
    assert not {"read_source", "parse_source"} & public  # reading sources lives in briefcast.ingest.read


# --- the emulators: a component of their own, used by the playground (and the tests, benchmarks) ---

PACKAGE = BRIEFING.parent
EMULATORS = "briefcast.emulators"
EMULATOR_USERS = ("briefcast.emulators", "briefcast.playground")


def test_only_the_playground_imports_the_emulators() -> None:
    """Production code reaches the fake platforms only through the playground, which ships them."""
    offenders = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in _files(PACKAGE)
        if not any(_is_under(_module_name(path), user) for user in EMULATOR_USERS)
        for module in _imports(path)
        if _is_under(module, EMULATORS) or _is_under(module, "briefcast.testing")
    }
    assert not offenders, f"only the emulators and the playground may import {EMULATORS}: {offenders}"


def test_the_emulators_import_no_test_helpers_and_no_playground() -> None:
    offenders = {
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in _files(PACKAGE / "emulators")
        for module in _imports(path)
        if _is_under(module, "briefcast.testing") or _is_under(module, "briefcast.playground")
    }
    assert not offenders, offenders


def test_the_dashboard_previews_load_no_emulator() -> None:
    """Rendering a preview runs TDLib's parser from ``render``, not from a fake server, even lazily."""
    assert "fake_telegram" not in {p.stem for p in _files(PACKAGE)}
    code = (
        "import sys\n"
        "from briefcast.dashboard.views import slack_preview_html, telegram_preview_html\n"
        "html, error = telegram_preview_html({'text': '<b>hi</b> there', 'parse_mode': 'HTML'})\n"
        "assert '<b>hi</b>' in html and not error, (html, error)\n"
        "html, error = telegram_preview_html({'text': '<b>hi', 'parse_mode': 'HTML'})\n"
        "assert not html and 'parse entities' in error, error\n"
        "section = {'type': 'section', 'text': {'type': 'mrkdwn', 'text': 'hi'}}\n"
        "slack_preview_html({'text': 'hi', 'blocks': [section]})\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith(('briefcast.emulators', "
        "'briefcast.testing', 'briefcast.playground')))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"the dashboard's previews loaded {out.stdout.strip()}"
