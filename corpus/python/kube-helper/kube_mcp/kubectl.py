"""Helpers that shell out to kubectl and docker."""

import json
import os
import subprocess

KUBECTL = os.environ.get("KUBECTL", "kubectl")
DEFAULT_TIMEOUT = 60


class CommandError(RuntimeError):
    pass


def kubectl(*args: str, stdin: str | None = None, timeout: int = DEFAULT_TIMEOUT) -> str:
    """Run kubectl with an argument list (no shell)."""
    # ruleid: argument-injection-from-tool-argument
    proc = subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise CommandError(proc.stderr.strip())
    return proc.stdout


def kubectl_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json"))


def shell(command: str, timeout: int = DEFAULT_TIMEOUT) -> str:
    """Run a command line through the shell (for pipes)."""
    # ruleid: shell-command-from-tool-argument
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=timeout)
    return proc.stdout + proc.stderr


def docker(*args: str) -> str:
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
    if proc.returncode != 0:
        raise CommandError(proc.stderr.strip())
    return proc.stdout
