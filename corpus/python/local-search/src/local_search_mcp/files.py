"""File helpers shared by the tools."""

import os

PROJECTS = os.path.realpath(os.path.expanduser(os.environ.get("SEARCH_ROOT", "~/projects")))


def project_path(rel: str) -> str:
    """A path inside the projects folder, or ValueError."""
    path = os.path.realpath(os.path.join(PROJECTS, rel))
    if path != PROJECTS and not path.startswith(PROJECTS + os.sep):
        raise ValueError(f"{rel} is outside {PROJECTS}")
    return path


def unchecked_path(rel: str) -> str:
    """Legacy helper kept for the snippet tool: only refuses parent references."""
    # ruleid: dotdot-check-misses-absolute-paths
    if ".." in rel.split("/"):
        raise ValueError("parent references are not allowed")
    return os.path.join(PROJECTS, rel)
