"""Tutorial section 5: the page's files as published, and what they must never contain."""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path

import pytest

from config.settings import APP_STACK, cognito_endpoint
from modules.api import routes as api_routes
from modules.site import assets as site_assets
from modules.site.assets import FRONTEND_DIR, IMMUTABLE, REVALIDATE, SiteBuildError, build_site
from tests.asset_scan import findings
from tests.conftest import TARGETS, Synth
from tests.synth_helpers import resources

PAGE = '<link rel="stylesheet" href="styles.css"><script src="scripts.js" defer></script><a href="#main">x</a>'


def _site(tmp_path: Path, files: dict[str, str]) -> Path:
    source = tmp_path / "frontend"
    source.mkdir()
    for name, text in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(text, encoding="utf-8")
    return source


def test_assets_get_content_hash_names_and_the_page_names_them(tmp_path: Path) -> None:
    source = _site(tmp_path, {"index.html": PAGE, "styles.css": "body{}", "scripts.js": "run()"})
    objects = {item.key: item for item in build_site(tmp_path / "out", source_dir=source)}
    css = next(key for key in objects if key.startswith("styles."))
    assert re.fullmatch(r"styles\.[0-9a-f]{12}\.css", css)
    assert css == site_assets.fingerprinted("styles.css", b"body{}")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert f'href="/{css}"' in page and 'href="#main"' in page
    assert 'href="styles.css"' not in page and 'src="scripts.js"' not in page


def test_a_changed_file_gets_a_new_name(tmp_path: Path) -> None:
    source = _site(tmp_path, {"index.html": PAGE, "styles.css": "body{}", "scripts.js": "run()"})
    before = {item.source_name: item.key for item in build_site(tmp_path / "a", source_dir=source)}
    (source / "styles.css").write_text("body{color:red}", encoding="utf-8")
    after = {item.source_name: item.key for item in build_site(tmp_path / "b", source_dir=source)}
    assert before["styles.css"] != after["styles.css"]
    assert before["scripts.js"] == after["scripts.js"]
    assert before["index.html"] == after["index.html"] == "index.html"


def test_page_and_config_revalidate_while_assets_are_immutable(tmp_path: Path) -> None:
    source = _site(tmp_path, {"index.html": PAGE, "styles.css": "body{}", "scripts.js": "run()"})
    objects = {item.source_name: item for item in build_site(tmp_path / "out", source_dir=source)}
    assert objects["index.html"].cache_control == objects["config.json"].cache_control == REVALIDATE == "no-cache"
    assert objects["styles.css"].cache_control == objects["scripts.js"].cache_control == IMMUTABLE
    assert "max-age=31536000" in IMMUTABLE and "immutable" in IMMUTABLE
    assert objects["index.html"].content_type == "text/html; charset=utf-8"
    assert objects["scripts.js"].content_type == "text/javascript; charset=utf-8"
    assert objects["config.json"].content_type == "application/json; charset=utf-8"


def test_config_carries_the_gateway_schema_and_relative_api_paths(tmp_path: Path) -> None:
    source = _site(tmp_path, {"index.html": PAGE, "styles.css": "", "scripts.js": ""})
    build_site(tmp_path / "out", source_dir=source)
    config = json.loads((tmp_path / "out" / "config.json").read_text(encoding="utf-8"))
    assert config["api"] == {"students": "/students", "backup": "/backup"}
    assert config["studentSchema"]["required"] == ["studentid", "name", "class", "birthdate", "email"]
    assert config["studentSchema"]["properties"] == api_routes.student_schema()["properties"]
    assert config == site_assets.runtime_config()
    assert "auth" not in config, "a build without sign-in settings has none"


def test_config_tells_the_page_where_staff_sign_in(tmp_path: Path) -> None:
    sign_in = site_assets.StaffSignIn(
        region="ap-southeast-1", user_pool_id="${pool.id}", client_id="${client.id}", endpoint="/_cognito/"
    )
    config = site_assets.runtime_config(sign_in=sign_in)
    assert config["auth"] == {
        "region": "ap-southeast-1",
        "userPoolId": "${pool.id}",
        "clientId": "${client.id}",
        "endpoint": "/_cognito/",
    }
    source = _site(tmp_path, {"index.html": PAGE, "styles.css": "", "scripts.js": ""})
    objects = {item.key: item for item in build_site(tmp_path / "out", source_dir=source, config=config)}
    # Terraform writes it from this text (resolving the references); every other object from its file.
    assert objects["config.json"].text == site_assets.config_text(config)
    assert json.loads(str(objects["config.json"].text)) == config
    assert [key for key, item in objects.items() if item.text is not None] == ["config.json"]


def test_terraform_template_syntax_in_the_config_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Terraform reads config.json's text as a template: a literal ``${`` would be interpolated, not uploaded."""
    schema = api_routes.student_schema()
    schema["properties"]["class"]["pattern"] = "^x${1}"
    monkeypatch.setattr(api_routes, "student_schema", lambda: schema)
    with pytest.raises(SiteBuildError, match=re.escape("Terraform template syntax")):
        site_assets.runtime_config()


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"index.html": '<script src="missing.js"></script>'}, "names no file of the site"),
        ({"index.html": '<script src="https://cdn.example.com/x.js"></script>'}, "names no file of the site"),
        ({"index.html": PAGE, "styles.css": "", "scripts.js": 'load("styles.css")'}, "only index.html may reference"),
        ({"index.html": "", "notes.txt": "x"}, "no content type is known for '.txt'"),
        ({"index.html": "", "config.json": "{}"}, "config.json is generated by the build"),
        ({"styles.css": ""}, "the site has no page"),
    ],
    ids=["missing file", "external script", "asset names asset", "unknown type", "hand-written config", "no page"],
)
def test_build_refuses_a_site_it_cannot_publish_naming_the_file(
    tmp_path: Path, files: dict[str, str], problem: str
) -> None:
    source = _site(tmp_path, files)
    with pytest.raises(SiteBuildError, match=re.escape(problem)):
        build_site(tmp_path / "out", source_dir=source)


# --- The page's ES modules -----------------------------------------------------------

MODULE_PAGE = '<script type="module" src="js/main.js"></script>'
#: main imports app, app imports a leaf in a folder below and a module in the folder above; other stands alone.
MODULES = {
    "index.html": MODULE_PAGE,
    "js/main.js": 'import { start } from "./app.js";\nstart();\n',
    "js/app.js": 'import { leaf } from "./lib/leaf.js";\nexport * from "../shared.js";\nexport const start = leaf;\n',
    "js/lib/leaf.js": "export function leaf() {}\n",
    "shared.js": "export const shared = 1;\n",
    "js/other.js": "export const other = 2;\n",
}
#: A quoted relative path to a module, in any built module: how the browser resolves an import.
RELATIVE_MODULE = re.compile(r"""["'](\.{1,2}/[^"']+\.js)["']""")


def _built(tmp_path: Path, source: Path, out: str) -> dict[str, str]:
    """Source name → built key (``index.html`` included: its key stays, so its hash stands in)."""
    objects = build_site(tmp_path / out, source_dir=source)
    keys = {item.source_name: item.key for item in objects}
    keys["index.html"] = next(item.sha256 for item in objects if item.key == "index.html")
    return keys


def _resolved_imports(out_dir: Path, key: str) -> list[str]:
    """The keys a built module's imports name, resolved as a browser resolves them against its URL."""
    text = (out_dir / key).read_text(encoding="utf-8")
    folder = posixpath.dirname(key)
    return [posixpath.normpath(posixpath.join(folder, found)) for found in RELATIVE_MODULE.findall(text)]


def test_a_changed_module_renames_every_module_that_imports_it_and_the_page(tmp_path: Path) -> None:
    source = _site(tmp_path, MODULES)
    before = _built(tmp_path, source, "a")
    (source / "js/lib/leaf.js").write_text("export function leaf() { return 1; }\n", encoding="utf-8")
    after = _built(tmp_path, source, "b")
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"js/lib/leaf.js", "js/app.js", "js/main.js", "index.html"}


def test_imports_name_the_published_modules_relative_to_the_importer(tmp_path: Path) -> None:
    source = _site(tmp_path, MODULES)
    keys = _built(tmp_path, source, "out")
    app = (tmp_path / "out" / keys["js/app.js"]).read_text(encoding="utf-8")
    leaf, shared = keys["js/lib/leaf.js"].removeprefix("js/"), keys["shared.js"]
    assert f'import {{ leaf }} from "./{leaf}";' in app and f'export * from "../{shared}";' in app
    assert _resolved_imports(tmp_path / "out", keys["js/app.js"]) == [keys["js/lib/leaf.js"], shared]
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert f'src="/{keys["js/main.js"]}"' in page


def test_every_import_in_the_built_page_resolves_to_a_built_module(tmp_path: Path) -> None:
    objects = build_site(tmp_path / "site")
    keys = {item.key for item in objects}
    modules = [key for key in keys if key.endswith(".js")]
    imports = {key: _resolved_imports(tmp_path / "site", key) for key in modules}
    assert sum(map(len, imports.values())) >= len(modules) - 1, "the page's modules import one another"
    unresolved = {key: [found for found in named if found not in keys] for key, named in imports.items()}
    assert unresolved == {key: [] for key in modules}
    # The page loads its entry; every module is reached from it.
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    (entry,) = re.findall(r'<script type="module" src="/([^"]+)"', page)
    reached, waiting = set(), [entry]
    while waiting:
        key = waiting.pop()
        if key not in reached:
            reached.add(key)
            waiting += imports[key]
    assert reached == set(modules)


def test_import_like_text_in_comments_strings_and_templates_is_not_an_import(tmp_path: Path) -> None:
    text = (
        '// import("./gone.js") in a comment\n/* import x from "lit" */\n'
        "const said = 'import x from \"lit\"';\nconst shown = `import(${said})`;\nconst path = /import\\(/.source;\n"
    )
    source = _site(tmp_path, {"index.html": MODULE_PAGE, "js/main.js": text})
    keys = _built(tmp_path, source, "out")
    assert (tmp_path / "out" / keys["js/main.js"]).read_text(encoding="utf-8") == text


OTHER = "export const other = 1;\n"


@pytest.mark.parametrize(
    ("modules", "named", "problem"),
    [
        ({"js/main.js": 'import("./other.js").then(run);'}, "js/main.js", "a dynamic import() on line 1"),
        ({"js/main.js": 'import { html } from "lit";'}, "js/main.js", 'import "lit" is not a relative path'),
        ({"js/main.js": 'import "/js/other.js";'}, "js/main.js", 'import "/js/other.js" is not a relative path'),
        ({"js/main.js": 'import "https://cdn.example.com/x.js";'}, "js/main.js", "https://cdn.example.com/x.js"),
        ({"js/main.js": 'import "./missing.js";'}, "js/main.js", 'import "./missing.js" names no module of the site'),
        ({"js/main.js": 'import "../styles.css";'}, "js/main.js", 'import "../styles.css" names no module of'),
        ({"js/main.js": 'import "./main.js";'}, "js/main.js", "a cycle (js/main.js -> js/main.js)"),
        (
            {"js/main.js": 'import "./other.js";', "js/other.js": 'import "./main.js";'},
            "js/other.js",
            "a cycle (js/main.js -> js/other.js -> js/main.js)",
        ),
        ({"js/main.js": 'fetch("./other.js");'}, "js/main.js", "names js/other.js: only index.html may reference"),
        ({"js/other.js": "const s = 'unterminated;"}, "js/other.js", "an unterminated string on line 1"),
    ],
    ids=["dynamic", "bare", "absolute", "url", "missing", "not a module", "self", "cycle", "fetch", "unreadable"],
)
def test_build_refuses_a_module_it_cannot_publish_naming_the_module(
    tmp_path: Path, modules: dict[str, str], named: str, problem: str
) -> None:
    files = {"index.html": MODULE_PAGE, "styles.css": "", "js/main.js": "", "js/other.js": OTHER}
    source = _site(tmp_path, files | modules)
    with pytest.raises(SiteBuildError) as refused:
        build_site(tmp_path / "out", source_dir=source)
    assert str(refused.value).startswith(str(source / named))
    assert problem in str(refused.value)


@pytest.mark.parametrize(
    "text",
    [
        "headers['x-api-key'] = key",
        "fetch('https://abc123.execute-api.us-east-1.amazonaws.com/prod/students')",
        "const account = '123456789012';",
        '<link rel="stylesheet" href="https://cdn.example.com/bootstrap.css">',
        '<script src="//cdn.example.com/x.js"></script>',
        "@import 'theme.css';",
        "background: url(data:image/png;base64,AAAA)",
    ],
)
def test_scan_finds_each_forbidden_thing(text: str) -> None:
    assert findings("scripts.js", text)


def test_scan_allows_fingerprints_and_the_svg_namespace() -> None:
    assert findings("index.html", '<script src="/scripts.123456789012.js">') == []
    assert findings("favicon.svg", '<svg xmlns="http://www.w3.org/2000/svg"></svg>') == []
    assert findings("page.html", "<svg xmlns='http://www.w3.org/2000/svg'>") != []


def test_no_frontend_file_holds_a_key_an_api_host_an_account_or_an_external_url() -> None:
    files = sorted(path for path in FRONTEND_DIR.rglob("*") if path.is_file())
    assert any(path.name == "index.html" for path in files)
    problems = [
        problem for path in files for problem in findings(path.name, path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert problems == []


@pytest.mark.parametrize("target", TARGETS)
def test_no_uploaded_object_holds_a_key_an_api_host_an_account_or_an_external_url(
    synth: dict[str, Synth], target: str
) -> None:
    stack = synth[target].stack(APP_STACK)
    objects = {item["key"]: item for item in resources(stack, "aws_s3_object").values()}
    assert {"index.html", "config.json"} <= set(objects)
    assert len(objects) == len(build_site(Path(synth[target].outdir) / "scan-site"))
    # Only config.json is written from text (it names the staff pool), never from base64.
    assert [key for key, item in objects.items() if "content" in item] == ["config.json"]
    assert all("content_base64" not in item for item in objects.values())
    texts = {
        key: item["content"]
        if "content" in item
        else (synth[target].stack_dir(APP_STACK) / item["source"]).read_text(encoding="utf-8")
        for key, item in objects.items()
    }
    # The one external address the page may know: Cognito's endpoint, where staff sign in (aws target only).
    cognito = cognito_endpoint(stack["provider"]["aws"][0]["region"])
    assert (cognito in texts["config.json"]) is (target == "aws")
    texts["config.json"] = texts["config.json"].replace(cognito, "")
    problems = [problem for key, text in texts.items() for problem in findings(key, text)]
    assert problems == []
