"""convert-mcp: convert documents and media with pandoc, ffmpeg and poppler.

Input files are taken from WORKSPACE; converted files are written to WORKSPACE/converted.
"""

import os
import re
import subprocess
import tempfile
from pathlib import Path

from mcp.server.fastmcp import FastMCP

WORKSPACE = Path(os.environ.get("CONVERT_WORKSPACE", "~/Documents")).expanduser().resolve()
OUT_DIR = WORKSPACE / "converted"
PANDOC_FORMATS = {"markdown", "html", "docx", "pdf", "rst", "latex", "odt", "epub", "plain"}
AUDIO_FORMATS = {"mp3", "wav", "ogg", "flac", "m4a"}

# ruleid: dangerous-tools-without-rate-limit, tool-calls-not-logged
mcp = FastMCP("convert")


def _inside(path: str) -> Path:
    p = (WORKSPACE / path).resolve()
    if not p.is_relative_to(WORKSPACE):
        raise ValueError("files must be inside the workspace")
    return p


@mcp.tool()
def convert_document(input_file: str, to_format: str) -> str:
    """Convert a document with pandoc (markdown, docx, html, pdf, ...)."""
    if to_format not in PANDOC_FORMATS:
        raise ValueError(f"unsupported format {to_format}")
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / (Path(input_file).stem + "." + ("txt" if to_format == "plain" else to_format))
    # ruleid: argument-injection-from-tool-argument
    proc = subprocess.run(["pandoc", input_file, "-t", to_format, "-o", str(out)],
                          cwd=WORKSPACE, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        return f"pandoc failed: {proc.stderr[-2000:]}"
    return f"written {out}"


@mcp.tool()
def convert_document_checked(input_file: str, to_format: str) -> str:
    """Convert a workspace document with pandoc."""
    if to_format not in PANDOC_FORMATS:
        raise ValueError(f"unsupported format {to_format}")
    src = _inside(input_file)
    out = OUT_DIR / (src.stem + "." + to_format)
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(["pandoc", str(src), "-t", to_format, "-o", str(out)],
                          capture_output=True, text=True, timeout=120)
    return f"written {out}" if proc.returncode == 0 else proc.stderr[-2000:]


@mcp.tool()
def extract_audio(video_file: str, audio_format: str = "mp3") -> str:
    """Extract the audio track of a video."""
    if audio_format not in AUDIO_FORMATS:
        raise ValueError("unsupported audio format")
    out = OUT_DIR / f"{Path(video_file).stem}.{audio_format}"
    # ruleid: shell-command-from-tool-argument
    rc = os.system(f'ffmpeg -y -i "{video_file}" -vn "{out}" > /dev/null 2>&1')
    return f"written {out}" if rc == 0 else f"ffmpeg exited with {rc}"


@mcp.tool()
def thumbnail(video_file: str, at_seconds: float = 1.0) -> str:
    """Grab one frame of a video as a PNG."""
    src = _inside(video_file)
    out = OUT_DIR / f"{src.stem}.png"
    # ok: argument-injection-from-tool-argument
    subprocess.run(["ffmpeg", "-y", "-ss", str(float(at_seconds)), "-i", str(src), "-frames:v", "1", str(out)],
                   capture_output=True, timeout=60, check=True)
    return str(out)


@mcp.tool()
def pdf_to_text(pdf_file: str, first_page: int = 1, last_page: int = 20) -> str:
    """Extract the text of a PDF with pdftotext."""
    path = os.path.abspath(os.path.join(WORKSPACE, pdf_file))
    # ok: argument-injection-from-tool-argument
    proc = subprocess.run(["pdftotext", "-f", str(int(first_page)), "-l", str(int(last_page)), "-layout", path, "-"],
                          capture_output=True, text=True, timeout=60)
    return proc.stdout[:100_000]


@mcp.tool()
def media_info(media_file: str) -> str:
    """Duration, codecs and resolution of a media file (ffprobe)."""
    # ruleid: shell-command-from-tool-argument
    out = subprocess.check_output("ffprobe -hide_banner -show_format -show_streams " + media_file,
                                  shell=True, stderr=subprocess.STDOUT, text=True, timeout=30)
    return out[:20_000]


@mcp.tool()
def markdown_to_slides(markdown: str, theme: str = "default") -> str:
    """Turn Markdown text into a reveal.js slide deck."""
    if not re.fullmatch(r"[a-z]+", theme):
        raise ValueError("theme must be a lowercase word")
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False) as f:
        f.write(markdown)
    out = OUT_DIR / "slides.html"
    # ok: argument-injection-from-tool-argument
    subprocess.run(["pandoc", f.name, "-t", "revealjs", "-s", "-V", f"theme={theme}", "-o", str(out)],
                   check=True, timeout=120)
    return str(out)


@mcp.tool()
def read_converted(name: str) -> str:
    """Read a converted text file back."""
    path = OUT_DIR / name
    # ruleid: path-traversal-from-tool-argument, unbounded-read-of-tool-chosen-file
    return path.read_text(errors="replace")


if __name__ == "__main__":
    mcp.run()
