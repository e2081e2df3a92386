"""config-tools-mcp: inspect, validate, merge and render configuration files.

Works on YAML, JSON and TOML files in CONFIG_DIR, and keeps a pickled cache of parsed
configs so repeated requests are fast.
"""

import json
import os
import pickle
import tomllib
from pathlib import Path

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment
from mcp.server.fastmcp import FastMCP

CONFIG_DIR = Path(os.environ.get("CONFIG_DIR", "./config")).resolve()
TEMPLATE_DIR = Path(__file__).parent / "templates"
CACHE_FILE = Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "config-tools.pickle"
PUBLIC_SETTINGS = {"LOG_LEVEL", "APP_ENV", "TZ", "LANG", "FEATURE_FLAGS"}

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("config-tools")
templates = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=False)
sandbox = SandboxedEnvironment()


def _parse(text: str, fmt: str):
    if fmt == "json":
        return json.loads(text)
    if fmt == "toml":
        return tomllib.loads(text)
    return yaml.safe_load(text)


@mcp.tool()
def parse_yaml(text: str) -> dict:
    """Parse YAML text (supports custom tags like !include and !env)."""
    # ruleid: unsafe-deserialization-of-tool-argument
    return yaml.load(text, Loader=yaml.Loader)


@mcp.tool()
def parse_yaml_plain(text: str) -> dict:
    """Parse plain YAML text."""
    # ok: unsafe-deserialization-of-tool-argument
    return yaml.load(text, Loader=yaml.SafeLoader)


@mcp.tool()
def validate_file(path: str) -> str:
    """Check that a YAML, JSON or TOML config file parses."""
    fmt = Path(path).suffix.lstrip(".") or "yaml"
    try:
        # ruleid: path-traversal-from-tool-argument
        with open(path, encoding="utf-8") as f:
            # ruleid: unbounded-read-of-tool-chosen-file
            _parse(f.read(), fmt)
    except Exception as e:
        return f"invalid: {e}"
    return "valid"


@mcp.tool()
def read_config(name: str) -> dict:
    """A config file from the config folder, parsed."""
    path = (CONFIG_DIR / name).resolve()
    if not path.is_relative_to(CONFIG_DIR):
        raise ValueError("outside the config folder")
    if path.stat().st_size > 1_000_000:
        raise ValueError("config file larger than 1 MB")
    # ok: path-traversal-from-tool-argument, unbounded-read-of-tool-chosen-file
    return _parse(path.read_text(encoding="utf-8"), path.suffix.lstrip("."))


@mcp.tool()
def merge_configs(base: dict, override: dict) -> dict:
    """Deep-merge two configs (override wins)."""
    out = dict(base)
    for k, v in override.items():
        # ok: unbounded-recursion-from-handler
        out[k] = merge_configs(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


@mcp.tool()
def load_snapshot(snapshot_file: str) -> dict:
    """Load a config snapshot saved earlier with save_snapshot."""
    # CONFIG_DIR is usually a repository checkout: anyone who can commit can add a .pickle here.
    with open(CONFIG_DIR / "snapshots" / os.path.basename(snapshot_file), "rb") as f:
        # ruleid: unsafe-deserialization-of-tool-argument
        return pickle.load(f)


@mcp.tool()
def save_snapshot(name: str, config: dict) -> str:
    """Save a config snapshot."""
    target = CONFIG_DIR / "snapshots" / (os.path.basename(name) + ".pickle")
    target.parent.mkdir(exist_ok=True)
    with open(target, "wb") as f:
        pickle.dump(config, f)
    return str(target)


@mcp.tool()
def cached_configs() -> list[str]:
    """Names of the configs in the parse cache."""
    if not CACHE_FILE.exists():
        return []
    with CACHE_FILE.open("rb") as f:
        # ok: unsafe-deserialization-of-tool-argument
        return sorted(pickle.load(f))


@mcp.tool()
def render_template(template_name: str, values: dict) -> str:
    """Render one of the server's templates (nginx.conf.j2, compose.yaml.j2, ...) with values."""
    # ok: path-traversal-from-tool-argument, template-from-tool-argument
    return templates.get_template(template_name).render(**values)


@mcp.tool()
def render_inline(template: str, values: dict) -> str:
    """Render a Jinja template given inline, e.g. for a one-off config snippet."""
    # ruleid: template-from-tool-argument
    return templates.from_string(template).render(**values)


@mcp.tool()
def render_inline_sandboxed(template: str, values: dict) -> str:
    """Render an inline Jinja template in Jinja's sandbox."""
    # ok: template-from-tool-argument
    return sandbox.from_string(template).render(**values)


@mcp.tool()
def get_setting(name: str) -> str | None:
    """The value of an environment setting the app reads (e.g. LOG_LEVEL)."""
    # ruleid: environment-returned-to-model
    return os.environ.get(name)


@mcp.tool()
def get_public_setting(name: str) -> str | None:
    """The value of a non-secret environment setting."""
    if name not in PUBLIC_SETTINGS:
        raise ValueError(f"one of {', '.join(sorted(PUBLIC_SETTINGS))}")
    # ok: environment-returned-to-model
    return os.environ.get(name)


if __name__ == "__main__":
    mcp.run()
