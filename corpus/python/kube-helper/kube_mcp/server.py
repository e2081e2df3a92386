"""kube-mcp: inspect and operate a Kubernetes cluster and local Docker from your assistant."""

import re

import yaml
from mcp.server.fastmcp import FastMCP

from .kubectl import CommandError, docker, kubectl, kubectl_json, shell

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
KINDS = {"pod", "pods", "deployment", "deployments", "service", "services", "configmap", "configmaps",
         "job", "jobs", "cronjob", "cronjobs", "ingress", "node", "nodes", "namespace", "namespaces"}

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("kube")


def _name(value: str, what: str) -> str:
    if not DNS1123.match(value):
        raise ValueError(f"{what} must be a Kubernetes name (lowercase letters, digits, '-')")
    return value


@mcp.tool()
def list_pods(namespace: str = "default") -> list[dict]:
    """Pods in a namespace with their phase and restarts."""
    data = kubectl_json("get", "pods", "-n", namespace)
    return [
        {
            "name": p["metadata"]["name"],
            "phase": p["status"].get("phase"),
            "restarts": sum(c.get("restartCount", 0) for c in p["status"].get("containerStatuses", [])),
        }
        for p in data["items"]
    ]


@mcp.tool()
def describe(kind: str, name: str, namespace: str = "default") -> str:
    """`kubectl describe` any object."""
    return kubectl("describe", kind, name, "-n", namespace)


@mcp.tool()
def get_object(kind: str, name: str, namespace: str = "default") -> str:
    """An object as YAML."""
    if kind.lower() not in KINDS:
        raise ValueError(f"unsupported kind {kind}")
    return kubectl("get", kind, _name(name, "name"), "-n", namespace, "-o", "yaml")


@mcp.tool()
def pod_logs(pod: str, namespace: str = "default", container: str = "", tail: int = 200) -> str:
    """The last lines of a pod's log."""
    cmd = f"{'kubectl'} logs {pod} -n {namespace} --tail={int(tail)}"
    if container:
        cmd += f" -c {container}"
    return shell(cmd + " 2>&1 | tail -c 100000")


@mcp.tool()
def scale(deployment: str, replicas: int, namespace: str = "default") -> str:
    """Scale a deployment."""
    if not 0 <= replicas <= 50:
        raise ValueError("replicas must be between 0 and 50")
    return kubectl("scale", "deployment", _name(deployment, "deployment"), f"--replicas={replicas}", "-n", namespace)


@mcp.tool()
def rollout_restart(deployment: str, namespace: str = "default") -> str:
    """Restart the pods of a deployment."""
    return kubectl("rollout", "restart", f"deployment/{deployment}", "-n", namespace)


@mcp.tool()
def apply_manifest(manifest: str, dry_run: bool = True) -> str:
    """Apply a YAML manifest (server-side dry run by default)."""
    # ruleid: unsafe-deserialization-of-tool-argument
    docs = list(yaml.load_all(manifest, Loader=yaml.Loader))
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc:
            raise ValueError("every document needs a kind")
    args = ["apply", "-f", "-"] + (["--dry-run=server"] if dry_run else [])
    try:
        return kubectl(*args, stdin=yaml.safe_dump_all(docs))
    except CommandError as e:
        return f"kubectl apply failed: {e}"


@mcp.tool()
def validate_manifest(manifest: str) -> list[str]:
    """Check a manifest parses and list the objects in it."""
    # ok: unsafe-deserialization-of-tool-argument
    docs = list(yaml.safe_load_all(manifest))
    return [f"{d.get('kind')}/{d.get('metadata', {}).get('name')}" for d in docs if isinstance(d, dict)]


@mcp.tool()
def docker_ps(all_containers: bool = False) -> str:
    """Local Docker containers."""
    return docker("ps", "--format", "{{.Names}}\t{{.Image}}\t{{.Status}}", *(["-a"] if all_containers else []))


@mcp.tool()
def docker_logs(container: str, tail: int = 200) -> str:
    """Logs of a local container."""
    return docker("logs", "--tail", str(int(tail)), "--", container)


@mcp.tool()
def current_context() -> str:
    """The kubectl context in use."""
    return kubectl("config", "current-context").strip()


def main() -> None:
    mcp.run()
