"""s3-mcp: upload, download and share files through an S3 bucket."""

import mimetypes
import os
from pathlib import Path

import boto3
import requests
from botocore.exceptions import ClientError
from mcp.server.fastmcp import FastMCP

BUCKET = os.environ["S3_BUCKET"]
WORKSPACE = Path(os.environ.get("S3_MCP_WORKSPACE", "~/s3-workspace")).expanduser().resolve()
MAX_TEXT = 200_000

s3 = boto3.client("s3", region_name=os.environ.get("AWS_REGION", "us-east-1"))
# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("s3")


def _workspace_file(rel: str) -> Path:
    path = (WORKSPACE / rel).resolve()
    if os.path.commonpath([WORKSPACE, path]) != str(WORKSPACE):
        raise ValueError("file must be inside the workspace")
    return path


@mcp.tool()
def list_objects(prefix: str = "", limit: int = 100) -> dict:
    """How many objects are under a prefix, and their total size."""
    resp = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix, MaxKeys=min(limit, 1000))
    contents = resp.get("Contents", [])
    # ok: untrusted-content-returned-unmarked
    return {"count": len(contents), "bytes": sum(o["Size"] for o in contents), "truncated": resp["IsTruncated"]}


@mcp.tool()
def upload_file(local_path: str, key: str = "") -> str:
    """Upload a local file to the bucket."""
    key = key or os.path.basename(local_path)
    content_type = mimetypes.guess_type(local_path)[0] or "application/octet-stream"
    # ruleid: path-traversal-from-tool-argument
    s3.upload_file(local_path, BUCKET, key, ExtraArgs={"ContentType": content_type})
    return f"s3://{BUCKET}/{key}"


@mcp.tool()
def upload_from_workspace(rel_path: str, key: str = "") -> str:
    """Upload a file from the workspace folder to the bucket."""
    path = _workspace_file(rel_path)
    # ok: path-traversal-from-tool-argument
    s3.upload_file(str(path), BUCKET, key or path.name)
    return f"s3://{BUCKET}/{key or path.name}"


@mcp.tool()
def download_file(key: str, dest: str = "") -> str:
    """Download an object into the workspace (or to `dest`)."""
    target = dest or str(WORKSPACE / os.path.basename(key))
    # ruleid: path-traversal-from-tool-argument
    s3.download_file(BUCKET, key, target)
    return target


@mcp.tool()
def read_text_object(key: str) -> str:
    """The content of a text object (README, CSV, JSON)."""
    try:
        obj = s3.get_object(Bucket=BUCKET, Key=key, Range=f"bytes=0-{MAX_TEXT}")
    except ClientError as e:
        return f"error: {e.response['Error']['Code']}"
    # The Range header bounds the body; this is not a file on disk.
    # ruleid: untrusted-content-returned-unmarked
    # ok: unbounded-read-of-tool-chosen-file
    return obj["Body"].read().decode("utf-8", "replace")


@mcp.tool()
def presign(key: str, expires_in: int = 3600) -> str:
    """A temporary download link for an object."""
    return s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key},
                                     ExpiresIn=min(int(expires_in), 7 * 24 * 3600))


@mcp.tool()
def mirror_url(url: str, key: str) -> str:
    """Fetch a URL and store the response in the bucket."""
    # ruleid: request-to-tool-chosen-url
    resp = requests.get(url, timeout=60)
    resp.raise_for_status()
    s3.put_object(Bucket=BUCKET, Key=key, Body=resp.content,
                  ContentType=resp.headers.get("content-type", "application/octet-stream"))
    return f"s3://{BUCKET}/{key} ({len(resp.content)} bytes)"


@mcp.tool()
def put_text(key: str, text: str) -> str:
    """Write text to an object."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8")
    return f"s3://{BUCKET}/{key}"


@mcp.tool()
def aws_identity() -> dict:
    """Which AWS identity the server uses, to debug AccessDenied errors."""
    ident = boto3.client("sts").get_caller_identity()
    # ruleid: environment-returned-to-model
    return {"arn": ident["Arn"], "access_key_id": os.environ.get("AWS_ACCESS_KEY_ID"),
            "secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY")}


@mcp.tool()
def bucket_info() -> dict:
    """The bucket and region in use."""
    # ok: environment-returned-to-model
    return {"bucket": BUCKET, "region": os.environ.get("AWS_REGION", "us-east-1")}


@mcp.tool()
def read_local(rel_path: str) -> str:
    """Read a text file from the workspace, e.g. to check it before uploading."""
    path = _workspace_file(rel_path)
    with path.open(encoding="utf-8", errors="replace") as f:
        # ruleid: unbounded-read-of-tool-chosen-file
        return f.read()


if __name__ == "__main__":
    mcp.run()
