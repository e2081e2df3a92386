//! Unpacking a downloaded archive (`.tar.gz` or zip) into a private folder, treating the archive
//! as hostile.
//!
//! For every entry: a path that is absolute, has a `..` component or a drive prefix is refused;
//! symlinks, hard links, devices and FIFOs are skipped (never created), so nothing written later
//! can be redirected outside the folder; only regular files and folders are made, with fixed
//! modes (0644 and 0755), never the archive's permissions, owners or times. Totals are capped:
//! bytes decompressed (tar) or written (zip), and the number of entries, against bombs.
//!
//! Ignore files (`.gitignore`, `.ignore`) and `.git` folders are not unpacked: the scanner's
//! folder walk honours them, and a package must not be able to hide its own files from the scan.
//!
//! Trade-off: a refused or skipped entry does not stop the scan; it becomes a note, because
//! what the rest of the package holds is still worth reporting, and the note itself is a strong
//! signal. Going over a cap does stop it: a partial scan of a bomb would mislead.

use std::cell::Cell;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, bail};

use super::http::human_size;

/// How much an archive may unpack to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_entries: usize,
}

pub const LIMITS: Limits = Limits {
    max_bytes: 1 << 30,
    max_entries: 100_000,
};

/// Skipped entries listed one by one before the rest are only counted.
const LISTED_SKIPS: usize = 20;

/// What unpacking did.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: usize,
    pub bytes: u64,
    /// One line per refused or skipped entry (the first [`LISTED_SKIPS`]).
    pub skipped: Vec<String>,
    pub skipped_total: usize,
}

impl Unpacked {
    fn skip(&mut self, name: &str, why: impl std::fmt::Display) {
        self.skipped_total += 1;
        if self.skipped.len() < LISTED_SKIPS {
            self.skipped
                .push(format!("`{}` {why}", name.escape_debug()));
        }
    }

    /// The skips as notes, with a count of those not listed.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = self.skipped.clone();
        if self.skipped_total > self.skipped.len() {
            notes.push(format!(
                "{} more entries refused or skipped",
                self.skipped_total - self.skipped.len()
            ));
        }
        notes
    }
}

/// Why an entry's path is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PathProblem {
    Absolute,
    ParentDir,
    Empty,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathProblem::Absolute => "refused: an absolute path",
            PathProblem::ParentDir => "refused: a `..` path that leaves the package",
            PathProblem::Empty => "refused: an empty path",
        })
    }
}

/// The entry's path made relative and checked: only plain names, `.` dropped.
pub fn safe_relative(raw: &Path) -> Result<PathBuf, PathProblem> {
    let mut out = PathBuf::new();
    for component in raw.components() {
        match component {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err(PathProblem::ParentDir),
            Component::RootDir | Component::Prefix(_) => return Err(PathProblem::Absolute),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(PathProblem::Empty);
    }
    Ok(out)
}

/// Whether a path should be left out on purpose (see the module docs): ignore files, `.git`.
fn left_out(rel: &Path) -> bool {
    let mut components = rel.components().peekable();
    while let Some(c) = components.next() {
        let name = c.as_os_str();
        if name == ".git" {
            return true;
        }
        if components.peek().is_none() && (name == ".gitignore" || name == ".ignore") {
            return true;
        }
    }
    false
}

/// Unpacks a gzip-compressed tar archive into `dest`, which must exist and be empty.
pub fn unpack_tar_gz(archive: &Path, dest: &Path, limits: Limits) -> anyhow::Result<Unpacked> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let over = Rc::new(Cell::new(false));
    // The cap is on the whole decompressed stream, headers and skipped entries included, so
    // even entries we do not write cannot make us decompress without end.
    let stream = Capped {
        // Every gzip member, as Python's `gzip` and Node's zlib read them: with only the first,
        // a tar continued in a second member would hide files from the scan but not from pip.
        inner: flate2::read::MultiGzDecoder::new(BufReader::new(file)),
        left: limits.max_bytes,
        over: Rc::clone(&over),
    };
    let mut tar = tar::Archive::new(stream);
    let mut out = Unpacked::default();
    let too_big = || {
        anyhow::anyhow!(
            "the archive unpacks to more than {}; refusing it (a decompression bomb?)",
            human_size(limits.max_bytes)
        )
    };
    let entries = tar
        .entries()
        .context("the archive is not a readable .tar.gz")?;
    for (count, entry) in entries.enumerate() {
        if count >= limits.max_entries {
            bail!(
                "the archive has more than {} entries; refusing it",
                limits.max_entries
            );
        }
        let mut entry = match entry {
            Ok(e) => e,
            Err(_) if over.get() => return Err(too_big()),
            Err(e) => return Err(e).context("the archive is corrupt"),
        };
        let raw = match entry.path() {
            Ok(p) => p.into_owned(),
            Err(e) => {
                let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
                out.skip(&name, format_args!("skipped: unreadable path ({e})"));
                continue;
            }
        };
        let name = raw.to_string_lossy().into_owned();
        let rel = match safe_relative(&raw) {
            Ok(rel) => rel,
            Err(problem) => {
                out.skip(&name, problem);
                continue;
            }
        };
        if left_out(&rel) {
            continue;
        }
        use tar::EntryType;
        match entry.header().entry_type() {
            EntryType::Regular | EntryType::Continuous => {
                let result = write_file(dest, &rel, &mut entry);
                if over.get() {
                    return Err(too_big());
                }
                match result {
                    Ok(n) => {
                        out.files += 1;
                        out.bytes += n;
                    }
                    Err(e) => out.skip(&name, format_args!("skipped: {e}")),
                }
            }
            EntryType::Directory => {
                if let Err(e) = make_dir(&dest.join(&rel)) {
                    out.skip(&name, format_args!("skipped: {e}"));
                }
            }
            EntryType::Symlink | EntryType::Link => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.skip(
                    &name,
                    format_args!(
                        "skipped: a link to `{}`, not created",
                        target.escape_debug()
                    ),
                );
            }
            // Metadata entries the tar crate has not folded into the next entry; nothing to make.
            EntryType::XGlobalHeader | EntryType::XHeader => {}
            other => out.skip(
                &name,
                format_args!("skipped: a {other:?} entry, not a regular file"),
            ),
        }
    }
    if over.get() {
        return Err(too_big());
    }
    Ok(out)
}

/// Unpacks a zip archive (a wheel, or an old zip sdist) into `dest`.
pub fn unpack_zip(archive: &Path, dest: &Path, limits: Limits) -> anyhow::Result<Unpacked> {
    let file = File::open(archive).with_context(|| format!("cannot open {}", archive.display()))?;
    let mut zip =
        zip::ZipArchive::new(BufReader::new(file)).context("the archive is not a readable zip")?;
    if zip.len() > limits.max_entries {
        bail!(
            "the archive has {} entries, more than {}; refusing it",
            zip.len(),
            limits.max_entries
        );
    }
    let mut out = Unpacked::default();
    let mut budget = limits.max_bytes;
    for index in 0..zip.len() {
        let mut entry = match zip.by_index(index) {
            Ok(e) => e,
            Err(e) => {
                out.skip(&format!("#{index}"), format_args!("skipped: {e}"));
                continue;
            }
        };
        let name = match entry.name() {
            Ok(n) => n.into_owned(),
            Err(_) => String::from_utf8_lossy(entry.name_raw()).into_owned(),
        };
        if name.contains('\0') {
            out.skip(&name, "refused: a NUL byte in the path");
            continue;
        }
        let rel = match safe_relative(Path::new(&name)) {
            Ok(rel) => rel,
            Err(problem) => {
                out.skip(&name, problem);
                continue;
            }
        };
        if left_out(&rel) {
            continue;
        }
        if entry.is_symlink() {
            // A zip symlink's target is its content; read a little of it for the note.
            let mut target = String::new();
            let _ = (&mut entry).take(256).read_to_string(&mut target);
            out.skip(
                &name,
                format_args!(
                    "skipped: a link to `{}`, not created",
                    target.escape_debug()
                ),
            );
            continue;
        }
        if entry.is_dir() {
            if let Err(e) = make_dir(&dest.join(&rel)) {
                out.skip(&name, format_args!("skipped: {e}"));
            }
            continue;
        }
        // The declared size may lie; the reader is capped by what is left of the budget.
        let mut capped = (&mut entry).take(budget + 1);
        match write_file(dest, &rel, &mut capped) {
            Ok(n) if n > budget => bail!(
                "the archive unpacks to more than {}; refusing it (a decompression bomb?)",
                human_size(limits.max_bytes)
            ),
            Ok(n) => {
                budget -= n;
                out.files += 1;
                out.bytes += n;
            }
            Err(e) => out.skip(&name, format_args!("skipped: {e}")),
        }
    }
    Ok(out)
}

/// Writes one regular file under `dest`. The tree under `dest` holds only folders and regular
/// files we made, so neither the parents nor the file can lead elsewhere. A later entry with the
/// same path replaces an earlier one, as tar and pip do.
fn write_file(dest: &Path, rel: &Path, content: &mut dyn Read) -> io::Result<u64> {
    let path = dest.join(rel);
    if let Some(parent) = path.parent() {
        make_dir(parent)?;
    }
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o644);
    }
    let mut file = options.open(&path)?;
    let n = io::copy(content, &mut file)?;
    file.flush()?;
    Ok(n)
}

fn make_dir(path: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o755);
    }
    builder.create(path)
}

/// A reader that fails once more than `left` bytes have passed, and says so in `over`.
struct Capped<R> {
    inner: R,
    left: u64,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One probe byte tells "exactly at the cap" from "over it".
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => {
                    self.over.set(true);
                    Err(io::Error::other("size limit reached"))
                }
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tar::EntryType;

    /// One entry of a hand-built archive. Names are written into the header raw, past the
    /// checks the `tar` crate's own writer would make.
    struct E<'a> {
        name: &'a str,
        kind: EntryType,
        data: &'a [u8],
        link: &'a str,
    }

    fn file<'a>(name: &'a str, data: &'a [u8]) -> E<'a> {
        E {
            name,
            kind: EntryType::Regular,
            data,
            link: "",
        }
    }

    fn tar_gz(dir: &Path, entries: &[E]) -> PathBuf {
        let mut builder = tar::Builder::new(Vec::new());
        for e in entries {
            let mut header = tar::Header::new_gnu();
            let gnu = header.as_gnu_mut().unwrap();
            gnu.name[..e.name.len()].copy_from_slice(e.name.as_bytes());
            gnu.linkname[..e.link.len()].copy_from_slice(e.link.as_bytes());
            header.set_entry_type(e.kind);
            header.set_size(e.data.len() as u64);
            header.set_mode(0o4777); // setuid and world-writable: must not survive
            header.set_cksum();
            builder.append(&header, e.data).unwrap();
        }
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let path = dir.join("archive.tar.gz");
        fs::write(&path, gz.finish().unwrap()).unwrap();
        path
    }

    fn unpack_tar(entries: &[E], limits: Limits) -> (tempfile::TempDir, anyhow::Result<Unpacked>) {
        let tmp = tempfile::TempDir::new().unwrap();
        let archive = tar_gz(tmp.path(), entries);
        let dest = tmp.path().join("out");
        fs::create_dir(&dest).unwrap();
        let result = unpack_tar_gz(&archive, &dest, limits);
        (tmp, result)
    }

    /// Every path under `root`, relative, sorted; links reported as such.
    fn tree(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(&dir).unwrap() {
                let e = e.unwrap();
                let meta = fs::symlink_metadata(e.path()).unwrap();
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                assert!(!meta.file_type().is_symlink(), "a link was created: {rel}");
                if meta.is_dir() {
                    stack.push(e.path());
                    out.push(format!("{rel}/"));
                } else {
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn plain_archives_unpack() {
        let (tmp, result) = unpack_tar(
            &[
                E {
                    name: "pkg/",
                    kind: EntryType::Directory,
                    data: b"",
                    link: "",
                },
                file("pkg/server.py", b"print('hi')\n"),
                file("./pkg/.mcp.json", b"{}"),
            ],
            LIMITS,
        );
        let out = result.unwrap();
        assert_eq!(out.files, 2);
        assert!(out.skipped.is_empty());
        let dest = tmp.path().join("out");
        assert_eq!(tree(&dest), ["pkg/", "pkg/.mcp.json", "pkg/server.py"]);
        assert_eq!(
            fs::read(dest.join("pkg/server.py")).unwrap(),
            b"print('hi')\n"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &str| fs::metadata(dest.join(p)).unwrap().permissions().mode() & 0o7777;
            assert_eq!(
                mode("pkg/server.py") & !0o644,
                0,
                "archive modes are not applied"
            );
            assert_eq!(mode("pkg") & !0o755, 0);
        }
    }

    #[test]
    fn escaping_paths_are_refused() {
        let (tmp, result) = unpack_tar(
            &[
                file("../evil", b"x"),
                file("pkg/../../evil2", b"x"),
                file("/tmp/portcullis-absolute-evil", b"x"),
                file("pkg/ok.txt", b"ok"),
            ],
            LIMITS,
        );
        let out = result.unwrap();
        assert_eq!(out.files, 1);
        assert_eq!(out.skipped.len(), 3, "{:?}", out.skipped);
        assert!(out.skipped[0].contains("`../evil` refused: a `..` path"));
        assert!(out.skipped[1].contains("`pkg/../../evil2` refused"));
        assert!(out.skipped[2].contains("refused: an absolute path"));
        assert!(!tmp.path().join("evil").exists());
        assert!(!Path::new("/tmp/portcullis-absolute-evil").exists());
        assert_eq!(tree(&tmp.path().join("out")), ["pkg/", "pkg/ok.txt"]);
    }

    #[test]
    fn links_are_skipped_not_created() {
        let (tmp, result) = unpack_tar(
            &[
                E {
                    name: "pkg/link",
                    kind: EntryType::Symlink,
                    data: b"",
                    link: "/etc",
                },
                // Writing through the link, if it had been made, would land in /etc.
                file("pkg/link/passwd", b"x"),
                E {
                    name: "pkg/hard",
                    kind: EntryType::Link,
                    data: b"",
                    link: "../../outside",
                },
                E {
                    name: "pkg/fifo",
                    kind: EntryType::Fifo,
                    data: b"",
                    link: "",
                },
            ],
            LIMITS,
        );
        let out = result.unwrap();
        let notes = out.notes().join("\n");
        assert!(
            notes.contains("`pkg/link` skipped: a link to `/etc`"),
            "{notes}"
        );
        assert!(
            notes.contains("`pkg/hard` skipped: a link to `../../outside`"),
            "{notes}"
        );
        assert!(
            notes.contains("`pkg/fifo` skipped: a Fifo entry"),
            "{notes}"
        );
        // The file under the would-be link lands in a plain folder inside the package.
        assert_eq!(
            tree(&tmp.path().join("out")),
            ["pkg/", "pkg/link/", "pkg/link/passwd"]
        );
    }

    #[test]
    fn ignore_files_are_left_out() {
        let (tmp, result) = unpack_tar(
            &[
                file("pkg/.gitignore", b"*.json\n"),
                file("pkg/sub/.ignore", b"*\n"),
                file("pkg/.git/info/exclude", b"*\n"),
                file("pkg/.mcp.json", b"{}"),
            ],
            LIMITS,
        );
        assert!(result.unwrap().skipped.is_empty());
        assert_eq!(tree(&tmp.path().join("out")), ["pkg/", "pkg/.mcp.json"]);
    }

    #[test]
    fn every_gzip_member_is_read() {
        let tmp = tempfile::TempDir::new().unwrap();
        // The helper writes to one path; read each archive before building the next.
        let one = fs::read(tar_gz(tmp.path(), &[file("pkg/first.txt", b"1")])).unwrap();
        let two = fs::read(tar_gz(tmp.path(), &[file("pkg/second.txt", b"2")])).unwrap();
        // Strip the first tar's end-of-archive blocks so the stream goes on in the next member.
        let mut tar_one = Vec::new();
        flate2::read::GzDecoder::new(&one[..])
            .read_to_end(&mut tar_one)
            .unwrap();
        tar_one.truncate(1024); // one header block and one data block
        let mut first = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        first.write_all(&tar_one).unwrap();
        let mut joined = first.finish().unwrap();
        joined.extend(two);
        let archive = tmp.path().join("joined.tar.gz");
        fs::write(&archive, joined).unwrap();
        let dest = tmp.path().join("out");
        fs::create_dir(&dest).unwrap();
        let out = unpack_tar_gz(&archive, &dest, LIMITS).unwrap();
        assert_eq!(out.files, 2);
        assert_eq!(tree(&dest), ["pkg/", "pkg/first.txt", "pkg/second.txt"]);
    }

    #[test]
    fn bombs_are_refused() {
        let big = vec![0u8; 64 * 1024];
        let small = Limits {
            max_bytes: 32 * 1024,
            max_entries: 100,
        };
        let (_tmp, result) = unpack_tar(&[file("pkg/zeros", &big)], small);
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("unpacks to more than 32 KiB"), "{err}");

        let many: Vec<String> = (0..11).map(|i| format!("pkg/{i}")).collect();
        let entries: Vec<E> = many.iter().map(|n| file(n, b"")).collect();
        let limits = Limits {
            max_bytes: 1 << 20,
            max_entries: 10,
        };
        let (_tmp, result) = unpack_tar(&entries, limits);
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("more than 10 entries"), "{err}");
    }

    #[test]
    fn too_many_skips_are_counted_not_listed() {
        let names: Vec<String> = (0..25).map(|i| format!("../{i}")).collect();
        let entries: Vec<E> = names.iter().map(|n| file(n, b"")).collect();
        let (_tmp, result) = unpack_tar(&entries, LIMITS);
        let notes = result.unwrap().notes();
        assert_eq!(notes.len(), LISTED_SKIPS + 1);
        assert_eq!(notes[LISTED_SKIPS], "5 more entries refused or skipped");
    }

    #[test]
    fn garbage_is_an_error() {
        let tmp = tempfile::TempDir::new().unwrap();
        let archive = tmp.path().join("x.tar.gz");
        fs::write(&archive, b"not gzip at all").unwrap();
        assert!(unpack_tar_gz(&archive, tmp.path(), LIMITS).is_err());
        assert!(unpack_zip(&archive, tmp.path(), LIMITS).is_err());
    }

    fn zip_with(
        dir: &Path,
        build: impl FnOnce(&mut zip::ZipWriter<io::Cursor<Vec<u8>>>),
    ) -> PathBuf {
        let mut writer = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        build(&mut writer);
        let bytes = writer.finish().unwrap().into_inner();
        let path = dir.join("archive.whl");
        fs::write(&path, bytes).unwrap();
        path
    }

    fn unpack_zip_with(
        limits: Limits,
        build: impl FnOnce(&mut zip::ZipWriter<io::Cursor<Vec<u8>>>),
    ) -> (tempfile::TempDir, anyhow::Result<Unpacked>) {
        let tmp = tempfile::TempDir::new().unwrap();
        let archive = zip_with(tmp.path(), build);
        let dest = tmp.path().join("out");
        fs::create_dir(&dest).unwrap();
        let result = unpack_zip(&archive, &dest, limits);
        (tmp, result)
    }

    #[test]
    fn zip_refusals() {
        let options = || {
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(0o4777)
        };
        let (tmp, result) = unpack_zip_with(LIMITS, |w| {
            w.start_file("../evil", options()).unwrap();
            w.write_all(b"x").unwrap();
            w.start_file("/tmp/portcullis-zip-absolute-evil", options())
                .unwrap();
            w.write_all(b"x").unwrap();
            w.add_symlink("pkg/link", "/etc", options()).unwrap();
            w.add_directory("pkg/sub/", options()).unwrap();
            w.start_file("pkg/.gitignore", options()).unwrap();
            w.write_all(b"*\n").unwrap();
            w.start_file("pkg/server.py", options()).unwrap();
            w.write_all(b"print('hi')\n").unwrap();
        });
        let out = result.unwrap();
        let notes = out.notes().join("\n");
        assert_eq!(out.files, 1, "{notes}");
        assert!(notes.contains("`../evil` refused: a `..` path"), "{notes}");
        assert!(notes.contains("refused: an absolute path"), "{notes}");
        assert!(
            notes.contains("`pkg/link` skipped: a link to `/etc`"),
            "{notes}"
        );
        assert!(!tmp.path().join("evil").exists());
        assert!(!Path::new("/tmp/portcullis-zip-absolute-evil").exists());
        let dest = tmp.path().join("out");
        assert_eq!(tree(&dest), ["pkg/", "pkg/server.py", "pkg/sub/"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dest.join("pkg/server.py"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o7777 & !0o644, 0);
        }
    }

    #[test]
    fn zip_bombs_are_refused() {
        let options = || {
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
        };
        let limits = Limits {
            max_bytes: 100 * 1024,
            max_entries: 5,
        };
        // Each file is under the cap; together they are over it.
        let (_tmp, result) = unpack_zip_with(limits, |w| {
            for i in 0..3 {
                w.start_file(format!("pkg/zeros{i}"), options()).unwrap();
                w.write_all(&vec![0u8; 40 * 1024]).unwrap();
            }
        });
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("unpacks to more than 100 KiB"), "{err}");

        let (_tmp, result) = unpack_zip_with(limits, |w| {
            for i in 0..6 {
                w.start_file(format!("pkg/{i}"), options()).unwrap();
            }
        });
        let err = format!("{:#}", result.unwrap_err());
        assert!(err.contains("more than 5"), "{err}");
    }

    #[test]
    fn safe_relative_paths() {
        assert_eq!(
            safe_relative(Path::new("./a/./b")).unwrap(),
            Path::new("a/b")
        );
        assert_eq!(
            safe_relative(Path::new("a/../b")),
            Err(PathProblem::ParentDir)
        );
        assert_eq!(safe_relative(Path::new("/a")), Err(PathProblem::Absolute));
        assert_eq!(safe_relative(Path::new("./")), Err(PathProblem::Empty));
    }
}
