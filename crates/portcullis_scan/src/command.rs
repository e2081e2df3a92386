//! A stdio server's launch line in an analysable form: the program and its arguments with their
//! spans, the common launchers that run another command unwrapped (`env VAR=x cmd`, `wsl`,
//! `mise exec --`, `op run --`, `dotenv --`, `uv run`, ...), and the command strings of shells
//! (`bash -c`, `cmd /c`, `powershell -Command`, `-EncodedCommand`) split into commands on `;`,
//! `&&`, `||` and `|`, recursively. Config rules about what a server runs read this, not `args`.
//!
//! Trade-off: this models the few shell features launch lines use (quoting, command separators,
//! redirections, `$(...)` and `<(...)` substitutions, PowerShell sub-expressions), not a whole
//! shell grammar: no `if`/`for`, here-documents or aliases. What it cannot follow stays a plain
//! word. A token's span points at its own text in the file when the quoting and escaping of the
//! config format can be undone exactly; otherwise (folded YAML strings, base64 scripts) it falls
//! back to the whole argument's span, so a finding is placed less precisely but never wrongly.

use std::ops::Range;

use crate::model::ServerEntry;
use crate::span::{Span, Spanned};

/// Shell strings nest (`cmd /c bash -c "..."`); deeper than this is not followed.
const MAX_DEPTH: usize = 4;
/// Longest script analysed; real launch lines are a few hundred bytes.
const MAX_SCRIPT_LEN: usize = 64 * 1024;
/// Most launchers unwrapped around one command.
const MAX_LAUNCHERS: usize = 8;
/// Most scripts (shell strings and substitutions) followed in one launch line.
const MAX_SCRIPTS: usize = 256;

/// One argument as the program receives it, and where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word with the shell's quotes and escapes removed.
    pub value: String,
    pub span: Span,
}

/// How a command is joined to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joiner {
    /// `;`, a newline, or cmd's single `&`.
    Seq,
    And,
    Or,
    Pipe,
    /// A POSIX `&` (runs in the background, the next command starts at once).
    Background,
}

/// How a script's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    /// The entry's own `command` and `args`: no shell involved.
    Argv,
    Posix,
    Cmd,
    PowerShell,
}

/// A redirection such as `> out.log` or `2>&1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub op: String,
    pub target: Option<Word>,
}

/// One simple command.
#[derive(Debug, Clone)]
pub struct Command {
    /// The program name, lower case, without folders or `.exe`/`.cmd` (`C:\..\npx.cmd` -> `npx`).
    pub program: String,
    /// The program as written and its arguments, after launchers are unwrapped.
    pub argv: Vec<Word>,
    /// Launchers stripped to reach `argv`, outermost first (`env`, `wsl`, `mise`).
    pub launchers: Vec<Word>,
    /// Variable assignments before the program (`FOO=1 cmd`, `env FOO=1 cmd`).
    pub assignments: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// How this command is joined to the previous one in its script; `None` for the first.
    pub joiner: Option<Joiner>,
    /// The scripts of command substitutions in its words (`$(...)`, `<(...)`, PowerShell
    /// `(...)`), as indexes into [`Launch::scripts`].
    pub substitutions: Vec<usize>,
    /// The shell string this command runs (`bash -c "..."`), as an index into [`Launch::shells`].
    pub shell: Option<usize>,
    /// Program and arguments joined with spaces, for messages and textual checks.
    pub text: String,
    /// From the program to the last argument.
    pub span: Span,
}

impl Command {
    /// The arguments after the program.
    pub fn args(&self) -> &[Word] {
        self.argv.get(1..).unwrap_or(&[])
    }
}

/// A sequence of commands read from one text.
#[derive(Debug, Clone)]
pub struct Script {
    pub syntax: Syntax,
    pub commands: Vec<Command>,
    /// The shell string this script is the text of, as an index into [`Launch::shells`];
    /// `None` for the entry's own argv and for substitutions.
    pub shell: Option<usize>,
    /// 0 for the entry's own argv, one more for each shell string or substitution around it.
    pub depth: usize,
}

/// A command string handed to a shell.
#[derive(Debug, Clone)]
pub struct ShellString {
    /// The shell's program name (`bash`, `cmd`, `powershell`).
    pub shell: String,
    /// The option that introduced the string, as written (`-c`, `/c`, `-Command`).
    pub flag: String,
    pub syntax: Syntax,
    /// The script as the shell reads it (decoded, for `-EncodedCommand`).
    pub text: String,
    /// The argument, or the arguments joined by the shell (`cmd /c npx -y pkg`), holding it.
    pub span: Span,
    /// `powershell -EncodedCommand`: the text was decoded from base64.
    pub encoded: bool,
    /// The shell joined several arguments into the string.
    pub joined: bool,
    /// The parsed script, as an index into [`Launch::scripts`]; `None` when too deep, too long,
    /// or not decodable.
    pub script: Option<usize>,
}

/// Everything a server's launch line would run.
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// `scripts[0]` is the entry's own argv; then every shell string and substitution, each
    /// after the script it appears in.
    pub scripts: Vec<Script>,
    pub shells: Vec<ShellString>,
}

impl Launch {
    /// The launch line of a stdio entry; `None` when it has no `command`. `source` is the text of
    /// the file the entry was read from, used to place tokens inside string values.
    pub fn of(entry: &ServerEntry, source: &str) -> Option<Launch> {
        let command = entry.command.as_ref()?;
        let words: Vec<WordSrc> = std::iter::once(command)
            .chain(entry.args.iter())
            .map(|v| WordSrc::from_value(source, v))
            .collect();
        let raw = RawCommand {
            words,
            redirects: Vec::new(),
            joiner: None,
            subs: Vec::new(),
        };
        let mut launch = Launch::default();
        launch.add_script(Syntax::Argv, vec![raw], None, 0);
        Some(launch)
    }

    /// Every command, in every script, outermost first.
    pub fn commands(&self) -> impl Iterator<Item = &Command> {
        self.scripts.iter().flat_map(|s| s.commands.iter())
    }

    fn add_script(
        &mut self,
        syntax: Syntax,
        raws: Vec<RawCommand>,
        shell: Option<usize>,
        depth: usize,
    ) -> usize {
        let index = self.scripts.len();
        self.scripts.push(Script {
            syntax,
            commands: Vec::new(),
            shell,
            depth,
        });
        let mut first = true;
        for raw in raws {
            if let Some(mut command) = self.finish(raw, syntax, depth) {
                if first {
                    command.joiner = None;
                    first = false;
                }
                if let Some(script) = self.scripts.get_mut(index) {
                    script.commands.push(command);
                }
            }
        }
        index
    }

    /// Turns a raw command into a [`Command`]: assignments and launchers are taken off, a shell
    /// string or substitution becomes a script of its own.
    fn finish(&mut self, raw: RawCommand, syntax: Syntax, depth: usize) -> Option<Command> {
        let RawCommand {
            mut words,
            redirects,
            joiner,
            subs,
        } = raw;
        let mut assignments = Vec::new();
        if syntax == Syntax::Posix {
            while words.len() > 1 && is_assignment(&words[0].word.value) {
                assignments.push(words.remove(0).word);
            }
        }
        let mut launchers = Vec::new();
        unwrap_launchers(&mut words, &mut launchers, &mut assignments);
        let first = words.first()?;
        let program = program_of(&first.word.value);
        let values: Vec<&str> = words.iter().map(|w| w.word.value.as_str()).collect();

        let mut shell = None;
        if let Some(call) = shell_call(&program, &values) {
            shell = Some(self.add_shell(&program, &words, call, depth));
        }
        let mut substitutions = Vec::new();
        for sub in subs {
            if depth + 1 > MAX_DEPTH || self.scripts.len() >= MAX_SCRIPTS {
                break;
            }
            let sub_syntax = if syntax == Syntax::PowerShell {
                Syntax::PowerShell
            } else {
                Syntax::Posix
            };
            let raws = parse_script(&sub, sub_syntax);
            substitutions.push(self.add_script(sub_syntax, raws, None, depth + 1));
        }
        let text = values.join(" ");
        let span = words
            .iter()
            .map(|w| w.word.span)
            .reduce(Span::cover)
            .unwrap_or(first.word.span);
        Some(Command {
            program,
            argv: words.into_iter().map(|w| w.word).collect(),
            launchers,
            assignments,
            redirects: redirects
                .into_iter()
                .map(|(op, target)| Redirect {
                    op,
                    target: target.map(|t| t.word),
                })
                .collect(),
            joiner,
            substitutions,
            shell,
            text,
            span,
        })
    }

    fn add_shell(
        &mut self,
        program: &str,
        words: &[WordSrc],
        call: ShellCall,
        depth: usize,
    ) -> usize {
        let parts = words.get(call.args.clone()).unwrap_or(&[]);
        let span = parts
            .iter()
            .map(|w| w.word.span)
            .reduce(Span::cover)
            .unwrap_or_default();
        let mapped = if call.encoded {
            parts
                .first()
                .and_then(|w| decode_powershell(&w.word.value))
                .map(|text| Mapped::uniform(text, span))
        } else if let [one] = parts {
            Some(one.mapped.clone())
        } else {
            // cmd re-parses the command line Windows builds from the arguments, which quotes
            // those holding blanks; PowerShell joins its `-Command` arguments with spaces.
            let parts: Vec<Mapped> = parts.iter().map(|w| w.mapped.clone()).collect();
            Some(Mapped::join(&parts, call.syntax == Syntax::Cmd))
        };
        let index = self.shells.len();
        self.shells.push(ShellString {
            shell: program.to_string(),
            flag: words
                .get(call.flag)
                .map(|w| w.word.value.clone())
                .unwrap_or_default(),
            syntax: call.syntax,
            text: mapped.as_ref().map(|m| m.text.clone()).unwrap_or_default(),
            span,
            encoded: call.encoded,
            joined: parts.len() > 1,
            script: None,
        });
        if let Some(mapped) = mapped
            && depth < MAX_DEPTH
            && mapped.text.len() <= MAX_SCRIPT_LEN
            && self.scripts.len() < MAX_SCRIPTS
        {
            let raws = parse_script(&mapped, call.syntax);
            let script = self.add_script(call.syntax, raws, Some(index), depth + 1);
            if let Some(shell) = self.shells.get_mut(index) {
                shell.script = Some(script);
            }
        }
        index
    }
}

/// The bare program name of a command path, lower case: no folders, no `.exe`, `.cmd`, `.bat`
/// or `.ps1`. Like [`crate::model::program_name`], but safe on any text (that one slices bytes).
pub fn program_of(command: &str) -> String {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let lower = base.to_lowercase();
    for ext in [".exe", ".cmd", ".bat", ".ps1"] {
        if let Some(stem) = lower.strip_suffix(ext)
            && !stem.is_empty()
        {
            return stem.to_string();
        }
    }
    lower
}

/// Whether a program is a POSIX-family shell.
pub fn is_posix_shell(program: &str) -> bool {
    matches!(
        program,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "ash" | "mksh" | "yash" | "fish"
    )
}

/// Whether a program is a Python interpreter (`python`, `python3.12`, `py`, `pypy3`).
pub fn is_python(program: &str) -> bool {
    let versioned = |prefix: &str| {
        program
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
    };
    program == "py" || versioned("python") || versioned("pypy")
}

/// Whether a word is a `NAME=value` assignment.
pub fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

// ---------------------------------------------------------------------------------------------
// Text with the source span of every byte.

/// A text as a shell reads it, with the span in the config file each byte came from.
#[derive(Debug, Clone)]
struct Mapped {
    text: String,
    /// One span per byte of `text`.
    locs: Vec<Span>,
    /// The span of the whole text, used when a range is empty.
    whole: Span,
}

impl Mapped {
    /// Every byte placed at `span` (the text cannot be matched to the file).
    fn uniform(text: String, span: Span) -> Mapped {
        let locs = vec![span; text.len()];
        Mapped {
            text,
            locs,
            whole: span,
        }
    }

    /// A config string value, placed byte by byte when its quoting and escapes can be undone.
    fn from_value(source: &str, value: &Spanned<String>) -> Mapped {
        let raw = source.get(value.span.range()).unwrap_or("");
        match align_config(raw, &value.value) {
            Some(ranges) => Mapped {
                text: value.value.clone(),
                locs: ranges
                    .into_iter()
                    .map(|r| Span::new(value.span.start + r.start, value.span.start + r.end))
                    .collect(),
                whole: value.span,
            },
            None => Mapped::uniform(value.value.clone(), value.span),
        }
    }

    fn span(&self, range: Range<usize>) -> Span {
        let end = range.end.min(self.locs.len());
        match (self.locs.get(range.start), end.checked_sub(1)) {
            (Some(first), Some(last)) if range.start < end => first.cover(self.locs[last]),
            _ => self.whole,
        }
    }

    fn slice(&self, range: Range<usize>) -> Mapped {
        Mapped {
            text: self.text.get(range.clone()).unwrap_or("").to_string(),
            locs: self
                .locs
                .get(range.clone())
                .map(<[_]>::to_vec)
                .unwrap_or_default(),
            whole: self.span(range),
        }
    }

    /// The text a shell makes of `raw` (its quotes and escapes removed), still placed.
    fn decoded(&self, raw: Range<usize>, value: &str, quotes: &[u8]) -> Mapped {
        let fallback = self.span(raw.clone());
        let raw_bytes = self.text.as_bytes().get(raw.clone()).unwrap_or(&[]);
        match align_shell(raw_bytes, value.as_bytes(), quotes) {
            Some(indexes) => Mapped {
                text: value.to_string(),
                locs: indexes
                    .into_iter()
                    .map(|i| self.locs.get(raw.start + i).copied().unwrap_or(fallback))
                    .collect(),
                whole: fallback,
            },
            None => Mapped::uniform(value.to_string(), fallback),
        }
    }

    /// Arguments joined with spaces, as a shell receives them; with `quote`, those holding
    /// blanks are wrapped in double quotes, as Windows builds a command line.
    fn join(parts: &[Mapped], quote: bool) -> Mapped {
        let mut text = String::new();
        let mut locs = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                text.push(' ');
                let prev = parts[i - 1].whole;
                locs.push(Span::new(prev.end, prev.end));
            }
            let wrap = quote && (part.text.is_empty() || part.text.contains([' ', '\t']));
            if wrap {
                text.push('"');
                locs.push(Span::new(part.whole.start, part.whole.start));
            }
            text.push_str(&part.text);
            locs.extend_from_slice(&part.locs);
            if wrap {
                text.push('"');
                locs.push(Span::new(part.whole.end, part.whole.end));
            }
        }
        let whole = parts
            .iter()
            .map(|p| p.whole)
            .reduce(Span::cover)
            .unwrap_or_default();
        Mapped { text, locs, whole }
    }
}

/// For each byte of `value`, the range of `raw` (a quoted or plain scalar as written in a JSON,
/// TOML or YAML file) it was read from; `None` when the two cannot be matched exactly.
fn align_config(raw: &str, value: &str) -> Option<Vec<Range<usize>>> {
    #[derive(PartialEq)]
    enum Style {
        Escaped,
        Single,
        Literal,
        Plain,
    }
    let len = raw.len();
    let (mut start, end, style) =
        if len >= 6 && raw.starts_with("\"\"\"") && raw.ends_with("\"\"\"") {
            (3, len - 3, Style::Escaped)
        } else if len >= 6 && raw.starts_with("'''") && raw.ends_with("'''") {
            (3, len - 3, Style::Literal)
        } else if len >= 2 && raw.starts_with('"') && raw.ends_with('"') {
            (1, len - 1, Style::Escaped)
        } else if len >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
            (1, len - 1, Style::Single)
        } else {
            (0, len, Style::Plain)
        };
    // TOML multi-line strings drop a newline right after the opening delimiter.
    if start == 3 {
        if raw[start..].starts_with("\r\n") {
            start += 2;
        } else if raw[start..].starts_with('\n') {
            start += 1;
        }
    }
    let inner = raw.get(start..end)?.as_bytes();
    let mut out = Vec::with_capacity(value.len());
    let mut pos = 0;
    for ch in value.chars() {
        let width = ch.len_utf8();
        if style == Style::Escaped && inner.get(pos) == Some(&b'\\') {
            let step = match inner.get(pos + 1)? {
                b'\n' | b'\r' | b' ' | b'\t' => return None,
                b'u' if width == 4 && inner.get(pos + 6..pos + 8) == Some(b"\\u") => 12,
                b'u' => 6,
                b'U' => 10,
                b'x' => 4,
                _ => 2,
            };
            if pos + step > inner.len() {
                return None;
            }
            out.extend(std::iter::repeat_n(start + pos..start + pos + step, width));
            pos += step;
            continue;
        }
        if style == Style::Single && ch == '\'' && inner.get(pos..pos + 2) == Some(b"''") {
            out.extend(std::iter::repeat_n(start + pos..start + pos + 2, width));
            pos += 2;
            continue;
        }
        // YAML plain and block scalars fold or strip line breaks and indentation: a blank in
        // the value stands for a run of blanks in the text, or for one already passed.
        if style == Style::Plain && matches!(ch, ' ' | '\t' | '\n') {
            let blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
            if inner.get(pos).is_some_and(blank) {
                let from = pos;
                while inner.get(pos).is_some_and(blank) {
                    pos += 1;
                }
                out.push(start + from..start + pos);
                continue;
            }
            if pos > 0 && (pos == inner.len() || blank(&inner[pos - 1])) {
                out.push(start + pos - 1..start + pos);
                continue;
            }
            return None;
        }
        let mut buf = [0u8; 4];
        let bytes = ch.encode_utf8(&mut buf).as_bytes();
        if inner.get(pos..pos + width) != Some(bytes) {
            return None;
        }
        out.extend((0..width).map(|i| start + pos + i..start + pos + i + 1));
        pos += width;
    }
    (pos == inner.len()).then_some(out)
}

/// For each byte of `value`, the index in `raw` it was read from, skipping the quote and escape
/// characters a shell removes; `None` when the two cannot be matched.
fn align_shell(raw: &[u8], value: &[u8], quotes: &[u8]) -> Option<Vec<usize>> {
    let mut out = Vec::with_capacity(value.len());
    let mut pos = 0;
    for &b in value {
        while raw.get(pos).is_some_and(|&r| r != b) {
            if !quotes.contains(&raw[pos]) {
                return None;
            }
            pos += 1;
        }
        if pos >= raw.len() {
            return None;
        }
        out.push(pos);
        pos += 1;
    }
    raw[pos.min(raw.len())..]
        .iter()
        .all(|r| quotes.contains(r))
        .then_some(out)
}

// ---------------------------------------------------------------------------------------------
// Words, raw commands and the three script syntaxes.

/// A word with the placed text it was decoded to (needed when it is itself a shell string).
#[derive(Debug, Clone)]
struct WordSrc {
    word: Word,
    mapped: Mapped,
}

impl WordSrc {
    fn from_value(source: &str, value: &Spanned<String>) -> WordSrc {
        WordSrc {
            word: Word {
                value: value.value.clone(),
                span: value.span,
            },
            mapped: Mapped::from_value(source, value),
        }
    }
}

/// A command as split from its script, before launchers and shells are looked at.
#[derive(Debug)]
struct RawCommand {
    words: Vec<WordSrc>,
    redirects: Vec<(String, Option<WordSrc>)>,
    joiner: Option<Joiner>,
    subs: Vec<Mapped>,
}

#[derive(Debug)]
enum Tok {
    Word {
        raw: Range<usize>,
        subs: Vec<Range<usize>>,
    },
    Join(Joiner),
    Redirect(Range<usize>),
}

fn parse_script(mapped: &Mapped, syntax: Syntax) -> Vec<RawCommand> {
    let tokens = match syntax {
        Syntax::Posix => lex_posix(mapped.text.as_bytes()),
        Syntax::Cmd => lex_cmd(mapped.text.as_bytes()),
        Syntax::PowerShell => lex_powershell(mapped.text.as_bytes()),
        Syntax::Argv => Vec::new(),
    };
    group(mapped, tokens, syntax)
}

/// Groups tokens into commands, decoding each word.
fn group(mapped: &Mapped, tokens: Vec<Tok>, syntax: Syntax) -> Vec<RawCommand> {
    let mut out = Vec::new();
    let empty = || RawCommand {
        words: Vec::new(),
        redirects: Vec::new(),
        joiner: None,
        subs: Vec::new(),
    };
    let mut current = empty();
    let mut pending: Option<Joiner> = None;
    let mut redirect: Option<String> = None;
    let flush = |current: &mut RawCommand, out: &mut Vec<RawCommand>| {
        if !current.words.is_empty() || !current.redirects.is_empty() {
            out.push(std::mem::replace(current, empty()));
        }
    };
    for token in tokens {
        match token {
            Tok::Join(j) => {
                if let Some(op) = redirect.take() {
                    current.redirects.push((op, None));
                }
                if current.words.is_empty() && current.redirects.is_empty() {
                    // `a &&\n b`: the newline after `&&` does not weaken it.
                    if pending.is_none_or(|p| p == Joiner::Seq) {
                        pending = Some(j);
                    }
                } else {
                    flush(&mut current, &mut out);
                    pending = Some(j);
                }
            }
            Tok::Redirect(range) => {
                if let Some(op) = redirect.take() {
                    current.redirects.push((op, None));
                }
                redirect = Some(mapped.text.get(range).unwrap_or("").to_string());
            }
            Tok::Word { raw, subs } => {
                let word = decode_word(mapped, raw, syntax);
                if let Some(op) = redirect.take() {
                    current.redirects.push((op, Some(word)));
                } else {
                    if current.words.is_empty() {
                        current.joiner = pending.take();
                    }
                    current.words.push(word);
                }
                current
                    .subs
                    .extend(subs.into_iter().map(|r| mapped.slice(r)));
            }
        }
    }
    if let Some(op) = redirect.take() {
        current.redirects.push((op, None));
    }
    flush(&mut current, &mut out);
    out
}

/// Decodes one raw word and places it: a fully quoted word is placed on its inside.
fn decode_word(mapped: &Mapped, raw: Range<usize>, syntax: Syntax) -> WordSrc {
    let text = mapped.text.get(raw.clone()).unwrap_or("");
    let (value, quotes): (String, &[u8]) = match syntax {
        Syntax::Posix => (decode_posix(text), b"'\"\\"),
        Syntax::Cmd => (decode_cmd(text), b"\"^"),
        _ => (decode_powershell_word(text), b"'\"`"),
    };
    let bytes = text.as_bytes();
    let inner = if bytes.len() >= 2
        && matches!(bytes[0], b'"' | b'\'')
        && bytes[bytes.len() - 1] == bytes[0]
        && text.get(1..text.len() - 1) == Some(value.as_str())
        && !value.is_empty()
    {
        raw.start + 1..raw.end - 1
    } else {
        raw.clone()
    };
    let placed = mapped.decoded(raw, &value, quotes);
    WordSrc {
        word: Word {
            value,
            span: mapped.span(inner),
        },
        mapped: placed,
    }
}

/// A POSIX word without its quotes, by the `shlex` crate's rules; a word `shlex` would split
/// (an unquoted `$(a b)`) is kept as written.
fn decode_posix(raw: &str) -> String {
    match shlex::split(raw) {
        Some(mut words) if words.len() == 1 => words.pop().unwrap_or_default(),
        Some(words) if words.is_empty() => String::new(),
        _ => raw.to_string(),
    }
}

/// A cmd word without its quotes and `^` escapes.
fn decode_cmd(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '^' if !quoted => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// A PowerShell word without its quotes and backtick escapes (sub-expressions are kept).
fn decode_powershell_word(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    let mut quote: Option<char> = None;
    let mut depth = 0usize;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '(' | '{') => {
                depth += 1;
                out.push(c);
            }
            (None, ')' | '}') => {
                depth = depth.saturating_sub(1);
                out.push(c);
            }
            (None, '\'' | '"') if depth == 0 => quote = Some(c),
            (Some(q), _) if c == q => {
                if chars.peek() == Some(&q) {
                    chars.next();
                    out.push(q);
                } else {
                    quote = None;
                }
            }
            (Some('\''), _) => out.push(c),
            (_, '`') if depth == 0 => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            _ => out.push(c),
        }
    }
    out
}

fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// The index after the byte that closes a quote opened just before `i` (or the end).
fn skip_to(b: &[u8], i: usize, close: u8) -> usize {
    b.get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == close))
        .map_or(b.len(), |p| i + p + 1)
}

/// The index after the `)` matching the `(` at `open`, stepping over quotes.
fn skip_parens(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\'' => {
                i = skip_to(b, i + 1, b'\'');
                continue;
            }
            b'"' => {
                i = skip_double(b, i + 1, &mut Vec::new());
                continue;
            }
            b'\\' => i += 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The index after the `}` matching the `{` at `open`.
fn skip_braces(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, &c) in b.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    b.len()
}

/// The index after the `"` closing a POSIX double-quoted string begun before `i`; records the
/// command substitutions inside it.
fn skip_double(b: &[u8], mut i: usize, subs: &mut Vec<Range<usize>>) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            b'$' if at(b, i + 1) == b'(' => {
                let end = skip_parens(b, i + 1);
                if at(b, i + 2) != b'(' {
                    subs.push(i + 2..end.saturating_sub(1).max(i + 2));
                }
                i = end;
            }
            b'`' => {
                let end = skip_to(b, i + 1, b'`');
                subs.push(i + 1..end.saturating_sub(1).max(i + 1));
                i = end;
            }
            _ => i += 1,
        }
    }
    b.len()
}

/// A redirection operator starting at `i` (after optional fd digits), as its end index.
fn redirect_op(b: &[u8], i: usize) -> usize {
    for op in [
        &b">>"[..],
        b">&",
        b">|",
        b"<<<",
        b"<<-",
        b"<<",
        b"<&",
        b"<>",
        b">",
        b"<",
    ] {
        if b.get(i..i + op.len()) == Some(op) {
            return i + op.len();
        }
    }
    i + 1
}

fn lex_posix(b: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = at(b, i + 1);
        let digits = b[i..].iter().take_while(|d| d.is_ascii_digit()).count();
        match c {
            b' ' | b'\t' | b'\r' => i += 1,
            b'\n' => {
                toks.push(Tok::Join(Joiner::Seq));
                i += 1;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'\\' if next == b'\n' => i += 2,
            b';' => {
                toks.push(Tok::Join(Joiner::Seq));
                i += if next == b';' { 2 } else { 1 };
            }
            b'&' if next == b'&' => {
                toks.push(Tok::Join(Joiner::And));
                i += 2;
            }
            b'&' if next == b'>' => {
                let end = if at(b, i + 2) == b'>' { i + 3 } else { i + 2 };
                toks.push(Tok::Redirect(i..end));
                i = end;
            }
            b'&' => {
                toks.push(Tok::Join(Joiner::Background));
                i += 1;
            }
            b'|' => {
                let (joiner, width) = match next {
                    b'|' => (Joiner::Or, 2),
                    b'&' => (Joiner::Pipe, 2),
                    _ => (Joiner::Pipe, 1),
                };
                toks.push(Tok::Join(joiner));
                i += width;
            }
            b'(' | b')' => {
                toks.push(Tok::Join(Joiner::Seq));
                i += 1;
            }
            b'<' | b'>' if next == b'(' => {
                let end = skip_parens(b, i + 1);
                let inside = i + 2..end.saturating_sub(1).max(i + 2);
                toks.push(Tok::Word {
                    raw: i..end,
                    subs: vec![inside],
                });
                i = end;
            }
            b'<' | b'>' => {
                let end = redirect_op(b, i);
                toks.push(Tok::Redirect(i..end));
                i = end;
            }
            b'0'..=b'9'
                if matches!(at(b, i + digits), b'<' | b'>') && at(b, i + digits + 1) != b'(' =>
            {
                let end = redirect_op(b, i + digits);
                toks.push(Tok::Redirect(i..end));
                i = end;
            }
            _ => {
                let start = i;
                let mut subs = Vec::new();
                while i < b.len() {
                    match b[i] {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'(' | b')' | b'<'
                        | b'>' => break,
                        b'\\' => i += 2,
                        b'\'' => i = skip_to(b, i + 1, b'\''),
                        b'"' => i = skip_double(b, i + 1, &mut subs),
                        b'`' => {
                            let end = skip_to(b, i + 1, b'`');
                            subs.push(i + 1..end.saturating_sub(1).max(i + 1));
                            i = end;
                        }
                        b'$' if at(b, i + 1) == b'(' => {
                            let end = skip_parens(b, i + 1);
                            if at(b, i + 2) != b'(' {
                                subs.push(i + 2..end.saturating_sub(1).max(i + 2));
                            }
                            i = end;
                        }
                        b'$' if at(b, i + 1) == b'{' => i = skip_braces(b, i + 1),
                        _ => i += 1,
                    }
                }
                let end = i.min(b.len());
                toks.push(Tok::Word {
                    raw: start..end,
                    subs,
                });
                i = end;
            }
        }
    }
    toks
}

/// cmd.exe: `&&`, `||`, `|` and `&` (sequential) separate commands; `"` quotes, `^` escapes;
/// `;` is not a separator.
fn lex_cmd(b: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = at(b, i + 1);
        match c {
            b' ' | b'\t' => i += 1,
            b'\r' | b'\n' | b'(' | b')' => {
                toks.push(Tok::Join(Joiner::Seq));
                i += 1;
            }
            b'&' => {
                let (joiner, width) = if next == b'&' {
                    (Joiner::And, 2)
                } else {
                    (Joiner::Seq, 1)
                };
                toks.push(Tok::Join(joiner));
                i += width;
            }
            b'|' => {
                let (joiner, width) = if next == b'|' {
                    (Joiner::Or, 2)
                } else {
                    (Joiner::Pipe, 1)
                };
                toks.push(Tok::Join(joiner));
                i += width;
            }
            b'<' | b'>' => {
                let mut end = if next == b'>' { i + 2 } else { i + 1 };
                if at(b, end) == b'&' {
                    end += 1;
                }
                toks.push(Tok::Redirect(i..end));
                i = end;
            }
            b'0'..=b'9' if matches!(next, b'<' | b'>') => {
                let mut end = if at(b, i + 2) == b'>' { i + 3 } else { i + 2 };
                if at(b, end) == b'&' {
                    end += 1;
                }
                toks.push(Tok::Redirect(i..end));
                i = end;
            }
            _ => {
                let start = i;
                let mut quoted = false;
                while i < b.len() {
                    match b[i] {
                        b'"' => quoted = !quoted,
                        b'^' if !quoted => i += 1,
                        b' ' | b'\t' | b'\r' | b'\n' | b'&' | b'|' | b'<' | b'>' if !quoted => {
                            break;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                let end = i.min(b.len());
                toks.push(Tok::Word {
                    raw: start..end,
                    subs: Vec::new(),
                });
                i = end;
            }
        }
    }
    toks
}

/// PowerShell: `;`, newlines, `|`, `&&` and `||` separate commands; `'` and `"` quote, a
/// backtick escapes; `(...)`, `$(...)`, `@(...)`, `{...}` and `[...]` stay inside one word, and
/// the parenthesised ones are read as scripts of their own.
fn lex_powershell(b: &[u8]) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut i = 0;
    let mut at_command_start = true;
    while i < b.len() {
        let c = b[i];
        let next = at(b, i + 1);
        match c {
            b' ' | b'\t' => i += 1,
            b'\r' | b'\n' | b';' => {
                toks.push(Tok::Join(Joiner::Seq));
                at_command_start = true;
                i += 1;
            }
            b'<' if next == b'#' => {
                i = b[i..]
                    .windows(2)
                    .position(|w| w == b"#>")
                    .map_or(b.len(), |p| i + p + 2);
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'&' if next == b'&' => {
                toks.push(Tok::Join(Joiner::And));
                at_command_start = true;
                i += 2;
            }
            b'|' => {
                let (joiner, width) = if next == b'|' {
                    (Joiner::Or, 2)
                } else {
                    (Joiner::Pipe, 1)
                };
                toks.push(Tok::Join(joiner));
                at_command_start = true;
                i += width;
            }
            // The call operator: `& "C:\path\tool.exe" args`.
            b'&' if at_command_start => i += 1,
            b'&' => {
                toks.push(Tok::Join(Joiner::Background));
                at_command_start = true;
                i += 1;
            }
            b'>' | b'*' | b'0'..=b'9'
                if c == b'>'
                    || (next == b'>' && matches!(c, b'*' | b'0'..=b'9') && !at_command_start) =>
            {
                let mut end = if c == b'>' { i + 1 } else { i + 2 };
                if at(b, end) == b'>' {
                    end += 1;
                }
                if at(b, end) == b'&' {
                    end += 2;
                }
                toks.push(Tok::Redirect(i..end.min(b.len())));
                i = end.min(b.len());
            }
            _ => {
                let start = i;
                let mut subs = Vec::new();
                while i < b.len() {
                    match b[i] {
                        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'|' => break,
                        b'&' if at(b, i + 1) == b'&' => break,
                        b'`' => i += 2,
                        b'\'' => {
                            // `''` inside single quotes is a quote, not the end.
                            let mut j = i + 1;
                            loop {
                                j = skip_to(b, j, b'\'');
                                if at(b, j) == b'\'' {
                                    j += 1;
                                } else {
                                    break;
                                }
                            }
                            i = j;
                        }
                        b'"' => {
                            let mut j = i + 1;
                            while j < b.len() && b[j] != b'"' {
                                j += if b[j] == b'`' { 2 } else { 1 };
                            }
                            i = j + 1;
                        }
                        b'(' => {
                            let end = skip_ps_group(b, i);
                            subs.push(i + 1..end.saturating_sub(1).max(i + 1));
                            i = end;
                        }
                        b'{' | b'[' => i = skip_ps_group(b, i),
                        _ => i += 1,
                    }
                }
                let end = i.min(b.len());
                toks.push(Tok::Word {
                    raw: start..end,
                    subs,
                });
                at_command_start = false;
                i = end;
            }
        }
    }
    toks
}

/// The index after the bracket closing the one at `open` (any of `(`, `{`, `[`), stepping over
/// PowerShell quotes.
fn skip_ps_group(b: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    let mut i = open;
    while i < b.len() {
        match b[i] {
            b'(' | b'{' | b'[' => depth += 1,
            b')' | b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b'\'' => {
                i = skip_to(b, i + 1, b'\'');
                continue;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'`' { 2 } else { 1 };
                }
                i = j + 1;
                continue;
            }
            b'`' => i += 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

// ---------------------------------------------------------------------------------------------
// Launchers and shells.

/// Takes launchers off the front of `words`.
fn unwrap_launchers(
    words: &mut Vec<WordSrc>,
    launchers: &mut Vec<Word>,
    assignments: &mut Vec<Word>,
) {
    for _ in 0..MAX_LAUNCHERS {
        let Some(first) = words.first() else { return };
        let program = program_of(&first.word.value);
        let values: Vec<&str> = words.iter().map(|w| w.word.value.as_str()).collect();
        let Some(wrapped) = launcher_target(&program, &values) else {
            return;
        };
        if wrapped.program >= words.len() || wrapped.program == 0 {
            return;
        }
        let taken: Vec<WordSrc> = words.drain(..wrapped.program).collect();
        for (i, word) in taken.into_iter().enumerate() {
            if i == 0 {
                launchers.push(word.word);
            } else if wrapped.assignments.contains(&i) {
                assignments.push(word.word);
            }
        }
    }
}

/// Where a launcher's wrapped command starts, and which of its words are assignments.
struct Wrapped {
    program: usize,
    assignments: Vec<usize>,
}

fn after_double_dash(values: &[&str]) -> Option<Wrapped> {
    let dash = values.iter().position(|v| *v == "--")?;
    Some(Wrapped {
        program: dash + 1,
        assignments: Vec::new(),
    })
}

/// Skips options (those in `with_value` take the next word) up to the first positional word.
fn skip_options(values: &[&str], from: usize, with_value: &[&str]) -> Option<Wrapped> {
    let mut i = from;
    while let Some(v) = values.get(i) {
        if *v == "--" {
            i += 1;
            break;
        }
        if !v.starts_with('-') || *v == "-" {
            break;
        }
        i += if with_value.contains(v) { 2 } else { 1 };
    }
    Some(Wrapped {
        program: i,
        assignments: Vec::new(),
    })
}

/// Value-taking options of `uv run` and `uv tool run` that may come before the command.
pub const UV_VALUE_OPTIONS: &[&str] = &[
    "--from",
    "--with",
    "-w",
    "--with-editable",
    "--with-requirements",
    "--with-executables-from",
    "--python",
    "-p",
    "--directory",
    "--project",
    "--env-file",
    "--extra",
    "--no-extra",
    "--group",
    "--no-group",
    "--only-group",
    "--package",
    "--index",
    "--default-index",
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--upgrade-package",
    "-P",
    "--reinstall-package",
    "--refresh-package",
    "--no-build-package",
    "--no-binary-package",
    "--no-build-isolation-package",
    "--cache-dir",
    "--config-file",
    "--color",
    "--python-preference",
    "--python-platform",
    "--resolution",
    "--prerelease",
    "--fork-strategy",
    "--exclude-newer",
    "--exclude-newer-package",
    "--index-strategy",
    "--keyring-provider",
    "--link-mode",
    "--config-setting",
    "--config-settings-package",
    "-C",
    "--allow-insecure-host",
    "--torch-backend",
    "--constraints",
    "-c",
    "--overrides",
    "--build-constraints",
    "-b",
];

fn launcher_target(program: &str, values: &[&str]) -> Option<Wrapped> {
    let sub = values.get(1).copied().unwrap_or("");
    match program {
        "env" => {
            let mut i = 1;
            let mut assignments = Vec::new();
            while let Some(v) = values.get(i) {
                if *v == "--" {
                    i += 1;
                    break;
                }
                if v.starts_with("-S") || v.starts_with("--split-string") {
                    // `env -S "cmd args"` re-splits a string; not followed.
                    return None;
                }
                if v.starts_with('-') && *v != "-" {
                    i += if matches!(*v, "-u" | "--unset" | "-C" | "--chdir") {
                        2
                    } else {
                        1
                    };
                } else if is_assignment(v) {
                    assignments.push(i);
                    i += 1;
                } else {
                    break;
                }
            }
            Some(Wrapped {
                program: i,
                assignments,
            })
        }
        "exec" => skip_options(values, 1, &["-a"]),
        "command" | "nohup" | "builtin" | "time" | "call" => skip_options(values, 1, &[]),
        "sudo" | "doas" => {
            let mut wrapped = skip_options(
                values,
                1,
                &["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T"],
            )?;
            while values
                .get(wrapped.program)
                .is_some_and(|v| is_assignment(v))
            {
                wrapped.assignments.push(wrapped.program);
                wrapped.program += 1;
            }
            Some(wrapped)
        }
        "nice" => skip_options(values, 1, &["-n"]),
        "timeout" => {
            let duration = skip_options(values, 1, &["-s", "-k"])?;
            Some(Wrapped {
                program: duration.program + 1,
                assignments: Vec::new(),
            })
        }
        "stdbuf" => skip_options(values, 1, &["-i", "-o", "-e"]),
        "busybox" => Some(Wrapped {
            program: 1,
            assignments: Vec::new(),
        }),
        "wsl" => {
            let mut i = 1;
            while let Some(v) = values.get(i) {
                match *v {
                    "--" | "-e" | "--exec" => {
                        i += 1;
                        break;
                    }
                    "-d" | "--distribution" | "-u" | "--user" | "--cd" | "--shell-type"
                    | "--distribution-id" => i += 2,
                    _ if v.starts_with('-') => i += 1,
                    _ => break,
                }
            }
            Some(Wrapped {
                program: i,
                assignments: Vec::new(),
            })
        }
        "mise" | "rtx" if matches!(sub, "exec" | "x") => after_double_dash(values),
        "op" | "dotenvx" | "doppler" | "infisical" if sub == "run" => after_double_dash(values),
        "aws-vault" if sub == "exec" => after_double_dash(values),
        "dotenv" => {
            after_double_dash(values).or_else(|| skip_options(values, 1, &["-e", "-v", "-p"]))
        }
        "uv" if sub == "run" => skip_options(values, 2, UV_VALUE_OPTIONS),
        "poetry" | "pipenv" | "pixi" | "hatch" | "rye" if sub == "run" => skip_options(
            values,
            2,
            &[
                "-C",
                "--directory",
                "-P",
                "--project",
                "-e",
                "--environment",
                "--manifest-path",
            ],
        ),
        "conda" | "mamba" | "micromamba" if sub == "run" => {
            skip_options(values, 2, &["-n", "--name", "-p", "--prefix", "--cwd"])
        }
        _ => None,
    }
}

/// Where a shell's command string is among its arguments.
struct ShellCall {
    syntax: Syntax,
    /// The index of the option introducing the string.
    flag: usize,
    /// The arguments forming the string.
    args: Range<usize>,
    encoded: bool,
}

/// PowerShell options that take a value (full names; any prefix of three or more letters and
/// the documented aliases also match).
const POWERSHELL_VALUE_OPTIONS: &[&str] = &[
    "executionpolicy",
    "windowstyle",
    "inputformat",
    "outputformat",
    "version",
    "configurationname",
    "workingdirectory",
    "settingsfile",
    "custompipename",
    "psconsolefile",
    "encodedarguments",
];
const POWERSHELL_VALUE_ALIASES: &[&str] = &[
    "ep", "ex", "w", "if", "of", "o", "v", "wd", "wo", "ea", "config",
];

fn shell_call(program: &str, values: &[&str]) -> Option<ShellCall> {
    match program {
        "fish" => {
            let i = values
                .iter()
                .position(|v| matches!(*v, "-c" | "--command"))?;
            (i + 1 < values.len()).then(|| ShellCall {
                syntax: Syntax::Posix,
                flag: i,
                args: i + 1..i + 2,
                encoded: false,
            })
        }
        p if is_posix_shell(p) => {
            let mut i = 1;
            let mut flag = None;
            while let Some(v) = values.get(i) {
                if *v == "--" {
                    i += 1;
                    break;
                }
                if v.starts_with("--") {
                    i += if matches!(*v, "--rcfile" | "--init-file") {
                        2
                    } else {
                        1
                    };
                    continue;
                }
                if (v.starts_with('-') || v.starts_with('+')) && v.len() > 1 {
                    if v.starts_with('-') && v.contains('c') {
                        flag = Some(i);
                    }
                    i += if v.ends_with(['o', 'O']) { 2 } else { 1 };
                    continue;
                }
                break;
            }
            let flag = flag?;
            (i < values.len()).then(|| ShellCall {
                syntax: Syntax::Posix,
                flag,
                args: i..i + 1,
                encoded: false,
            })
        }
        "cmd" => {
            let mut i = 1;
            while let Some(v) = values.get(i) {
                let lower = v.to_ascii_lowercase();
                if matches!(lower.as_str(), "/c" | "/k" | "/r") {
                    return (i + 1 < values.len()).then(|| ShellCall {
                        syntax: Syntax::Cmd,
                        flag: i,
                        args: i + 1..values.len(),
                        encoded: false,
                    });
                }
                if !v.starts_with('/') {
                    return None;
                }
                i += 1;
            }
            None
        }
        "powershell" | "pwsh" | "powershell_ise" => {
            let mut i = 1;
            while let Some(v) = values.get(i) {
                let name = v
                    .strip_prefix('-')
                    .or_else(|| v.strip_prefix('/'))
                    .filter(|n| !n.is_empty())
                    .map(str::to_ascii_lowercase);
                let Some(name) = name else {
                    // Windows PowerShell reads a bare first argument as the command; pwsh as a
                    // script file.
                    return (program != "pwsh").then_some(ShellCall {
                        syntax: Syntax::PowerShell,
                        flag: i,
                        args: i..values.len(),
                        encoded: false,
                    });
                };
                let prefix_of =
                    |full: &str, min: usize| name.len() >= min && full.starts_with(name.as_str());
                if name == "c" || prefix_of("command", 3) {
                    return (i + 1 < values.len()).then(|| ShellCall {
                        syntax: Syntax::PowerShell,
                        flag: i,
                        args: i + 1..values.len(),
                        encoded: false,
                    });
                }
                if name == "e" || name == "ec" || prefix_of("encodedcommand", 2) {
                    return (i + 1 < values.len()).then(|| ShellCall {
                        syntax: Syntax::PowerShell,
                        flag: i,
                        args: i + 1..i + 2,
                        encoded: true,
                    });
                }
                if name == "f" || prefix_of("file", 2) {
                    return None;
                }
                let takes_value = POWERSHELL_VALUE_ALIASES.contains(&name.as_str())
                    || POWERSHELL_VALUE_OPTIONS
                        .iter()
                        .any(|full| name.len() >= 3 && full.starts_with(name.as_str()));
                i += if takes_value { 2 } else { 1 };
            }
            None
        }
        _ => None,
    }
}

/// A short, single-line form of a script or code argument for messages: blanks collapsed,
/// secrets masked, cut at `max` characters with an ellipsis.
pub fn preview(text: &str, max: usize) -> String {
    let mut masked = text.to_string();
    let mut secrets = crate::secrets::find_secrets(text, None);
    secrets.sort_by_key(|m| std::cmp::Reverse(m.span.start));
    for m in secrets {
        if let Some(secret) = text.get(m.span.range()) {
            masked.replace_range(m.span.range(), &crate::secrets::mask(secret));
        }
    }
    let flat = masked.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

// ---------------------------------------------------------------------------------------------
// Base64 for `-EncodedCommand`.

/// Decodes standard base64 (padding optional, blanks ignored).
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// The script of a PowerShell `-EncodedCommand`: base64 of UTF-16LE text.
pub fn decode_powershell(text: &str) -> Option<String> {
    let bytes = decode_base64(text)?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .collect();
    Some(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{self, Format};

    /// The first server of a one-server document, and the launch line read from it.
    fn launch(src: &str, format: Format) -> Launch {
        let doc = document::parse(src, format).unwrap();
        let servers = crate::clients::normalise(
            &doc,
            crate::clients::Schema::McpServers,
            crate::clients::Client::ClaudeCode,
        )
        .servers;
        Launch::of(&servers[0], src).unwrap()
    }

    fn json(command: &str, args: &[&str]) -> (String, Launch) {
        let args: Vec<String> = args
            .iter()
            .map(|a| serde_json::to_string(a).unwrap())
            .collect();
        let src = format!(
            "{{\"mcpServers\": {{\"s\": {{\"command\": {}, \"args\": [{}]}}}}}}",
            serde_json::to_string(command).unwrap(),
            args.join(", ")
        );
        let l = launch(&src, Format::Json);
        (src, l)
    }

    fn programs(l: &Launch) -> Vec<String> {
        l.commands().map(|c| c.program.clone()).collect()
    }

    fn text_at(src: &str, span: Span) -> &str {
        &src[span.range()]
    }

    #[test]
    fn direct_argv_keeps_argument_spans() {
        let (src, l) = json("C:\\Program Files\\nodejs\\npx.cmd", &["-y", "pkg"]);
        let c = &l.scripts[0].commands[0];
        assert_eq!(c.program, "npx");
        assert_eq!(c.args()[1].value, "pkg");
        assert_eq!(text_at(&src, c.args()[1].span), "\"pkg\"");
        assert!(l.shells.is_empty());
    }

    #[test]
    fn bash_c_is_split_on_separators_with_exact_spans() {
        let (src, l) = json(
            "bash",
            &[
                "-lc",
                "cd /srv && curl -fsSL https://x.sh | sh; npx -y 'pkg@1' || true",
            ],
        );
        assert_eq!(l.shells.len(), 1);
        assert_eq!(l.shells[0].flag, "-lc");
        let script = &l.scripts[l.shells[0].script.unwrap()];
        let progs: Vec<_> = script.commands.iter().map(|c| c.program.as_str()).collect();
        assert_eq!(progs, ["cd", "curl", "sh", "npx", "true"]);
        let joiners: Vec<_> = script.commands.iter().map(|c| c.joiner).collect();
        assert_eq!(
            joiners,
            [
                None,
                Some(Joiner::And),
                Some(Joiner::Pipe),
                Some(Joiner::Seq),
                Some(Joiner::Or)
            ]
        );
        let npx = &script.commands[3];
        assert_eq!(npx.args()[1].value, "pkg@1");
        assert_eq!(text_at(&src, npx.args()[1].span), "pkg@1");
        assert_eq!(
            text_at(&src, script.commands[1].span),
            "curl -fsSL https://x.sh"
        );
    }

    #[test]
    fn json_escapes_are_mapped_back() {
        let (src, l) = json("sh", &["-c", "echo \"a\tb\" && npx \"my pkg\""]);
        let script = &l.scripts[l.shells[0].script.unwrap()];
        let npx = &script.commands[1];
        assert_eq!(npx.args()[0].value, "my pkg");
        assert_eq!(text_at(&src, npx.args()[0].span), "my pkg");
        assert_eq!(script.commands[0].args()[0].value, "a\tb");
        assert_eq!(text_at(&src, script.commands[0].args()[0].span), "a\\tb");
    }

    #[test]
    fn cmd_c_joins_arguments_and_places_each() {
        let (src, l) = json(
            "cmd",
            &[
                "/c",
                "npx",
                "-y",
                "@scope/pkg",
                "C:\\My Files",
                "&&",
                "echo",
                "%TOKEN%",
            ],
        );
        let shell = &l.shells[0];
        assert!(shell.joined);
        assert_eq!(shell.syntax, Syntax::Cmd);
        assert_eq!(
            shell.text,
            "npx -y @scope/pkg \"C:\\My Files\" && echo %TOKEN%"
        );
        let script = &l.scripts[shell.script.unwrap()];
        assert_eq!(programs(&l), ["cmd", "npx", "echo"]);
        let npx = &script.commands[0];
        assert_eq!(text_at(&src, npx.args()[1].span), "@scope/pkg");
        assert_eq!(npx.args()[2].value, "C:\\My Files");
        assert_eq!(script.commands[1].joiner, Some(Joiner::And));
    }

    #[test]
    fn cmd_line_in_one_argument() {
        let (_, l) = json(
            "cmd.exe",
            &["/s", "/c", "cd C:\\x & node server.js > log.txt"],
        );
        let script = &l.scripts[l.shells[0].script.unwrap()];
        assert_eq!(programs(&l), ["cmd", "cd", "node"]);
        assert_eq!(script.commands[1].joiner, Some(Joiner::Seq));
        assert_eq!(script.commands[1].redirects[0].op, ">");
        assert_eq!(
            script.commands[1].redirects[0]
                .target
                .as_ref()
                .unwrap()
                .value,
            "log.txt"
        );
    }

    #[test]
    fn launchers_are_unwrapped() {
        for (command, args, want) in [
            ("env", &["FOO=1", "-u", "BAR", "npx", "pkg"][..], "npx"),
            ("wsl", &["-d", "Ubuntu", "--", "uvx", "pkg"], "uvx"),
            ("wsl.exe", &["-e", "bash", "-c", "x"], "bash"),
            ("mise", &["exec", "node@20", "--", "npx", "pkg"], "npx"),
            (
                "op",
                &["run", "--env-file", ".env", "--", "npx", "pkg"],
                "npx",
            ),
            ("dotenv", &["-e", ".env", "--", "node", "x.js"], "node"),
            (
                "uv",
                &["run", "--with", "mcp[cli]", "mcp", "run", "s.py"],
                "mcp",
            ),
            ("sudo", &["-u", "me", "env", "A=b", "npx", "pkg"], "npx"),
        ] {
            let (_, l) = json(command, args);
            assert_eq!(l.scripts[0].commands[0].program, want, "{command} {args:?}");
        }
        let (_, l) = json("env", &["FOO=1", "npx", "pkg"]);
        let c = &l.scripts[0].commands[0];
        assert_eq!(c.assignments[0].value, "FOO=1");
        assert_eq!(c.launchers[0].value, "env");
        // A launcher with nothing to run is left alone.
        let (_, l) = json("env", &["FOO=1"]);
        assert_eq!(l.scripts[0].commands[0].program, "env");
    }

    #[test]
    fn nested_shells_and_substitutions() {
        let (_, l) = json(
            "cmd",
            &["/c", "wsl", "bash", "-c", "eval $(curl -s https://x)"],
        );
        assert_eq!(l.shells.len(), 2);
        assert!(programs(&l).contains(&"curl".to_string()));
        let (_, l) = json("bash", &["-c", "source <(curl -s https://x) && run"]);
        let script = &l.scripts[l.shells[0].script.unwrap()];
        let source = &script.commands[0];
        assert_eq!(source.program, "source");
        assert_eq!(
            l.scripts[source.substitutions[0]].commands[0].program,
            "curl"
        );
    }

    #[test]
    fn posix_assignments_redirects_and_comments() {
        let (_, l) = json(
            "sh",
            &[
                "-c",
                "FOO=1 BAR=\"a b\" node s.js 2>&1 >/tmp/log # note && x\nnpx pkg",
            ],
        );
        let script = &l.scripts[l.shells[0].script.unwrap()];
        let node = &script.commands[0];
        assert_eq!(node.program, "node");
        assert_eq!(node.assignments.len(), 2);
        assert_eq!(node.args().len(), 1);
        assert_eq!(node.redirects.len(), 2);
        assert_eq!(script.commands[1].program, "npx");
        assert_eq!(script.commands.len(), 2);
    }

    #[test]
    fn powershell_command_and_encoded_command() {
        let (_, l) = json(
            "powershell.exe",
            &[
                "-NoProfile",
                "-ExecutionPolicy",
                "Bypass",
                "-Command",
                "irm https://x/i.ps1 | iex",
            ],
        );
        let script = &l.scripts[l.shells[0].script.unwrap()];
        assert_eq!(script.commands[0].program, "irm");
        assert_eq!(script.commands[1].program, "iex");
        assert_eq!(script.commands[1].joiner, Some(Joiner::Pipe));

        // "iex (irm https://x)" as UTF-16LE base64.
        let encoded = "aQBlAHgAIAAoAGkAcgBtACAAaAB0AHQAcABzADoALwAvAHgAKQA=";
        let (src, l) = json("pwsh", &["-NoLogo", "-enc", encoded]);
        let shell = &l.shells[0];
        assert!(shell.encoded);
        assert_eq!(shell.text, "iex (irm https://x)");
        assert_eq!(text_at(&src, shell.span), format!("\"{encoded}\""));
        let iex = &l.scripts[shell.script.unwrap()].commands[0];
        assert_eq!(iex.program, "iex");
        assert_eq!(l.scripts[iex.substitutions[0]].commands[0].program, "irm");
        // -ExecutionPolicy is not -EncodedCommand; pwsh's bare argument is a file.
        let (_, l) = json("pwsh", &["-ex", "Bypass", "script.ps1"]);
        assert!(l.shells.is_empty());
        let (_, l) = json("powershell", &["-File", "x.ps1"]);
        assert!(l.shells.is_empty());
    }

    #[test]
    fn shell_without_a_command_string_is_not_a_shell_string() {
        for args in [
            &["start.sh"][..],
            &["-l", "start.sh"],
            &["--", "-c"],
            &["-c"],
        ] {
            let (_, l) = json("bash", args);
            assert!(l.shells.is_empty(), "{args:?}");
        }
        let (_, l) = json("cmd", &["/q"]);
        assert!(l.shells.is_empty());
    }

    #[test]
    fn toml_and_yaml_values_are_placed() {
        let src = "[mcp_servers.s]\ncommand = 'bash'\nargs = ['-c', 'npx -y pkg']\n";
        let doc = document::parse(src, Format::Toml).unwrap();
        let servers = crate::clients::normalise(
            &doc,
            crate::clients::Schema::Codex,
            crate::clients::Client::Codex,
        )
        .servers;
        let l = Launch::of(&servers[0], src).unwrap();
        let npx = &l.scripts[1].commands[0];
        assert_eq!(text_at(src, npx.args()[1].span), "pkg");

        let src =
            "mcpServers:\n  s:\n    command: sh\n    args: [\"-c\", 'echo ''hi'' && npx pkg']\n";
        let l = launch(src, Format::Yaml);
        let npx = &l.scripts[1].commands[1];
        assert_eq!(text_at(src, npx.args()[0].span), "pkg");
    }

    #[test]
    fn folded_yaml_is_placed_and_base64_falls_back_to_the_argument() {
        // A folded YAML scalar: the value no longer matches the text byte for byte.
        let src = "mcpServers:\n  s:\n    command: sh\n    args:\n      - -c\n      - >-\n        npx\n        pkg\n";
        let l = launch(src, Format::Yaml);
        let npx = &l.scripts[1].commands[0];
        assert_eq!(npx.args()[0].value, "pkg");
        assert_eq!(text_at(src, npx.args()[0].span), "pkg");
        // A base64 script cannot be placed inside its argument.
        let (src, l) = json(
            "pwsh",
            &[
                "-ec",
                "aQBlAHgAIAAoAGkAcgBtACAAaAB0AHQAcABzADoALwAvAHgAKQA=",
            ],
        );
        let irm = &l.scripts[l.scripts.len() - 1].commands[0];
        assert_eq!(irm.program, "irm");
        assert!(text_at(&src, irm.span).starts_with("\"aQBl"));
    }

    #[test]
    fn odd_input_does_not_panic() {
        for script in [
            "", "'", "\"", "$(", "`", "\\", "a |", "| a", "&& ;;", "<(", "2>", "é'ü\"", "$((1+2))",
            "${", "a > ", "(((", ")))", "x=$(", "a\\",
        ] {
            for shell in ["sh", "cmd", "powershell"] {
                let flag = if shell == "cmd" { "/c" } else { "-c" };
                let _ = json(shell, &[flag, script]);
            }
        }
        let mut deep = vec!["/c"];
        for _ in 0..50 {
            deep.extend(["cmd", "/c"]);
        }
        deep.push("x");
        let (_, l) = json("cmd", &deep);
        assert!(l.scripts.iter().all(|s| s.depth <= MAX_DEPTH));
        assert!(l.scripts.len() <= MAX_DEPTH + 1);
    }

    #[test]
    fn helpers() {
        assert_eq!(program_of("C:\\Tools\\NPX.CMD"), "npx");
        assert_eq!(program_of("/usr/bin/é'ü"), "é'ü");
        assert_eq!(program_of(".exe"), ".exe");
        assert_eq!(preview("a  b\n c", 10), "a b c");
        assert_eq!(preview("abcdefghijkl", 6), "abcde…");
        assert!(!preview("echo ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", 80).contains("E5f6"));
        assert!(is_python("python3.12") && is_python("py") && !is_python("pyright"));
        assert!(is_assignment("A_1=x") && !is_assignment("1A=x") && !is_assignment("--a=b"));
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("a*b").is_none());
        assert_eq!(decode_powershell("aABpAA==").unwrap(), "hi");
        assert!(decode_powershell("aGkh").is_none());
        assert_eq!(decode_cmd("a^&b\"c d\""), "a&bc d");
        assert_eq!(decode_powershell_word("'it''s'"), "it's");
        assert_eq!(decode_posix("'a b'\"c\""), "a bc");
    }

    #[test]
    fn align_config_handles_each_quoting_style() {
        assert_eq!(
            align_config("\"a\\\"b\"", "a\"b").unwrap(),
            [1..2, 2..4, 4..5]
        );
        assert_eq!(align_config("'it''s'", "it's").unwrap()[2], 3..5);
        assert_eq!(align_config("plain", "plain").unwrap()[0], 0..1);
        assert_eq!(align_config("\"\\u00e9\"", "é").unwrap(), [1..7, 1..7]);
        // YAML block scalars: the span holds the indented lines, the value does not.
        let raw = "set -e\n    curl x | sh\n\n    exec y";
        let map = align_config(raw, "set -e\ncurl x | sh\n\nexec y\n").unwrap();
        assert_eq!(&raw[map[7].clone()], "c");
        assert_eq!(&raw[map[20].clone()], "e");
        let raw = "one\n    two\n\n    three";
        let map = align_config(raw, "one two\nthree").unwrap();
        assert_eq!(&raw[map[4].clone()], "t");
        assert_eq!(&raw[map[8].clone()], "t");
        assert!(align_config("\"a\"", "b").is_none());
        assert!(align_config("\"ab\"", "a").is_none());
    }
}
