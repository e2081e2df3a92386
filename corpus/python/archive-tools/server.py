"""archive-mcp: list, extract and create archives in the uploads folder."""

import os
import shutil
import tarfile
import zipfile
from pathlib import Path

from mcp.server.fastmcp import FastMCP

UPLOADS = Path(os.environ.get("ARCHIVE_UPLOADS", "/srv/uploads")).resolve()
EXTRACT_ROOT = Path(os.environ.get("ARCHIVE_EXTRACT_ROOT", "/srv/extracted")).resolve()
MAX_MEMBERS = 10_000

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("archives")


def _upload(name: str) -> Path:
    path = (UPLOADS / name).resolve()
    if not path.is_relative_to(UPLOADS):
        raise ValueError("archives must be in the uploads folder")
    return path


def _target(folder: str) -> Path:
    path = (EXTRACT_ROOT / folder).resolve()
    if not path.is_relative_to(EXTRACT_ROOT):
        raise ValueError("extract folder must be under the extract root")
    path.mkdir(parents=True, exist_ok=True)
    return path


@mcp.tool()
def list_archive(archive: str) -> list[str]:
    """Member names of a .tar(.gz) or .zip archive in the uploads folder."""
    path = _upload(archive)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return zf.namelist()[:MAX_MEMBERS]
    with tarfile.open(path) as tf:
        return tf.getnames()[:MAX_MEMBERS]


@mcp.tool()
def extract_tar(archive: str, folder: str) -> str:
    """Extract a tar archive from the uploads folder."""
    dest = _target(folder)
    with tarfile.open(_upload(archive)) as tf:
        # ruleid: archive-extraction-without-member-checks
        tf.extractall(dest)
    return f"extracted to {dest}"


@mcp.tool()
def extract_tar_filtered(archive: str, folder: str) -> str:
    """Extract a tar archive, refusing unsafe members (Python's data filter)."""
    dest = _target(folder)
    with tarfile.open(_upload(archive)) as tf:
        # ok: archive-extraction-without-member-checks
        tf.extractall(dest, filter="data")
    return f"extracted to {dest}"


@mcp.tool()
def extract_tar_checked(archive: str, folder: str) -> str:
    """Extract a tar archive after checking member names."""
    dest = _target(folder)
    with tarfile.open(_upload(archive)) as tf:
        for member in tf.getmembers():
            if member.name.startswith("/") or ".." in member.name.split("/"):
                raise ValueError(f"unsafe member {member.name}")
        # Symbolic and hard links are not checked: a link member pointing at /etc followed by
        # a file member written through it escapes `dest`.
        # ruleid: archive-extraction-without-member-checks
        tf.extractall(dest)
    return f"extracted to {dest}"


@mcp.tool()
def extract_tar_strict(archive: str, folder: str) -> str:
    """Extract a tar archive member by member, resolving each target."""
    dest = _target(folder)
    with tarfile.open(_upload(archive)) as tf:
        members = []
        for member in tf.getmembers():
            if not (member.isfile() or member.isdir()):
                raise ValueError(f"links and devices are not allowed: {member.name}")
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest):
                raise ValueError(f"unsafe member {member.name}")
            members.append(member)
        # ok: archive-extraction-without-member-checks
        tf.extractall(dest, members=members)
    return f"extracted {len(members)} members to {dest}"


@mcp.tool()
def extract_zip(archive: str, folder: str) -> str:
    """Extract a zip archive from the uploads folder."""
    dest = _target(folder)
    with zipfile.ZipFile(_upload(archive)) as zf:
        if len(zf.infolist()) > MAX_MEMBERS:
            raise ValueError("too many members")
        # ok: archive-extraction-without-member-checks
        zf.extractall(dest)
    return f"extracted to {dest}"


@mcp.tool()
def unpack_any(archive_path: str, folder: str) -> str:
    """Unpack any archive format Python knows (zip, tar, gztar, bztar, xztar)."""
    dest = _target(folder)
    # ruleid: archive-extraction-without-member-checks, path-traversal-from-tool-argument
    shutil.unpack_archive(archive_path, dest)
    return f"unpacked to {dest}"


@mcp.tool()
def extract_one(archive: str, member: str, folder: str) -> str:
    """Extract a single member of a tar archive."""
    dest = _target(folder)
    with tarfile.open(_upload(archive)) as tf:
        # ruleid: archive-extraction-without-member-checks
        tf.extract(member, path=dest)
    return str(dest / member)


@mcp.tool()
def create_archive(name: str, paths: list[str]) -> str:
    """Bundle files into a .tar.gz in the uploads folder, to share them."""
    if "/" in name or name.startswith("."):
        raise ValueError("plain archive name expected")
    out = UPLOADS / f"{name}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for p in paths:
            # ruleid: path-traversal-from-tool-argument
            tf.add(p, arcname=os.path.basename(p))
    return str(out)


@mcp.tool()
def delete_upload(archive: str) -> str:
    """Delete an archive from the uploads folder."""
    path = _upload(archive)
    # ok: path-traversal-from-tool-argument
    path.unlink()
    return f"deleted {archive}"


if __name__ == "__main__":
    mcp.run()
