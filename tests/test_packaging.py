"""newswatch installs as one package, `newswatch`, and its layers only import downwards."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from newswatch.paths import PROJECT_ROOT, SEEDS_DIR

# Top to bottom. A module may import its own layer or any layer below it, never one above.
# Layers joined in one tuple are siblings and must not import each other.
LAYERS: list[tuple[str, ...]] = [
    ("newswatch.interfaces",),
    ("newswatch.query", "newswatch.flows"),
    ("newswatch.pipelines",),
    ("newswatch.store",),
    ("newswatch.settings",),
    ("newswatch.paths",),
    ("newswatch.schemas", "newswatch.seeds"),
]
SOURCE_DIRS = {
    "newswatch": PROJECT_ROOT / "newswatch",
    "newswatch.flows": PROJECT_ROOT / "flows",
    "newswatch.pipelines": PROJECT_ROOT / "pipelines",
}


def _layer(module: str) -> tuple[int, str] | None:
    for rank, names in enumerate(LAYERS):
        for name in names:
            if module == name or module.startswith(name + "."):
                return rank, name
    return None


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in SOURCE_DIRS.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            name = ".".join((package, *parts)).removesuffix(".__init__")
            found.setdefault(name, path)
    return found


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_module_imports_a_layer_above_it_or_a_sibling_layer() -> None:
    violations = []
    for module, path in _modules().items():
        own = _layer(module)
        if own is None:
            continue
        for imported in _imports(path):
            other = _layer(imported)
            if other and (other[0] < own[0] or (other[0] == own[0] and other[1] != own[1])):
                violations.append(f"{module} imports {imported}")
    assert not violations, "layering broken:\n" + "\n".join(sorted(violations))


def test_the_old_top_level_names_are_gone_from_the_code() -> None:
    offenders = [m for m, p in _modules().items() for i in _imports(p) if i.split(".")[0] in {"flows", "pipelines"}]
    assert not offenders


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(PROJECT_ROOT)], check=True, capture_output=True)
    (found,) = out.glob("newswatch-*.whl")
    return found


@pytest.fixture(scope="module")
def fresh_env(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment outside the checkout with only the wheel installed in it.

    Its dependencies come from this environment's site-packages through a path entry (a plain path,
    so this environment's editable-install hook is *not* loaded): the test is about what the wheel
    itself puts into site-packages, without downloading the dependencies again."""
    root = tmp_path_factory.mktemp("fresh")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    site = Path(
        subprocess.check_output([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip()
    )
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    return root


def test_the_wheel_puts_exactly_one_top_level_package_into_site_packages(wheel: Path, fresh_env: Path) -> None:
    import zipfile

    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert tops == {"newswatch"}
    python = fresh_env / "venv" / "bin" / "python"
    probe = "import importlib.util as u, newswatch; print([n for n in ('flows', 'pipelines') if u.find_spec(n)]); print(newswatch.__file__)"
    lines = subprocess.check_output([str(python), "-c", probe], cwd=fresh_env, text=True).splitlines()
    assert lines[0] == "[]"
    assert str(fresh_env) in lines[1]


def test_the_installed_wheel_tags_the_seed_article_outside_the_checkout(fresh_env: Path) -> None:
    seed = SEEDS_DIR / "demo" / "seed-article.txt"
    run = subprocess.run(
        [str(fresh_env / "venv" / "bin" / "newswatch"), "tag", str(seed), "--title", "Putin and Lukashenko"],
        cwd=fresh_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    article = json.loads(run.stdout)
    names = {a["name"] for a in article["actors"]}
    assert {"Vladimir Putin", "Alexander Lukashenko"} <= names
    assert article["topics"]


def test_the_installed_wheel_ships_the_web_app_and_its_assets(fresh_env: Path) -> None:
    """Templates, JS and CSS come from the wheel (no CDN, nothing read from the checkout)."""
    probe = (
        "from fastapi.testclient import TestClient; from newswatch.interfaces.web.app import create_app, HERE; "
        "from newswatch.settings import Settings; c = TestClient(create_app(Settings()), base_url='http://127.0.0.1'); "
        "print(HERE); print(c.get('/static/app.js').status_code, c.get('/static/app.css').status_code, "
        "c.get('/login').status_code, 'Log in' in c.get('/login').text)"
    )
    lines = subprocess.check_output([str(fresh_env / "venv" / "bin" / "python"), "-c", probe], cwd=fresh_env, text=True).splitlines()
    assert str(fresh_env) in lines[0]
    assert lines[1] == "200 200 200 True"
