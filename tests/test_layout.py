"""The layout docs/architecture.md describes, held by the suite: a change that breaks it fails here."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("access", "backups", "notifications", "preferences", "restores", "webapp")
# "Past ~300 lines ask whether it is still one thing" (CONVENTIONS.md): a smell, with some slack.
MODULE_LINE_LIMIT = 320


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, path: Path, known: set[str], *, inside_functions: bool = False) -> set[str]:
    """The project modules `name` imports when it is loaded, or anywhere with `inside_functions`."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree) if inside_functions else tree.body:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found |= {target for target in targets if target in known}
    return found - {name}


def import_graph(*, inside_functions: bool = False) -> dict[str, set[str]]:
    modules = project_modules()
    known = set(modules)
    return {name: imports_of(name, path, known, inside_functions=inside_functions) for name, path in modules.items()}


def test_no_module_imports_itself_back_through_others():
    graph = import_graph()
    cycles = []

    def visit(module, trail):
        for imported in graph[module]:
            if imported in trail:
                cycles.append([*trail[trail.index(imported) :], imported])
            elif imported not in done:
                visit(imported, [*trail, imported])
        done.add(module)

    done: set[str] = set()
    for module in graph:
        if module not in done:
            visit(module, [module])
    assert not cycles, f"import cycles: {cycles}"


def test_tasks_call_services_and_services_never_import_tasks():
    graph = import_graph(inside_functions=True)  # a lazy import inside a function is a cycle too
    for tasks in ("backups.tasks", "notifications.tasks"):
        importers = {module for module, imported in graph.items() if tasks in imported}
        assert importers == set(), f"tasks are published by name ({tasks.split('.')[0]}/publish.py), never imported"
    assert {"backups.services.submission", "backups.services.sync", "backups.services.tracking"} <= graph[
        "backups.tasks"
    ]
    assert "notifications.services.outbox" in graph["notifications.tasks"]


@pytest.mark.parametrize("app", ["access", "backups", "notifications"])
def test_views_neither_query_the_orm_nor_publish_work(app):
    for path in (ROOT / app / "views").glob("*.py"):
        source = path.read_text()
        assert ".objects" not in source, f"{path.name}: reads belong in selectors, writes in services"
        assert "publish" not in source, f"{path.name}: services hand work to the worker"
        assert ".delay(" not in source, f"{path.name}: services hand work to the worker"


def test_no_module_is_a_second_table_of_contents():
    long = {
        name: lines
        for name, path in project_modules().items()
        if (lines := len(path.read_text().splitlines())) > MODULE_LINE_LIMIT and name != "webapp.settings"
    }
    assert not long, f"modules over {MODULE_LINE_LIMIT} lines: split them by what they do ({long})"


def test_every_task_published_by_name_exists():
    from backups import publish
    from notifications import publish as notifications_publish
    from webapp.celery import app

    app.loader.import_default_modules()
    assert set(publish.TASK_NAMES) | set(notifications_publish.TASK_NAMES) <= set(app.tasks)


def test_every_setting_of_the_settings_parts_reaches_the_settings_module():
    """webapp/settings.py imports the settings of its parts by name (its docstring says why): one
    added to a part and not to that import would be silently ignored."""
    from webapp import settings

    for part in (ROOT / "webapp").glob("*_settings.py"):
        names = {
            target.id
            for node in ast.parse(part.read_text()).body
            if isinstance(node, ast.Assign | ast.AnnAssign)
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(target, ast.Name) and target.id.isupper()
        }
        missing = sorted(name for name in names if not hasattr(settings, name))
        assert not missing, f"{part.name} sets {missing}, which webapp/settings.py does not import"
