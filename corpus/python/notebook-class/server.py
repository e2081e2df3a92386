"""jupyter-notebook-mcp: read, edit and run Jupyter notebooks.

Written as a class so that several notebook roots can be served from one process
(see `main`).
"""

import json
import logging
import os
import subprocess
import sys
import traceback
from pathlib import Path

from mcp.server.fastmcp import FastMCP

log = logging.getLogger(__name__)


class NotebookServer:
    """One MCP server per notebook root."""

    def __init__(self, root: str, name: str = "notebooks"):
        self.root = Path(root).expanduser().resolve()
        # ruleid: dangerous-tools-without-rate-limit
        self.mcp = FastMCP(name)
        self.namespace: dict = {}
        for method in (self.list_notebooks, self.read_notebook, self.read_cell, self.add_cell,
                       self.run_cell, self.export, self.save_output, self.kernel_env):
            self.mcp.tool()(method)
        self.mcp.add_tool(self.notebook_info, name="notebook_info")

    def _inside(self, rel: str) -> Path:
        path = (self.root / rel).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{rel} is outside {self.root}")
        return path

    def _load(self, path: Path) -> dict:
        if path.stat().st_size > 20 * 1024 * 1024:
            raise ValueError("notebook larger than 20 MB")
        with path.open(encoding="utf-8") as f:
            return json.load(f)

    def list_notebooks(self) -> list[str]:
        """All .ipynb files under the root."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.rglob("*.ipynb"))

    def read_notebook(self, notebook: str) -> list[dict]:
        """The cells of a notebook (type and source)."""
        nb = self._load(self._inside(notebook))
        return [{"index": i, "type": c["cell_type"], "source": "".join(c["source"])} for i, c in enumerate(nb["cells"])]

    def read_cell(self, notebook: str, index: int) -> str:
        """The source of one cell."""
        path = self.root / notebook
        # ruleid: path-traversal-from-tool-argument
        with open(path, encoding="utf-8") as f:
            nb = json.load(f)
        return "".join(nb["cells"][index]["source"])

    def add_cell(self, notebook: str, source: str, cell_type: str = "code") -> str:
        """Append a cell to a notebook."""
        path = self._inside(notebook)
        nb = self._load(path)
        nb["cells"].append({"cell_type": cell_type, "metadata": {}, "source": source.splitlines(True),
                            **({"outputs": [], "execution_count": None} if cell_type == "code" else {})})
        # ok: path-traversal-from-tool-argument
        path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
        return f"cell {len(nb['cells']) - 1} added"

    def run_cell(self, code: str) -> str:
        """Run code in the server's Python kernel and return its result."""
        try:
            # ruleid: code-evaluation-of-tool-argument
            exec(compile(code, "<cell>", "exec"), self.namespace)
        except Exception:
            # ruleid: stack-trace-returned-to-model
            return traceback.format_exc()
        return repr(self.namespace.get("_", None))

    def export(self, notebook: str, to: str = "html") -> str:
        """Export a notebook with nbconvert (html, pdf, markdown, script)."""
        if to not in {"html", "pdf", "markdown", "script"}:
            raise ValueError("unsupported format")
        # ruleid: shell-command-from-tool-argument
        proc = subprocess.run(f"jupyter nbconvert --to {to} '{notebook}'", shell=True, cwd=self.root,
                              capture_output=True, text=True, timeout=300)
        return proc.stderr[-2000:]

    def save_output(self, filename: str, content: str) -> str:
        """Save text produced by a cell (CSV, JSON, ...) next to the notebooks."""
        # ruleid: path-traversal-from-tool-argument
        Path(self.root, filename).write_text(content, encoding="utf-8")
        return f"saved {filename}"

    def kernel_env(self) -> dict:
        """Python version and interpreter of the kernel."""
        # ok: environment-returned-to-model
        return {"python": sys.version, "executable": sys.executable, "venv": os.environ.get("VIRTUAL_ENV")}

    def notebook_info(self, notebook: str) -> dict:
        """Kernel name and cell count of a notebook."""
        try:
            nb = self._load(self._inside(notebook))
        except (OSError, ValueError) as e:
            log.warning("notebook_info(%s): %s", notebook, e)
            # ok: stack-trace-returned-to-model
            return {"error": str(e)}
        return {"kernel": nb.get("metadata", {}).get("kernelspec", {}).get("name"), "cells": len(nb["cells"])}


def main() -> None:
    server = NotebookServer(os.environ.get("NOTEBOOK_ROOT", "."))
    server.mcp.run()


if __name__ == "__main__":
    main()
