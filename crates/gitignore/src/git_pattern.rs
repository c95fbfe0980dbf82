//! One line of gitignore syntax, read exactly as git reads it, and rewritten into the
//! dialect that the `ignore` crate then matches identically.
//!
//! Why a rewrite at all: `ignore` implements gitignore "from scratch" on top of `globset`,
//! and in a handful of places it reads a line differently from git (checked against
//! `git check-ignore`, see `tests/conformance.rs`):
//!
//! * git trims only trailing *spaces*; `ignore` trims all trailing whitespace (tabs too).
//! * `{a,b}` is literal text for git but an alternation for `globset`.
//! * git anchors a pattern whose text holds a `/` anywhere, even inside `[...]` (so
//!   `[/a]` matches only a top-level `a`); `ignore` looks for a separator.
//! * inside `[...]` git honours backslash escapes and POSIX classes (`[[:digit:]]`), never
//!   matches `/` (negated classes neither), matches nothing for an unclosed `[`, and
//!   reads a reversed range `[z-a]` as its first endpoint alone; `globset` takes the
//!   backslash literally, knows no POSIX classes, matches `/`, reads an unclosed `[` as
//!   literal text and rejects reversed ranges.
//! * git compares the literal prefix of a path pattern first and then matches the rest
//!   as if it were a whole pattern, so in `b**/a` the `**` acts like a leading `**/`
//!   (it matches `ba` and `bx/y/a`), and so do more `**/` right after it; when they
//!   match nothing, a `/` after them is the path's own (`a**//c` matches `a/c`). For
//!   `globset` that `**` is a plain `*`.
//! * a pattern with an empty component otherwise never matches in git (`a//b`, or
//!   `**//`, the directory pattern `**/`); `globset` reads `**/` alone as `**`.
//! * git lets `**/` match nothing but not `**\/` (`a/**\/b` needs a directory between
//!   `a` and `b`), ends the literal prefix at an escaped slash, and strips only an
//!   unescaped leading `/` (so `\/a` never matches); `ignore` reads `\/` as `/`.
//!
//! So this module parses a line the way git's `dir.c` and `wildmatch.c` do into
//! [`GitPattern`] tokens, and [`GitPattern::ignore_lines`] writes them back out with every
//! literal escaped and every bracket expression normalized, so the `ignore` crate has
//! nothing left to interpret differently.
//!
//! Bracket expressions are byte sets in git: `[é]` is the set of the two UTF-8 bytes of
//! `é`, so `caf[é]*` matches `café` (the class takes 0xC3, the star 0xA9) and `[!é]` any
//! one byte but those two. `globset` matches bytes too, but its glob text can only name
//! whole characters, so a set holding a non-ASCII byte cannot always be written for it.
//! Such a pattern gets a byte-exact regular expression instead
//! ([`GitPattern::byte_regex`]), which the matcher runs beside `ignore`'s lines.
//!
//! Writing the result out has pitfalls of its own, each covered by a regression case in
//! `tests/conformance.rs`: `ignore` anchors any line with a `/` in it (a negated class
//! lists `/`), trims trailing whitespace written by a one-member class, and `globset`
//! negates a class that starts with `!` or `^`.

use std::fmt::Write as _;

/// A pattern line, parsed as git parses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitPattern {
    /// `!pattern`: re-includes what an earlier pattern excluded.
    pub negated: bool,
    /// `pattern/`: matches directories only.
    pub dir_only: bool,
    /// Whether git matches it against the whole path from the root rather than against
    /// the last component: the body holds a `/` anywhere, even inside `[...]`.
    pub path_pattern: bool,
    /// The pattern body: what is left after `!`, and after the trailing `/`.
    pub tokens: Vec<Token>,
}

/// One element of a pattern body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A character matched literally. `escaped` records a preceding backslash, which ends
    /// git's literal prefix (`simple_length` in its dir.c).
    Literal { ch: char, escaped: bool },
    /// The path separator. `escaped` records that it was written `\/`: git then keeps
    /// it out of the literal prefix, and a `**` before it cannot match nothing.
    Slash { escaped: bool },
    /// `?`: any one byte but `/`.
    AnyByte,
    /// `*`, or a run of stars that git treats like one: any bytes but `/`.
    /// `widens_after_prefix` marks a run of two or more stars followed by `/` or the end:
    /// right after git's literal prefix such a run acts as a leading `**/`.
    Star { widens_after_prefix: bool },
    /// A run of two or more stars between separators (or the pattern's ends): any bytes,
    /// `/` included. Followed by an unescaped `/`, git also lets `**/` match nothing.
    DoubleStar,
    /// `[...]`: one byte from (or, negated, not from) a set of bytes, never `/`.
    Class(ByteClass),
}

/// The byte set of a bracket expression, as git reads it: byte by byte, so a non-ASCII
/// character written inside contributes each of its UTF-8 bytes (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteClass {
    pub negated: bool,
    /// Bit `b` set means byte `b` (0..128) is a member.
    pub members: u128,
    /// Bit `b` set means byte `128 + b` is a member.
    pub high: u128,
}

impl ByteClass {
    /// Whether byte `byte` is written in the set (before negation).
    #[must_use]
    pub fn has(&self, byte: u8) -> bool {
        if byte < 128 {
            self.members & (1u128 << byte) != 0
        } else {
            self.high & (1u128 << (byte - 128)) != 0
        }
    }

    fn insert(&mut self, byte: u8) {
        if byte < 128 {
            self.members |= 1u128 << byte;
        } else {
            self.high |= 1u128 << (byte - 128);
        }
    }

    /// Whether the set one byte of a path is matched against (after negation, without
    /// `/`, which git never matches with `[...]`) holds this byte.
    #[must_use]
    pub fn matches(&self, byte: u8) -> bool {
        byte != b'/' && self.has(byte) != self.negated
    }
}

/// What a line of a pattern file is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// A blank line or a `#` comment.
    Nothing,
    /// A pattern that git accepts but that can never match any path (for example an
    /// unclosed `[`, a trailing backslash, or an empty pattern such as `!` or `/`).
    NeverMatches(NeverMatches),
    Pattern(GitPattern),
}

/// Why git will never match a pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NeverMatches {
    Empty,
    UnclosedBracket,
    UnknownCharacterClass,
    EmptyBracket,
    TrailingBackslash,
    LeadingEscapedSlash,
    EmptyComponent,
}

impl NeverMatches {
    #[must_use]
    pub fn explanation(self) -> &'static str {
        match self {
            Self::Empty => "it is empty once `!` and the trailing `/` are removed",
            Self::UnclosedBracket => "its `[` is never closed by a `]`",
            Self::UnknownCharacterClass => {
                "it names an unknown character class (git knows [:alnum:], [:alpha:], [:blank:], [:cntrl:], [:digit:], [:graph:], [:lower:], [:print:], [:punct:], [:space:], [:upper:], [:xdigit:])"
            }
            Self::EmptyBracket => {
                "its bracket expression has no member a path can hold (git never matches `/` with `[...]`)"
            }
            Self::TrailingBackslash => "it ends with a backslash that escapes nothing",
            Self::EmptyComponent => {
                "it has an empty path component (`//`, or `//` at the end, one `/` of which marks a directory), and no path has one"
            }
            Self::LeadingEscapedSlash => {
                "it starts with `\\/`, a literal slash that no path inside the directory starts with (write `/` to anchor a pattern)"
            }
        }
    }
}

impl Line {
    /// Reads one line (without its `\n`) the way git's `add_patterns_from_buffer` does:
    /// `#` starts a comment, one trailing carriage return is dropped, then trailing spaces
    /// unless escaped with a backslash.
    #[must_use]
    pub fn parse(raw: &str) -> Line {
        if raw.is_empty() || raw.starts_with('#') {
            return Line::Nothing;
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = trim_trailing_spaces(line);
        if line.is_empty() {
            return Line::Nothing;
        }

        let (negated, body) = match line.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        let (dir_only, body) = match body.strip_suffix('/') {
            Some(rest) => (true, rest),
            None => (false, body),
        };
        if body.is_empty() {
            return Line::NeverMatches(NeverMatches::Empty);
        }
        match tokenize(body) {
            Ok(tokens) => {
                let pattern = GitPattern {
                    negated,
                    dir_only,
                    // git's test for a basename pattern looks for a `/` in the raw text.
                    path_pattern: body.contains('/'),
                    tokens,
                };
                if pattern.has_empty_component() {
                    Line::NeverMatches(NeverMatches::EmptyComponent)
                } else {
                    Line::Pattern(pattern)
                }
            }
            Err(never) => Line::NeverMatches(never),
        }
    }
}

/// Whether a body (without its leading `/`) has a component with nothing in it: it
/// starts or ends with a separator, or has two in a row.
fn has_empty_component(body: &[Token]) -> bool {
    body.first().is_some_and(Token::is_slash)
        || body.last().is_some_and(Token::is_slash)
        || body
            .windows(2)
            .any(|pair| pair[0].is_slash() && pair[1].is_slash())
}

/// git's `trim_trailing_spaces`: drop the trailing run of unescaped spaces (only spaces:
/// a trailing tab stays part of the pattern).
fn trim_trailing_spaces(line: &str) -> &str {
    let bytes = line.as_bytes();
    let mut end = bytes.len();
    let mut i = 0;
    let mut last_space = None;
    while i < bytes.len() {
        match bytes[i] {
            b' ' => {
                if last_space.is_none() {
                    last_space = Some(i);
                }
            }
            b'\\' => {
                i += 1;
                if i == bytes.len() {
                    return line;
                }
                last_space = None;
            }
            _ => last_space = None,
        }
        i += 1;
    }
    if let Some(space) = last_space {
        end = space;
    }
    &line[..end]
}

/// Splits a pattern body into tokens as `wildmatch.c` reads it. `Err` says the pattern is
/// valid for git but never matches.
fn tokenize(body: &str) -> Result<Vec<Token>, NeverMatches> {
    let chars: Vec<char> = body.chars().collect();
    // The byte offset of each character, and of the end: classes are read byte by byte.
    let offsets: Vec<usize> = body
        .char_indices()
        .map(|(offset, _)| offset)
        .chain([body.len()])
        .collect();
    let has_slash = chars.contains(&'/');
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(NeverMatches::TrailingBackslash);
                };
                tokens.push(if next == '/' {
                    if i == 0 {
                        // git strips only an unescaped leading `/`; wildmatch then wants a
                        // `/` where no relative path has one.
                        return Err(NeverMatches::LeadingEscapedSlash);
                    }
                    Token::Slash { escaped: true }
                } else {
                    Token::Literal {
                        ch: next,
                        escaped: true,
                    }
                });
                i += 2;
            }
            '/' => {
                tokens.push(Token::Slash { escaped: false });
                i += 1;
            }
            '?' => {
                tokens.push(Token::AnyByte);
                i += 1;
            }
            '*' => {
                let start = i;
                while chars.get(i) == Some(&'*') {
                    i += 1;
                }
                // wildmatch: a run of 2+ stars crosses `/` only when it stands between
                // separators (or the ends of the pattern). In a basename pattern (no `/`)
                // git matches with flags 0, where every star already matches anything.
                let bounded_left = start == 0 || chars[start - 1] == '/';
                let bounded_right = i == chars.len()
                    || chars[i] == '/'
                    || (chars[i] == '\\' && chars.get(i + 1) == Some(&'/'));
                let run = i - start;
                tokens.push(if has_slash && run >= 2 && bounded_left && bounded_right {
                    Token::DoubleStar
                } else {
                    Token::Star {
                        widens_after_prefix: has_slash && run >= 2 && bounded_right,
                    }
                });
            }
            '[' => {
                let (class, next) = parse_class(body.as_bytes(), offsets[i] + 1)?;
                // No path byte can match a set without members (a `/` or NUL is no
                // member: git never matches `/` with `[...]`, and names hold no NUL).
                let usable = class.members & !((1u128 << b'/') | 1);
                if !class.negated && usable == 0 && class.high == 0 {
                    return Err(NeverMatches::EmptyBracket);
                }
                tokens.push(Token::Class(class));
                // A class ends with the ASCII `]`, so on a character boundary.
                i = offsets.partition_point(|&offset| offset < next);
            }
            ch => {
                tokens.push(Token::Literal { ch, escaped: false });
                i += 1;
            }
        }
    }
    Ok(tokens)
}

/// Parses a bracket expression whose `[` is just before byte `start`, following the class
/// branch of `wildmatch.c` step by step, byte by byte as it does (a non-ASCII character is
/// its UTF-8 bytes, each a member or a range endpoint of its own). Returns the class and
/// the byte offset after its `]`.
fn parse_class(bytes: &[u8], start: usize) -> Result<(ByteClass, usize), NeverMatches> {
    let at = |i: usize| bytes.get(i).copied();
    let mut p = start;
    let mut class = ByteClass {
        negated: false,
        members: 0,
        high: 0,
    };
    if matches!(at(p), Some(b'!' | b'^')) {
        class.negated = true;
        p += 1;
    }
    // `prev` is the previous member usable as a range start; wildmatch resets it to
    // nothing after a range or a named class.
    let mut prev: Option<u8> = None;
    let mut first = true;
    loop {
        let Some(byte) = at(p) else {
            return Err(NeverMatches::UnclosedBracket);
        };
        if byte == b']' && !first {
            return Ok((class, p + 1));
        }
        first = false;
        if byte == b'\\' {
            let Some(escaped) = at(p + 1) else {
                return Err(NeverMatches::UnclosedBracket);
            };
            class.insert(escaped);
            prev = Some(escaped);
            p += 2;
        } else if byte == b'-' && prev.is_some() && at(p + 1).is_some_and(|next| next != b']') {
            let mut end_at = p + 1;
            if at(end_at) == Some(b'\\') {
                end_at += 1;
            }
            let Some(hi) = at(end_at) else {
                return Err(NeverMatches::UnclosedBracket);
            };
            let lo = prev.take().unwrap_or(hi);
            // A reversed range adds nothing: its first endpoint is already a member.
            for member in lo..=hi {
                class.insert(member);
            }
            p = end_at + 1;
        } else if byte == b'[' && at(p + 1) == Some(b':') {
            let name_start = p + 2;
            let Some(close) = (name_start..bytes.len()).find(|&i| bytes[i] == b']') else {
                return Err(NeverMatches::UnclosedBracket);
            };
            if close > name_start && bytes[close - 1] == b':' {
                let Some(members) = posix_class(&bytes[name_start..close - 1]) else {
                    return Err(NeverMatches::UnknownCharacterClass);
                };
                class.members |= members;
                prev = None;
                p = close + 1;
            } else {
                // No `:]`: wildmatch takes the `[` as an ordinary member.
                class.insert(b'[');
                prev = Some(b'[');
                p += 1;
            }
        } else {
            class.insert(byte);
            prev = Some(byte);
            p += 1;
        }
    }
}

/// The members of a POSIX character class as git defines them (`sane_ctype`: ASCII only,
/// and `[:space:]` is tab, newline, carriage return and space).
fn posix_class(name: &[u8]) -> Option<u128> {
    let range = |lo: u8, hi: u8| -> u128 { (lo..=hi).fold(0, |set, b| set | (1u128 << b)) };
    let bytes = |list: &[u8]| -> u128 { list.iter().fold(0, |set, &b| set | (1u128 << b)) };
    let digit = range(b'0', b'9');
    let upper = range(b'A', b'Z');
    let lower = range(b'a', b'z');
    let graph = range(0x21, 0x7e);
    Some(match name {
        b"alnum" => digit | upper | lower,
        b"alpha" => upper | lower,
        b"blank" => bytes(b" \t"),
        b"cntrl" => range(0x00, 0x1f) | bytes(&[0x7f]),
        b"digit" => digit,
        b"graph" => graph,
        b"lower" => lower,
        b"print" => graph | bytes(b" "),
        b"punct" => graph & !(digit | upper | lower),
        b"space" => bytes(b" \t\n\r"),
        b"upper" => upper,
        b"xdigit" => digit | range(b'A', b'F') | range(b'a', b'f'),
        _ => return None,
    })
}

impl Token {
    /// Whether this is a path separator, escaped or not.
    #[must_use]
    pub fn is_slash(&self) -> bool {
        matches!(self, Token::Slash { .. })
    }
}

/// An unescaped `/`, as the rewrites below insert it.
const SLASH: Token = Token::Slash { escaped: false };

/// A path pattern whose `**` right after git's literal prefix acts as a leading `**/`.
struct Widened<'t> {
    /// The literal prefix `L`, ending inside a component.
    prefix: &'t [Token],
    /// What follows the leading `**` runs and their separators.
    rest: &'t [Token],
    /// Every run was followed by an unescaped `/` (or the end), so together they may
    /// match nothing. `**\/` must be followed by a `/` of the path.
    may_match_nothing: bool,
    /// The last run ends the pattern (`L**`, not `L**/`): it matches any text, within
    /// the last component of `L` too.
    open_end: bool,
}

impl GitPattern {
    /// Whether git matches this pattern against the whole path (it holds a `/`) rather
    /// than against the last path component.
    #[must_use]
    pub fn is_path_pattern(&self) -> bool {
        self.path_pattern
    }

    /// Whether the body starts with `/` (never `\/`: see [`NeverMatches::LeadingEscapedSlash`]).
    #[must_use]
    pub fn starts_with_slash(&self) -> bool {
        self.tokens.first().is_some_and(Token::is_slash)
    }

    /// The body without its leading `/`, which git strips before matching.
    fn body(&self) -> &[Token] {
        if self.starts_with_slash() {
            &self.tokens[1..]
        } else {
            &self.tokens
        }
    }

    /// The leading path components that are plain literal text, if the pattern is
    /// anchored (a path pattern). `a/b*/c` gives `["a"]`; `**/x` gives nothing.
    #[must_use]
    pub fn literal_components(&self) -> Vec<String> {
        if !self.is_path_pattern() {
            return Vec::new();
        }
        let mut components = Vec::new();
        let mut current = String::new();
        for token in self.body() {
            match token {
                Token::Literal { ch, .. } => current.push(*ch),
                Token::Slash { .. } => components.push(std::mem::take(&mut current)),
                _ => return components,
            }
        }
        // The last component is complete too (the body ended without a wildcard).
        components.push(current);
        components
    }

    /// The path components of the body, each as text when it is a plain literal.
    pub fn components(&self) -> impl Iterator<Item = Option<String>> + '_ {
        self.tokens.split(Token::is_slash).map(|component| {
            component
                .iter()
                .map(|token| match token {
                    Token::Literal { ch, .. } => Some(*ch),
                    _ => None,
                })
                .collect()
        })
    }

    /// Drops the first `count` path components (and the separator after them), keeping a
    /// leading `/` so the rest stays anchored: `/layers/x/y` minus 1 is `/x/y`.
    #[must_use]
    pub fn without_leading_components(&self, count: usize) -> GitPattern {
        let mut rest = self.body();
        for _ in 0..count {
            match rest.iter().position(Token::is_slash) {
                Some(slash) => rest = &rest[slash + 1..],
                None => rest = &[],
            }
        }
        let mut tokens = Vec::with_capacity(rest.len() + 1);
        tokens.push(SLASH);
        tokens.extend_from_slice(rest);
        GitPattern {
            negated: self.negated,
            dir_only: self.dir_only,
            path_pattern: true,
            tokens,
        }
    }

    /// The number of tokens in git's literal prefix (`simple_length`): up to the first of
    /// `*`, `?`, `[` or a backslash (an escaped `/` included), not counting a leading `/`.
    fn literal_prefix_len(&self) -> usize {
        self.body()
            .iter()
            .take_while(|token| {
                matches!(
                    token,
                    Token::Slash { escaped: false } | Token::Literal { escaped: false, .. }
                )
            })
            .count()
    }

    /// Where git's literal-prefix rule widens a `**`, how (see [`Widened`]).
    ///
    /// git's `match_pathname` compares the literal prefix, then matches the rest with
    /// wildmatch, where a star run at the very start counts as leading: after a prefix
    /// that ends inside a component, `**` followed by `/` or the end acts like a leading
    /// `**/`, so `b**/a` matches `ba`, `b/a` and `bx/y/a`.
    fn widened(&self) -> Option<Widened<'_>> {
        let body = self.body();
        let prefix_len = self.literal_prefix_len();
        let widens = self.is_path_pattern()
            && prefix_len > 0
            && !body[prefix_len - 1].is_slash()
            && body.get(prefix_len)
                == Some(&Token::Star {
                    widens_after_prefix: true,
                });
        if !widens {
            return None;
        }
        // The widened star, then any `**` runs (not single stars) right after it: they
        // are leading too, as git matches what follows a `**/` as a whole pattern again.
        let mut widened = Widened {
            prefix: &body[..prefix_len],
            rest: &body[prefix_len..],
            may_match_nothing: true,
            open_end: false,
        };
        let mut first = true;
        loop {
            widened.rest = match widened.rest {
                [Token::Star { .. }, Token::Slash { escaped }, tail @ ..] if first => {
                    widened.may_match_nothing &= !escaped;
                    tail
                }
                [Token::DoubleStar, Token::Slash { escaped }, tail @ ..] => {
                    widened.may_match_nothing &= !escaped;
                    tail
                }
                [Token::Star { .. }] if first => {
                    widened.open_end = true;
                    &[]
                }
                [Token::DoubleStar] => {
                    widened.open_end = true;
                    &[]
                }
                _ => break,
            };
            first = false;
        }
        Some(widened)
    }

    /// Whether git can never match the pattern because it wants an empty path component:
    /// a `/` where a path has none (`a//b`), or a path ending in `/` (`**//`, dir-only
    /// `**/`). After a widened `**/` that matches nothing, though, a `/` is the path's
    /// own (`a**//c` matches `a/c`), so there the prefix and the rest are checked.
    fn has_empty_component(&self) -> bool {
        match self.widened() {
            None => has_empty_component(self.body()),
            Some(widened) => {
                let mut direct = widened.prefix.to_vec();
                direct.extend_from_slice(widened.rest);
                has_empty_component(&direct)
            }
        }
    }

    /// The pattern in the dialect of `ignore::gitignore::GitignoreBuilder::add_line`: one
    /// line, or where git's literal-prefix rule widens a `**`, the lines whose union git
    /// matches (two, one, or none when it can never match). For a pattern whose classes
    /// hold non-ASCII bytes, which glob text cannot always name, use [`Self::byte_regex`].
    #[must_use]
    pub fn ignore_lines(&self) -> Vec<String> {
        self.bodies().iter().map(|body| self.render(body)).collect()
    }

    /// Whether a bracket expression holds a non-ASCII byte, so that only
    /// [`Self::byte_regex`] expresses the pattern exactly.
    #[must_use]
    pub fn needs_byte_regex(&self) -> bool {
        self.tokens
            .iter()
            .any(|token| matches!(token, Token::Class(class) if class.high != 0))
    }

    /// The pattern as one regular expression over the bytes of a path relative to the
    /// root (`a/b`, no leading `/`), in the syntax of `regex-automata` with Unicode off,
    /// matching exactly the paths git matches (`dir_only` and `negated` are the caller's).
    /// It reads each body as `globset` reads the line [`Self::ignore_lines`] writes for
    /// it, with a class as the byte set it is.
    #[must_use]
    pub fn byte_regex(&self) -> String {
        let bodies: Vec<String> = self.bodies().iter().map(|body| body_regex(body)).collect();
        // A basename pattern matches the last component (it has no `/` of its own).
        let start = if self.is_path_pattern() {
            "^"
        } else {
            "(?:^|/)"
        };
        if bodies.is_empty() {
            // It can never match: a NUL is in no path.
            return "\\x00".to_owned();
        }
        format!("(?s-u){start}(?:{})$", bodies.join("|"))
    }

    /// The bodies whose union git matches: one, or where git's literal-prefix rule widens
    /// a `**`, two, one or none.
    fn bodies(&self) -> Vec<Vec<Token>> {
        let Some(widened) = self.widened() else {
            return vec![self.body().to_vec()];
        };
        let Widened {
            prefix,
            rest,
            may_match_nothing,
            open_end,
        } = widened;
        let star = Token::Star {
            widens_after_prefix: false,
        };
        // The runs match text ending in `/` (`L*/**/` + rest), or at an open end any
        // text (`L*/**`, and `L*` below). Not before a `/` of the rest, nor at an end
        // after a `/`: the path would need `//` or a trailing `/`.
        let deeper = (open_end || rest.first().is_some_and(|token| !token.is_slash())).then(|| {
            let mut deeper = prefix.to_vec();
            deeper.extend([star.clone(), SLASH, Token::DoubleStar]);
            if !rest.is_empty() {
                deeper.push(SLASH);
                deeper.extend_from_slice(rest);
            }
            deeper
        });
        // The runs match nothing: the prefix runs straight into the rest (`L` + rest),
        // or, at an open end, into anything within the component (`L*`).
        let direct = may_match_nothing.then(|| {
            let mut direct = prefix.to_vec();
            if open_end {
                direct.push(star);
            }
            direct.extend_from_slice(rest);
            direct
        });
        [direct, deeper].into_iter().flatten().collect()
    }

    /// Writes a body in `ignore`'s dialect. A path pattern always gets a leading `/`: git
    /// anchors every pattern holding a `/`, and the widened forms above may have lost it.
    fn render(&self, body: &[Token]) -> String {
        let mut text = String::with_capacity(body.len() + 4);
        for (index, token) in body.iter().enumerate() {
            let at_end = index + 1 == body.len() && !self.dir_only;
            match token {
                Token::Literal { ch, .. } => push_literal(&mut text, *ch, at_end),
                Token::Slash { .. } => text.push('/'),
                Token::AnyByte => text.push('?'),
                Token::Star { .. } => text.push('*'),
                Token::DoubleStar => {
                    // `**\/`: git's `**` cannot match nothing here, so it needs one more
                    // component: `*/**/`.
                    if body.get(index + 1) == Some(&Token::Slash { escaped: true }) {
                        text.push_str("*/**");
                    } else {
                        text.push_str("**");
                    }
                }
                Token::Class(class) => push_class(&mut text, *class, at_end),
            }
        }
        let mut out = String::with_capacity(text.len() + 5);
        if self.negated {
            out.push('!');
        }
        if self.is_path_pattern() {
            out.push('/');
        } else if text.contains('/') {
            // Only a negated class writes a `/` into a basename pattern (to keep it from
            // matching one). `ignore` would take the line for a path pattern and anchor
            // it at the root; an explicit `**/` keeps it matching at any depth.
            out.push_str("**/");
        }
        out.push_str(&text);
        if self.dir_only {
            out.push('/');
        }
        out
    }
}

/// One body as a regular expression over bytes (Unicode off, `.` matching any byte):
/// what `globset` makes of the glob [`GitPattern::ignore_lines`] writes for it, with each
/// class written as its exact byte set.
fn body_regex(body: &[Token]) -> String {
    let mut re = String::with_capacity(body.len() * 4);
    let byte = |re: &mut String, byte: u8| {
        let _ = write!(re, "\\x{byte:02x}");
    };
    let mut index = 0;
    while index < body.len() {
        let next = body.get(index + 1);
        match &body[index] {
            Token::Literal { ch, .. } => {
                for &b in ch.encode_utf8(&mut [0; 4]).as_bytes() {
                    byte(&mut re, b);
                }
            }
            // `/**/` is one or more separators' worth: `/`, or `/` text `/`; `/**` at the
            // end is `/` and anything.
            Token::Slash { .. } if next == Some(&Token::DoubleStar) => {
                re.push('/');
                index += 1;
                continue;
            }
            Token::Slash { .. } => re.push('/'),
            Token::AnyByte => re.push_str("[^/]"),
            Token::Star { .. } => re.push_str("[^/]*"),
            Token::DoubleStar => {
                match next {
                    // `**\/`: git's `**` cannot match nothing here (`*/**/`, as written
                    // for `ignore`).
                    Some(Token::Slash { escaped: true }) => re.push_str("[^/]*/(?:.*/)?"),
                    Some(Token::Slash { .. }) => re.push_str("(?:.*/)?"),
                    _ => re.push_str(".*"),
                }
                // The `/` after it is part of what was just written.
                index += usize::from(next.is_some_and(Token::is_slash));
            }
            Token::Class(class) => {
                re.push('[');
                let mut any = false;
                for member in 1..=255u8 {
                    if class.matches(member) {
                        byte(&mut re, member);
                        any = true;
                    }
                }
                if !any {
                    // Nothing a path holds: a NUL.
                    byte(&mut re, 0);
                }
                re.push(']');
            }
        }
        index += 1;
    }
    re
}

/// Writes one literal character so that neither `ignore`'s line handling nor `globset`
/// gives it a meaning.
fn push_literal(out: &mut String, ch: char, at_end: bool) {
    match ch {
        // A backslash escape would be undone by `ignore` before a trailing `/`; inside a
        // class `globset` takes it literally.
        '\\' => out.push_str("[\\]"),
        '*' | '?' | '[' | ']' | '{' | '}' | '!' | '#' | ',' => {
            out.push('\\');
            out.push(ch);
        }
        // `ignore` trims all trailing whitespace; git keeps what it did not trim itself.
        ch if at_end && ch.is_whitespace() => {
            if ch.is_ascii() {
                let _ = write!(out, "[{ch}]");
            } else {
                let _ = write!(out, "{{{ch}}}");
            }
        }
        ch => out.push(ch),
    }
}

/// Writes a byte class in `globset` syntax, `/` excluded as git never matches it.
/// `at_end`: the class ends the line, so a class written as one whitespace literal would
/// be trimmed by `ignore`.
fn push_class(out: &mut String, class: ByteClass, at_end: bool) {
    let slash = 1u128 << b'/';
    let members = class.members & !slash & !1; // NUL can never be part of a name
    if class.negated {
        out.push_str("[!");
        push_class_members(out, members | slash);
        out.push(']');
        return;
    }
    let exclamation_and_caret = (1u128 << b'!') | (1u128 << b'^');
    match members.count_ones() {
        // `parse` reports such a pattern as never matching; a NUL never occurs in a path.
        0 => out.push('\0'),
        1 => {
            let byte = u8::try_from(members.trailing_zeros()).unwrap_or(b'?');
            push_literal(out, char::from(byte), at_end);
        }
        // Written as a class, either would come first and negate it.
        _ if members == exclamation_and_caret => out.push_str("{\\!,\\^}"),
        _ => {
            out.push('[');
            push_class_members(out, members);
            out.push(']');
        }
    }
}

/// Writes the members of a class (between `[` or `[!` and `]`) for `globset`, which takes
/// every character literally except: `]` ends the class unless it comes first, `-` makes a
/// range unless it comes first or last, and `!` or `^` first negates it. So `]` goes
/// first, `-` first (or last, after a `]`), `!` and `^` after the other members, and
/// runs of consecutive bytes become ranges. With two or more members that are not just
/// `!` and `^`, nothing negates the class by accident.
fn push_class_members(out: &mut String, members: u128) {
    let has = |byte: u8| members & (1u128 << byte) != 0;
    let placed_apart = |byte: u8| matches!(byte, b']' | b'-' | b'!' | b'^');
    if has(b']') {
        out.push(']');
    } else if has(b'-') {
        out.push('-');
    }
    let mut byte = 1u8;
    while byte < 128 {
        if has(byte) && !placed_apart(byte) {
            let start = byte;
            while byte + 1 < 128 && has(byte + 1) && !placed_apart(byte + 1) {
                byte += 1;
            }
            out.push(char::from(start));
            if byte > start + 1 {
                out.push('-');
            }
            if byte > start {
                out.push(char::from(byte));
            }
        }
        byte += 1;
    }
    for special in [b'!', b'^'] {
        if has(special) {
            out.push(char::from(special));
        }
    }
    if has(b']') && has(b'-') {
        out.push('-');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::{Decision, Matcher};
    use proptest::prelude::*;
    use std::path::Path;

    fn pattern(raw: &str) -> GitPattern {
        match Line::parse(raw) {
            Line::Pattern(pattern) => pattern,
            other => panic!("{raw:?} should be a pattern, is {other:?}"),
        }
    }

    fn never(raw: &str) -> NeverMatches {
        match Line::parse(raw) {
            Line::NeverMatches(reason) => reason,
            other => panic!("{raw:?} should never match, is {other:?}"),
        }
    }

    fn lines(raw: &str) -> Vec<String> {
        pattern(raw).ignore_lines()
    }

    fn lit(ch: char) -> Token {
        Token::Literal { ch, escaped: false }
    }

    fn escaped(ch: char) -> Token {
        Token::Literal { ch, escaped: true }
    }

    const SLASH_TOKEN: Token = Token::Slash { escaped: false };
    const STAR: Token = Token::Star {
        widens_after_prefix: false,
    };
    const WIDENING_STAR: Token = Token::Star {
        widens_after_prefix: true,
    };

    /// The members of the one class in `raw`, as text in byte order.
    fn class(raw: &str) -> (bool, String) {
        let tokens = pattern(raw).tokens;
        let [Token::Class(class)] = tokens.as_slice() else {
            panic!("{raw:?} should be one class, is {tokens:?}");
        };
        let members = (0u8..128)
            .filter(|&byte| class.members & (1u128 << byte) != 0)
            .map(char::from)
            .collect();
        (class.negated, members)
    }

    fn members(raw: &str) -> String {
        let (negated, members) = class(raw);
        assert!(!negated, "{raw:?} is negated");
        members
    }

    /// Whether the pattern line, through `ignore`, matches the path.
    fn matches(raw: &str, path: &str, is_dir: bool) -> bool {
        let git = pattern(raw);
        let matcher = Matcher::new([(0, &git)]).expect("one small pattern");
        matcher.decide(Path::new(path), is_dir) == Decision::Matched(0)
    }

    // Lines: comments, blank lines, trailing spaces, carriage returns.

    #[test]
    fn blank_lines_and_comments_are_nothing() {
        for raw in [
            "",
            " ",
            "   ",
            "\r",
            " \r",
            "#",
            "# comment",
            "#\r",
            "#a\\ ",
        ] {
            assert_eq!(Line::parse(raw), Line::Nothing, "{raw:?}");
        }
    }

    #[test]
    fn a_hash_not_at_the_start_is_no_comment() {
        assert_eq!(pattern(" #a").tokens, [lit(' '), lit('#'), lit('a')]);
        assert_eq!(pattern("a#").tokens, [lit('a'), lit('#')]);
        assert_eq!(lines(" #a"), [" \\#a"]);
    }

    #[test]
    fn escaped_hash_and_bang_are_literal() {
        let hash = pattern("\\#a");
        assert_eq!(hash.tokens, [escaped('#'), lit('a')]);
        assert!(!hash.negated);
        let bang = pattern("\\!a");
        assert_eq!(bang.tokens, [escaped('!'), lit('a')]);
        assert!(!bang.negated);
        assert_eq!(lines("\\#a"), ["\\#a"]);
        assert_eq!(lines("\\!a"), ["\\!a"]);
        assert_eq!(lines("!\\!a"), ["!\\!a"]);
        assert_eq!(lines("!#a"), ["!\\#a"]);
    }

    #[test]
    fn only_unescaped_trailing_spaces_are_trimmed() {
        assert_eq!(pattern("a  ").tokens, [lit('a')]);
        assert_eq!(pattern("a\\ ").tokens, [lit('a'), escaped(' ')]);
        assert_eq!(pattern("a\\  ").tokens, [lit('a'), escaped(' ')]);
        assert_eq!(
            pattern("a\\ \\ ").tokens,
            [lit('a'), escaped(' '), escaped(' ')]
        );
        assert_eq!(pattern("a b ").tokens, [lit('a'), lit(' '), lit('b')]);
        // A tab is no space: it stays, and so do the spaces before it.
        assert_eq!(pattern("a\t").tokens, [lit('a'), lit('\t')]);
        assert_eq!(pattern("a \t ").tokens, [lit('a'), lit(' '), lit('\t')]);
        // A backslash at the very end stops trimming (and the pattern never matches).
        assert_eq!(never("a \\"), NeverMatches::TrailingBackslash);
    }

    #[test]
    fn kept_trailing_whitespace_is_written_so_ignore_keeps_it() {
        assert_eq!(lines("a\\ "), ["a[ ]"]);
        assert_eq!(lines("a\t"), ["a[\t]"]);
        assert_eq!(lines("a\u{3000}"), ["a{\u{3000}}"]);
        // Before the trailing `/` nothing is trimmed.
        assert_eq!(lines("a\\ /"), ["a /"]);
        // Whitespace inside the line needs nothing.
        assert_eq!(lines("a\\ b"), ["a b"]);
        assert!(matches("a\\ ", "a ", false));
        assert!(!matches("a\\ ", "a", false));
        assert!(matches("a\t", "a\t", false));
        assert!(!matches("a\t", "a", false));
    }

    #[test]
    fn one_carriage_return_is_dropped_before_trimming() {
        assert_eq!(pattern("a\r").tokens, [lit('a')]);
        assert_eq!(pattern("a \r").tokens, [lit('a')]);
        assert_eq!(pattern("a\r\r").tokens, [lit('a'), lit('\r')]);
        // Not at the end: the CR is part of the pattern, the spaces after it are trimmed.
        assert_eq!(pattern("a\r ").tokens, [lit('a'), lit('\r')]);
        assert_eq!(lines("a\r\r"), ["a[\r]"]);
        assert_eq!(pattern("a\rb").tokens, [lit('a'), lit('\r'), lit('b')]);
    }

    // Negation, directories, anchoring.

    #[test]
    fn negation_and_dir_only() {
        let negated = pattern("!a/");
        assert!(negated.negated && negated.dir_only);
        assert_eq!(negated.tokens, [lit('a')]);
        assert!(!negated.is_path_pattern());
        assert_eq!(negated.ignore_lines(), ["!a/"]);
        // Only one `!` negates; the second is literal.
        let double = pattern("!!a");
        assert!(double.negated);
        assert_eq!(double.tokens, [lit('!'), lit('a')]);
        assert_eq!(double.ignore_lines(), ["!\\!a"]);
        // Only one trailing `/` makes it dir-only; the one before would have to match a
        // `/` at the end of a path.
        assert_eq!(never("a//"), NeverMatches::EmptyComponent);
    }

    #[test]
    fn empty_patterns_never_match() {
        for raw in ["!", "/", "!/", "! ", "/  "] {
            assert_eq!(never(raw), NeverMatches::Empty, "{raw:?}");
        }
    }

    #[test]
    fn empty_components_never_match() {
        for raw in [
            "//a", "a//b", "a//", "**//", "*//", "a\\//", "a/\\/b", "/a/**//",
        ] {
            assert_eq!(never(raw), NeverMatches::EmptyComponent, "{raw:?}");
        }
        // One leading `/` anchors, one trailing `/` marks a directory: no empty component.
        assert_eq!(lines("/a/"), ["/a/"]);
        assert_eq!(lines("/**/"), ["/**/"]);
    }

    #[test]
    fn a_slash_anywhere_but_the_end_anchors() {
        assert!(!pattern("a").is_path_pattern());
        assert!(!pattern("a/").is_path_pattern());
        assert!(pattern("/a").is_path_pattern());
        assert!(pattern("a/b").is_path_pattern());
        assert!(pattern("a\\/b").is_path_pattern());
        assert_eq!(lines("a"), ["a"]);
        assert_eq!(lines("/a"), ["/a"]);
        assert_eq!(lines("a/b"), ["/a/b"]);
        assert_eq!(lines("a/b/"), ["/a/b/"]);
        assert!(matches("a/b", "a/b", false));
        assert!(!matches("a/b", "x/a/b", false));
        assert!(matches("b", "x/a/b", false));
        assert!(matches("a/", "x/a", true));
        assert!(!matches("a/", "x/a", false));
    }

    // Escapes.

    #[test]
    fn backslash_escapes_any_character() {
        assert_eq!(
            pattern("\\a\\*\\?\\[\\\\").tokens,
            [
                escaped('a'),
                escaped('*'),
                escaped('?'),
                escaped('['),
                escaped('\\')
            ]
        );
        assert_eq!(lines("\\*\\?\\[\\]\\{\\}\\,"), ["\\*\\?\\[\\]\\{\\}\\,"]);
        assert_eq!(lines("a\\\\b"), ["a[\\]b"]);
        assert!(matches("a\\\\b", "a\\b", false));
        assert!(matches("\\*", "*", false));
        assert!(!matches("\\*", "x", false));
        assert_eq!(never("a\\"), NeverMatches::TrailingBackslash);
        // `foo\/`: the trailing `/` makes it dir-only, leaving a trailing backslash.
        assert_eq!(never("a\\/"), NeverMatches::TrailingBackslash);
    }

    #[test]
    fn escaped_slashes() {
        assert_eq!(
            pattern("a\\/b").tokens,
            [lit('a'), Token::Slash { escaped: true }, lit('b')]
        );
        assert_eq!(lines("a\\/b"), ["/a/b"]);
        assert!(matches("a\\/b", "a/b", false));
        assert_eq!(never("\\/a"), NeverMatches::LeadingEscapedSlash);
        assert_eq!(never("!\\/a/"), NeverMatches::LeadingEscapedSlash);
        // After an unescaped leading `/` it makes an empty component.
        assert_eq!(never("/\\/a"), NeverMatches::EmptyComponent);
    }

    #[test]
    fn braces_and_commas_are_literal() {
        assert_eq!(lines("{a,b}"), ["\\{a\\,b\\}"]);
        assert!(matches("{a,b}", "{a,b}", false));
        assert!(!matches("{a,b}", "a", false));
    }

    // Bracket expressions.

    #[test]
    fn class_members_ranges_and_negation() {
        assert_eq!(members("[abc]"), "abc");
        assert_eq!(members("[a-e]"), "abcde");
        assert_eq!(members("[a-cx]"), "abcx");
        assert_eq!(class("[!a-c]"), (true, "abc".into()));
        assert_eq!(class("[^a-c]"), (true, "abc".into()));
        // Only the first `!` negates.
        assert_eq!(class("[!!]"), (true, "!".into()));
        assert_eq!(members("[a!]"), "!a");
    }

    #[test]
    fn class_escapes_and_escaped_range_endpoints() {
        assert_eq!(members("[\\]]"), "]");
        assert_eq!(members("[\\\\]"), "\\");
        assert_eq!(members("[\\a-\\c]"), "abc");
        assert_eq!(members("[a-\\c]"), "abc");
        assert_eq!(members("[\\!]"), "!");
        assert_eq!(members("[\\-a]"), "-a");
        // An escaped `]` as the end of a range.
        assert_eq!(members("[Z-\\]]"), "Z[\\]");
    }

    #[test]
    fn close_bracket_first_and_dash_first_or_last_are_members() {
        assert_eq!(members("[]a]"), "]a");
        assert_eq!(class("[!]a]"), (true, "]a".into()));
        assert_eq!(class("[^]]"), (true, "]".into()));
        assert_eq!(members("[-a]"), "-a");
        assert_eq!(members("[a-]"), "-a");
        assert_eq!(class("[!-]"), (true, "-".into()));
        // `]` then a range starting at it.
        assert_eq!(members("[]-a]"), "]^_`a");
        // After a range, `-` starts nothing: `[a-c-e]` is a-c, `-` and `e`.
        assert_eq!(members("[a-c-e]"), "-abce");
    }

    #[test]
    fn reversed_ranges_keep_their_first_endpoint() {
        // git adds the first endpoint as a member before it sees the `-`.
        assert_eq!(members("[z-a]"), "z");
        assert_eq!(members("[z-ab]"), "bz");
        assert!(matches("[z-a]", "z", false));
        assert!(!matches("[z-a]", "m", false));
    }

    #[test]
    fn posix_classes_are_git_sane_ctype_sets() {
        let set = |raw: &str| members(raw);
        let ascii = |predicate: fn(&u8) -> bool| -> String {
            (0u8..128).filter(predicate).map(char::from).collect()
        };
        assert_eq!(set("[[:alnum:]]"), ascii(u8::is_ascii_alphanumeric));
        assert_eq!(set("[[:alpha:]]"), ascii(u8::is_ascii_alphabetic));
        assert_eq!(set("[[:blank:]]"), "\t ");
        assert_eq!(set("[[:cntrl:]]"), ascii(u8::is_ascii_control));
        assert_eq!(set("[[:digit:]]"), "0123456789");
        assert_eq!(set("[[:graph:]]"), ascii(u8::is_ascii_graphic));
        assert_eq!(set("[[:lower:]]"), ascii(u8::is_ascii_lowercase));
        assert_eq!(
            set("[[:print:]]"),
            ascii(|b| b.is_ascii_graphic() || *b == b' ')
        );
        assert_eq!(set("[[:punct:]]"), ascii(u8::is_ascii_punctuation));
        // git's sane_ctype: no vertical tab or form feed.
        assert_eq!(set("[[:space:]]"), "\t\n\r ");
        assert_eq!(set("[[:upper:]]"), ascii(u8::is_ascii_uppercase));
        assert_eq!(set("[[:xdigit:]]"), ascii(u8::is_ascii_hexdigit));
        assert_eq!(set("[[:digit:]_x]"), "0123456789_x");
        assert_eq!(class("[![:digit:]]"), (true, "0123456789".into()));
    }

    #[test]
    fn posix_classes_do_not_start_or_end_ranges() {
        // After a class the `-` is literal.
        assert_eq!(members("[[:digit:]-a]"), "-0123456789a");
        // `[a-[:digit:]]`: the range a-[ is reversed (only `a`), then `:digit:` are
        // members and the first `]` closes the class.
        let git = pattern("[a-[:digit:]]");
        assert_eq!(git.tokens.len(), 2);
        assert_eq!(git.tokens[1], lit(']'));
    }

    #[test]
    fn malformed_classes() {
        assert_eq!(never("[ab"), NeverMatches::UnclosedBracket);
        assert_eq!(never("a[\\]"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[a-"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[a-\\"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[]"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[!]"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[[:digit:"), NeverMatches::UnclosedBracket);
        assert_eq!(never("[[:foo:]]"), NeverMatches::UnknownCharacterClass);
        assert_eq!(never("[[::]]"), NeverMatches::UnknownCharacterClass);
        assert_eq!(never("[[:DIGIT:]]"), NeverMatches::UnknownCharacterClass);
        // `[:` without `:]` is a plain `[` member.
        assert_eq!(members("[[:a]"), ":[a");
        assert_eq!(members("[[:]"), ":[");
    }

    #[test]
    fn slashes_in_classes_never_match() {
        // A set of nothing but `/` is empty for git.
        assert_eq!(never("a[/]b"), NeverMatches::EmptyBracket);
        // `[.-0]` spans `/` without naming it; the `/` is left out when written.
        assert_eq!(lines("a/[.-0]"), ["/a/[.0]"]);
        assert_eq!(lines("a/[!x]"), ["/a/[!/x]"]);
        assert!(!matches("a[!x]b", "a/b", false));
        assert!(!matches("a[.-0]b", "a/b", false));
        assert!(matches("a[.-0]b", "a.b", false));
    }

    /// The bytes of the one class in `raw`, as written (before negation).
    fn class_bytes(raw: &str) -> Vec<u8> {
        let tokens = pattern(raw).tokens;
        let [Token::Class(class)] = tokens.as_slice() else {
            panic!("{raw:?} should be one class, is {tokens:?}");
        };
        (0..=255u8).filter(|&byte| class.has(byte)).collect()
    }

    #[test]
    fn non_ascii_in_a_class_is_read_byte_by_byte() {
        // `é` is 0xC3 0xA9: two members (listed in byte order).
        assert_eq!(class_bytes("[é]"), [0xa9, 0xc3]);
        assert_eq!(class_bytes("[!é]"), [0xa9, 0xc3]);
        // A range ends at the first byte of a character; its other bytes are members.
        assert_eq!(class_bytes("[a-é]"), (b'a'..=0xc3).collect::<Vec<u8>>());
        assert_eq!(class_bytes("[a-ā]"), (b'a'..=0xc4).collect::<Vec<u8>>());
        // `é-ê` is 0xC3, the range 0xA9-0xC3, then 0xAA; `ê-é` a reversed range 0xAA-0xC3.
        assert_eq!(class_bytes("[é-ê]"), (0xa9..=0xc3).collect::<Vec<u8>>());
        assert_eq!(class_bytes("[ê-é]"), (0xa9..=0xc3).collect::<Vec<u8>>());
        // A backslash escapes one byte, the first of `é`.
        assert_eq!(class_bytes("[\\é]"), [0xa9, 0xc3]);
        // Outside a class non-ASCII text is fine.
        assert_eq!(lines("é*"), ["é*"]);
        assert!(pattern("caf[é]*").needs_byte_regex());
        assert!(!pattern("caf[e]*").needs_byte_regex());
    }

    #[test]
    fn non_ascii_classes_match_bytes_as_git_does() {
        // `[é]` takes one byte of a character, a star or `?` the others.
        assert!(matches("caf[é]*", "café", false));
        assert!(matches("caf[é]?", "café", false));
        assert!(!matches("caf[é]", "café", false));
        assert!(matches("caf[é][é]", "café", false));
        assert!(matches("caf[à]*", "café", false)); // à is 0xC3 0xA0: 0xC3 matches
        assert!(!matches("caf[ā]*", "café", false)); // ā is 0xC4 0x81
        assert!(matches("*[é]*", "b/é", false));
        assert!(matches("*[é]*", "xéy", false));
        assert!(!matches("*[é]*", "xey", false));
        // `[!é]` is one byte other than 0xC3 and 0xA9 (and `/`).
        assert!(matches("[!é]", "e", false));
        assert!(!matches("[!é]", "é", false));
        assert!(matches("[!é][!é]", "ā", false));
        assert!(!matches("a[!é]b", "a/b", false));
        // Anchored, dir-only, negated and widened patterns keep their meaning.
        assert!(matches("/d/[é]*", "d/é", false));
        assert!(!matches("/d/[é]*", "x/d/é", false));
        assert!(matches("[é]*/", "é", true));
        assert!(!matches("[é]*/", "é", false));
        assert!(matches("a**/[é]?", "ab/c/é", false));
        assert!(matches("a/**/[é]?", "a/é", false));
        let patterns = [pattern("*"), pattern("![é]*"), pattern("!x"), pattern("x")];
        let matcher = Matcher::new(patterns.iter().enumerate()).expect("small patterns");
        assert_eq!(matcher.decide(Path::new("é"), false), Decision::Unmatched);
        assert_eq!(matcher.decide(Path::new("e"), false), Decision::Matched(0));
        assert_eq!(matcher.decide(Path::new("x"), false), Decision::Matched(3));
    }

    #[test]
    fn classes_are_written_so_globset_reads_the_same_set() {
        assert_eq!(lines("[abcx]"), ["[a-cx]"]);
        assert_eq!(lines("[ab]"), ["[ab]"]);
        assert_eq!(lines("[a]"), ["a"]);
        assert_eq!(lines("[*]"), ["\\*"]);
        assert_eq!(lines("[\\\\]"), ["[\\]"]);
        assert_eq!(lines("[]a-]"), ["[]a-]"]);
        assert_eq!(lines("[-a]"), ["[-a]"]);
        assert_eq!(lines("[!a]"), ["**/[!/a]"]);
        assert_eq!(lines("[!]-]"), ["**/[!]/-]"]);
        // `!` and `^` never come first, where globset would negate.
        assert_eq!(lines("[\\!\"]"), ["[\"!]"]);
        assert_eq!(lines("[\\^_]"), ["[_^]"]);
        assert_eq!(lines("[\\!^]"), ["{\\!,\\^}"]);
        assert_eq!(lines("[-\\!]"), ["[-!]"]);
        // A class of one whitespace character at the end is kept from being trimmed.
        assert_eq!(lines("a[ ]"), ["a[ ]"]);
        assert_eq!(lines("a[\t]"), ["a[\t]"]);
        assert_eq!(lines("a[ ]b"), ["a b"]);
    }

    // Stars.

    #[test]
    fn stars_and_question_marks() {
        assert_eq!(
            pattern("a*b?").tokens,
            [lit('a'), STAR, lit('b'), Token::AnyByte]
        );
        // In a basename pattern a run of stars is one star.
        assert_eq!(pattern("a**b").tokens, [lit('a'), STAR, lit('b')]);
        assert_eq!(pattern("**").tokens, [STAR]);
        assert_eq!(lines("**"), ["*"]);
        assert_eq!(lines("a**b"), ["a*b"]);
    }

    #[test]
    fn double_stars_between_separators() {
        let double = |raw: &str| pattern(raw).tokens;
        assert_eq!(double("**/a"), [Token::DoubleStar, SLASH_TOKEN, lit('a')]);
        assert_eq!(double("/**"), [SLASH_TOKEN, Token::DoubleStar]);
        assert_eq!(
            double("a/**/b"),
            [
                lit('a'),
                SLASH_TOKEN,
                Token::DoubleStar,
                SLASH_TOKEN,
                lit('b')
            ]
        );
        assert_eq!(double("a/**"), [lit('a'), SLASH_TOKEN, Token::DoubleStar]);
        assert_eq!(
            double("a/***/b"),
            [
                lit('a'),
                SLASH_TOKEN,
                Token::DoubleStar,
                SLASH_TOKEN,
                lit('b')
            ]
        );
        assert_eq!(lines("**/a"), ["/**/a"]);
        assert_eq!(lines("a/**/b"), ["/a/**/b"]);
        assert_eq!(lines("a/**"), ["/a/**"]);
        assert_eq!(lines("/**/"), ["/**/"]);
        assert!(matches("**/a", "a", false));
        assert!(matches("**/a", "x/y/a", false));
        assert!(matches("a/**/b", "a/b", false));
        assert!(matches("a/**/b", "a/x/y/b", false));
        assert!(matches("a/**", "a/x", false));
        assert!(!matches("a/**", "a", true));
    }

    #[test]
    fn double_stars_not_between_separators_are_stars() {
        assert_eq!(pattern("a/b**").tokens[2..], [lit('b'), WIDENING_STAR]);
        assert_eq!(pattern("a/**b").tokens[2..], [STAR, lit('b')]);
        assert_eq!(pattern("a/x**y/b").tokens[3], STAR);
        assert_eq!(lines("a/**b"), ["/a/*b"]);
        assert_eq!(lines("a/x**y"), ["/a/x*y"]);
        assert!(!matches("a/**b", "a/x/b", false));
        assert!(matches("a/**b", "a/xb", false));
    }

    #[test]
    fn double_star_before_an_escaped_slash_needs_a_directory() {
        assert_eq!(
            pattern("a/**\\/b").tokens,
            [
                lit('a'),
                SLASH_TOKEN,
                Token::DoubleStar,
                Token::Slash { escaped: true },
                lit('b')
            ]
        );
        assert_eq!(lines("a/**\\/b"), ["/a/*/**/b"]);
        assert_eq!(lines("**\\/b"), ["/*/**/b"]);
        assert!(!matches("a/**\\/b", "a/b", false));
        assert!(matches("a/**\\/b", "a/x/b", false));
        assert!(matches("a/**\\/b", "a/x/y/b", false));
    }

    #[test]
    fn double_star_right_after_the_literal_prefix_widens() {
        // git matches the rest after the literal prefix `b` as a whole pattern, where the
        // leading `**/` may match nothing or any directories.
        assert_eq!(lines("b**/a"), ["/ba", "/b*/**/a"]);
        for path in ["ba", "b/a", "bx/a", "bx/y/a"] {
            assert!(matches("b**/a", path, false), "{path}");
        }
        assert!(!matches("b**/a", "xb/a", false));
        assert_eq!(lines("/b**"), ["/b*", "/b*/**"]);
        assert!(matches("/b**", "bx/y", false));
        assert_eq!(lines("x/b**/a/"), ["/x/ba/", "/x/b*/**/a/"]);
        // More `**/` right after are leading too (git matches the rest as a whole
        // pattern), and add nothing; a single `*/` still needs one component.
        assert_eq!(lines("b**/**/a"), ["/ba", "/b*/**/a"]);
        assert_eq!(lines("b**/***/**/a"), ["/ba", "/b*/**/a"]);
        assert!(matches("b**/**/a", "ba", false));
        assert_eq!(lines("b**/**"), ["/b*", "/b*/**"]);
        assert_eq!(lines("b**/*/a"), ["/b*/a", "/b*/**/*/a"]);
        assert!(!matches("b**/*/a", "ba", false));
        // When the runs match nothing, a `/` after them is the path's own.
        assert_eq!(lines("a**//c"), ["/a/c"]);
        assert_eq!(lines("a**/\\/c"), ["/a/c"]);
        assert_eq!(lines("a**/**//c"), ["/a/c"]);
        assert_eq!(lines("a**//"), ["/a/"]);
        assert!(matches("a**//", "a", true));
        assert!(!matches("a**//", "ab", true));
        assert_eq!(never("a**///"), NeverMatches::EmptyComponent);
        // Before `\/` the `**` cannot match nothing.
        assert_eq!(lines("b**\\/a"), ["/b*/**/a"]);
        assert_eq!(lines("a**\\/**"), ["/a*/**"]);
        // ... so a `/` after that would make `//`: no line at all.
        assert!(lines("a**\\//c").is_empty());
        assert_eq!(lines("b**/**\\/a"), ["/b*/**/a"]);
        assert!(matches("b**/**\\/a", "b/a", false));
        assert!(!matches("b**/**\\/a", "ba", false));
        assert!(!matches("b**\\/a", "ba", false));
        assert!(matches("b**\\/a", "b/a", false));
    }

    #[test]
    fn double_star_elsewhere_does_not_widen() {
        // The prefix ends at a wildcard or an escape, not just before the stars.
        assert_eq!(lines("b?**/a"), ["/b?*/a"]);
        assert_eq!(lines("\\b**/a"), ["/b*/a"]);
        // The prefix ends at an escaped slash.
        assert_eq!(lines("q\\/x**/b"), ["/q/x*/b"]);
        assert!(!matches("q\\/x**/b", "q/xb", false));
        // Basename patterns have no prefix rule.
        assert_eq!(lines("b**"), ["b*"]);
    }

    // What the other modules read.

    #[test]
    fn components_and_literal_prefixes() {
        let git = pattern("/a/b\\*/c*/d");
        assert_eq!(git.literal_components(), ["a", "b*"]);
        let components: Vec<Option<String>> = git.components().collect();
        assert_eq!(
            components,
            [
                Some(String::new()),
                Some("a".into()),
                Some("b*".into()),
                None,
                Some("d".into())
            ]
        );
        assert!(pattern("a").literal_components().is_empty());
        assert_eq!(pattern("a/b").literal_components(), ["a", "b"]);
        assert_eq!(pattern("a\\/b").literal_components(), ["a", "b"]);
        let rebased = pattern("/layers/x/**/y/").without_leading_components(1);
        assert_eq!(rebased.ignore_lines(), ["/x/**/y/"]);
        assert!(rebased.dir_only && rebased.starts_with_slash());
    }

    /// A class written by `push_class`, as `globset` reads it through `ignore`, holds
    /// exactly the bytes git's class does (every ASCII byte but NUL and `/` is checked).
    fn written_class_matches_as_git_does(members: u128, negated: bool) -> Result<(), String> {
        let class = ByteClass {
            negated,
            members,
            high: 0,
        };
        if !negated && members & !((1u128 << b'/') | 1) == 0 {
            return Ok(()); // parse never yields an empty class
        }
        let git = GitPattern {
            negated: false,
            dir_only: false,
            path_pattern: false,
            tokens: vec![lit('x'), Token::Class(class), lit('y')],
        };
        let matcher = Matcher::new([(0, &git)]).map_err(|error| error.to_string())?;
        for byte in 1u8..128 {
            if byte == b'/' {
                continue;
            }
            let name = format!("x{}y", char::from(byte));
            let member = members & (1u128 << byte) != 0;
            let selected = matcher.decide(Path::new(&name), false) == Decision::Matched(0);
            if selected != (member != negated) {
                return Err(format!(
                    "{:?} for {class:?}: byte {byte:#x} matched {selected}",
                    git.ignore_lines()
                ));
            }
        }
        Ok(())
    }

    #[test]
    fn tricky_classes_are_written_faithfully() {
        let set = |bytes: &[u8]| bytes.iter().fold(0u128, |set, &b| set | (1u128 << b));
        for bytes in [
            &b"!\""[..],
            b"^_",
            b"!^",
            b"!^-",
            b"]-",
            b"]",
            b"-",
            b"!",
            b"^",
            b"\\]",
            b"[:",
            b"&&~~--",
            b" ",
            b"\t\n",
            b"{},",
        ] {
            for negated in [false, true] {
                written_class_matches_as_git_does(set(bytes), negated).unwrap();
            }
        }
    }

    /// 256 cases from a fixed seed, or as many as `GROUP_WRITABLE_PROPTEST_CASES` says
    /// (`bin/fuzz` sets it, and the seed with `GROUP_WRITABLE_PROPTEST_SEED`).
    fn proptest_config() -> ProptestConfig {
        let number = |variable: &str, default: u64| {
            std::env::var(variable)
                .ok()
                .and_then(|value| value.trim().parse().ok())
                .unwrap_or(default)
        };
        ProptestConfig {
            cases: u32::try_from(number("GROUP_WRITABLE_PROPTEST_CASES", 256)).unwrap_or(u32::MAX),
            rng_seed: proptest::test_runner::RngSeed::Fixed(number(
                "GROUP_WRITABLE_PROPTEST_SEED",
                0x0063_6c61_7373,
            )),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(proptest_config())]

        #[test]
        fn any_class_is_written_faithfully(members: u128, negated: bool) {
            written_class_matches_as_git_does(members, negated).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn any_small_class_is_written_faithfully(
            bytes in proptest::collection::vec(0u8..128, 1..6),
            negated: bool,
        ) {
            let members = bytes.iter().fold(0u128, |set, &b| set | (1u128 << b));
            written_class_matches_as_git_does(members, negated).map_err(TestCaseError::fail)?;
        }
    }
}
