//! One line of gitignore syntax, read exactly as git reads it, and rewritten into the
//! dialect that the `ignore` crate then matches identically.
//!
//! Why a rewrite at all: `ignore` implements gitignore "from scratch" on top of `globset`,
//! and in a handful of places it reads a line differently from git (checked against
//! `git check-ignore`, see `tests/conformance.rs`):
//!
//! * git trims only trailing *spaces*; `ignore` trims all trailing whitespace (tabs too).
//! * `{a,b}` is literal text for git but an alternation for `globset`.
//! * inside `[...]` git honours backslash escapes and POSIX classes (`[[:digit:]]`), never
//!   matches `/`, and matches nothing for an unclosed `[` or a reversed range; `globset`
//!   takes the backslash literally, knows no POSIX classes, matches `/`, reads an unclosed
//!   `[` as literal text and rejects reversed ranges.
//! * git compares the literal prefix of a path pattern first and then matches the rest
//!   as if it were a whole pattern, so in `b**/a` the `**` acts like a leading `**/`
//!   (it matches `ba` and `bx/y/a`); for `globset` that `**` is a plain `*`.
//!
//! So this module parses a line the way git's `dir.c` and `wildmatch.c` do into
//! [`GitPattern`] tokens, and [`GitPattern::ignore_lines`] writes them back out with every
//! literal escaped and every bracket expression normalized, so the `ignore` crate has
//! nothing left to interpret differently. Bracket expressions are byte sets in git; a
//! non-ASCII character inside one cannot be expressed for `globset`, so it is rejected
//! with an error rather than matched differently.

use std::fmt::Write as _;

/// A pattern line, parsed as git parses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitPattern {
    /// `!pattern`: re-includes what an earlier pattern excluded.
    pub negated: bool,
    /// `pattern/`: matches directories only.
    pub dir_only: bool,
    /// The pattern body: what is left after `!`, and after the trailing `/`.
    pub tokens: Vec<Token>,
}

/// One element of a pattern body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Token {
    /// A character matched literally. `escaped` records a preceding backslash, which ends
    /// git's literal prefix (see [`GitPattern::literal_prefix_len`]).
    Literal { ch: char, escaped: bool },
    /// The path separator (`/`, or `\/`).
    Slash,
    /// `?`: any one byte but `/`.
    AnyByte,
    /// `*`, or a run of stars that git treats like one: any bytes but `/`.
    /// `widens_after_prefix` marks a run of two or more stars followed by `/` or the end:
    /// right after git's literal prefix such a run acts as a leading `**/`.
    Star { widens_after_prefix: bool },
    /// A run of two or more stars between separators (or the pattern's ends): any bytes,
    /// `/` included.
    DoubleStar,
    /// `[...]`: one byte from (or, negated, not from) an ASCII set, never `/`.
    Class(ByteClass),
}

/// The byte set of a bracket expression. Only ASCII members can occur (see module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteClass {
    pub negated: bool,
    /// Bit `b` set means byte `b` (0..128) is a member.
    pub members: u128,
}

/// Why a line cannot be used as a pattern.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyntaxError {
    #[error(
        "the bracket expression holds the non-ASCII character `{0}`; git matches `[...]` byte by byte, so it can never match that character as a whole"
    )]
    NonAsciiInClass(char),
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
            Self::EmptyBracket => "its bracket expression matches no character (a reversed range?)",
            Self::TrailingBackslash => "it ends with a backslash that escapes nothing",
        }
    }
}

impl Line {
    /// Reads one line (without its `\n`) the way git's `add_patterns_from_buffer` does:
    /// `#` starts a comment, one trailing carriage return is dropped, then trailing spaces
    /// unless escaped with a backslash.
    pub fn parse(raw: &str) -> Result<Line, SyntaxError> {
        if raw.is_empty() || raw.starts_with('#') {
            return Ok(Line::Nothing);
        }
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = trim_trailing_spaces(line);
        if line.is_empty() {
            return Ok(Line::Nothing);
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
            return Ok(Line::NeverMatches(NeverMatches::Empty));
        }
        match tokenize(body)? {
            Ok(tokens) => Ok(Line::Pattern(GitPattern {
                negated,
                dir_only,
                tokens,
            })),
            Err(never) => Ok(Line::NeverMatches(never)),
        }
    }
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

/// Splits a pattern body into tokens as `wildmatch.c` reads it. The outer `Result` is a
/// hard error; the inner `Err` says the pattern is valid for git but never matches.
fn tokenize(body: &str) -> Result<Result<Vec<Token>, NeverMatches>, SyntaxError> {
    let chars: Vec<char> = body.chars().collect();
    let has_slash = chars.contains(&'/');
    let mut tokens = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Ok(Err(NeverMatches::TrailingBackslash));
                };
                tokens.push(if next == '/' {
                    Token::Slash
                } else {
                    Token::Literal {
                        ch: next,
                        escaped: true,
                    }
                });
                i += 2;
            }
            '/' => {
                tokens.push(Token::Slash);
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
            '[' => match parse_class(&chars, i + 1)? {
                Ok((class, next)) => {
                    tokens.push(Token::Class(class));
                    i = next;
                }
                Err(never) => return Ok(Err(never)),
            },
            ch => {
                tokens.push(Token::Literal { ch, escaped: false });
                i += 1;
            }
        }
    }
    Ok(Ok(tokens))
}

/// Parses a bracket expression whose `[` is just before `start`, following the class
/// branch of `wildmatch.c` step by step. Returns the class and the index after its `]`.
fn parse_class(
    chars: &[char],
    start: usize,
) -> Result<Result<(ByteClass, usize), NeverMatches>, SyntaxError> {
    let at = |i: usize| chars.get(i).copied();
    let mut p = start;
    let mut class = ByteClass {
        negated: false,
        members: 0,
    };
    if matches!(at(p), Some('!' | '^')) {
        class.negated = true;
        p += 1;
    }
    let add = |class: &mut ByteClass, lo: char, hi: char| -> Result<(), SyntaxError> {
        for ch in [lo, hi] {
            if !ch.is_ascii() {
                return Err(SyntaxError::NonAsciiInClass(ch));
            }
        }
        for byte in (lo as u8)..=(hi as u8) {
            class.members |= 1u128 << byte;
        }
        Ok(())
    };
    // `prev` is the previous member usable as a range start; wildmatch resets it to
    // nothing after a range or a named class.
    let mut prev: Option<char> = None;
    let mut first = true;
    loop {
        let Some(ch) = at(p) else {
            return Ok(Err(NeverMatches::UnclosedBracket));
        };
        if ch == ']' && !first {
            return Ok(Ok((class, p + 1)));
        }
        first = false;
        if ch == '\\' {
            let Some(escaped) = at(p + 1) else {
                return Ok(Err(NeverMatches::UnclosedBracket));
            };
            add(&mut class, escaped, escaped)?;
            prev = Some(escaped);
            p += 2;
        } else if ch == '-' && prev.is_some() && at(p + 1).is_some_and(|next| next != ']') {
            let mut end_at = p + 1;
            if at(end_at) == Some('\\') {
                end_at += 1;
            }
            let Some(hi) = at(end_at) else {
                return Ok(Err(NeverMatches::UnclosedBracket));
            };
            let lo = prev.take().unwrap_or(hi);
            if lo <= hi {
                add(&mut class, lo, hi)?;
            } else if !lo.is_ascii() || !hi.is_ascii() {
                return Err(SyntaxError::NonAsciiInClass(if lo.is_ascii() {
                    hi
                } else {
                    lo
                }));
            }
            p = end_at + 1;
        } else if ch == '[' && at(p + 1) == Some(':') {
            let name_start = p + 2;
            let Some(close) = (name_start..chars.len()).find(|&i| chars[i] == ']') else {
                return Ok(Err(NeverMatches::UnclosedBracket));
            };
            if close > name_start && chars[close - 1] == ':' {
                let name: String = chars[name_start..close - 1].iter().collect();
                let Some(members) = posix_class(&name) else {
                    return Ok(Err(NeverMatches::UnknownCharacterClass));
                };
                class.members |= members;
                prev = None;
                p = close + 1;
            } else {
                // No `:]`: wildmatch takes the `[` as an ordinary member.
                add(&mut class, '[', '[')?;
                prev = Some('[');
                p += 1;
            }
        } else {
            add(&mut class, ch, ch)?;
            prev = Some(ch);
            p += 1;
        }
    }
}

/// The members of a POSIX character class as git defines them (`sane_ctype`: ASCII only,
/// and `[:space:]` is tab, newline, carriage return and space).
fn posix_class(name: &str) -> Option<u128> {
    let range = |lo: u8, hi: u8| -> u128 { (lo..=hi).fold(0, |set, b| set | (1u128 << b)) };
    let bytes = |list: &[u8]| -> u128 { list.iter().fold(0, |set, &b| set | (1u128 << b)) };
    let digit = range(b'0', b'9');
    let upper = range(b'A', b'Z');
    let lower = range(b'a', b'z');
    let graph = range(0x21, 0x7e);
    Some(match name {
        "alnum" => digit | upper | lower,
        "alpha" => upper | lower,
        "blank" => bytes(b" \t"),
        "cntrl" => range(0x00, 0x1f) | bytes(&[0x7f]),
        "digit" => digit,
        "graph" => graph,
        "lower" => lower,
        "print" => graph | bytes(b" "),
        "punct" => graph & !(digit | upper | lower),
        "space" => bytes(b" \t\n\r"),
        "upper" => upper,
        "xdigit" => digit | range(b'A', b'F') | range(b'a', b'f'),
        _ => return None,
    })
}

impl GitPattern {
    /// Whether git matches this pattern against the whole path (it holds a `/`) rather
    /// than against the last path component.
    #[must_use]
    pub fn is_path_pattern(&self) -> bool {
        self.tokens.contains(&Token::Slash)
    }

    /// Whether the body starts with `/`.
    #[must_use]
    pub fn starts_with_slash(&self) -> bool {
        self.tokens.first() == Some(&Token::Slash)
    }

    /// The leading path components that are plain literal text, if the pattern is
    /// anchored (a path pattern). `a/b*/c` gives `["a"]`; `**/x` gives nothing.
    #[must_use]
    pub fn literal_components(&self) -> Vec<String> {
        if !self.is_path_pattern() {
            return Vec::new();
        }
        let body = self
            .tokens
            .strip_prefix(&[Token::Slash])
            .unwrap_or(&self.tokens);
        let mut components = Vec::new();
        let mut current = String::new();
        for token in body {
            match token {
                Token::Literal { ch, .. } => current.push(*ch),
                Token::Slash => components.push(std::mem::take(&mut current)),
                _ => return components,
            }
        }
        // The last component is complete too (the body ended without a wildcard).
        components.push(current);
        components
    }

    /// The path components of the body, each as text when it is a plain literal.
    pub fn components(&self) -> impl Iterator<Item = Option<String>> + '_ {
        self.tokens
            .split(|token| *token == Token::Slash)
            .map(|component| {
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
        let body = self
            .tokens
            .strip_prefix(&[Token::Slash])
            .unwrap_or(&self.tokens);
        let mut rest = body;
        for _ in 0..count {
            match rest.iter().position(|token| *token == Token::Slash) {
                Some(slash) => rest = &rest[slash + 1..],
                None => rest = &[],
            }
        }
        let mut tokens = Vec::with_capacity(rest.len() + 1);
        tokens.push(Token::Slash);
        tokens.extend_from_slice(rest);
        GitPattern {
            negated: self.negated,
            dir_only: self.dir_only,
            tokens,
        }
    }

    /// The number of tokens in git's literal prefix (`simple_length`): up to the first of
    /// `*`, `?`, `[` or a backslash escape, not counting a leading `/`.
    fn literal_prefix_len(&self) -> usize {
        let body = self
            .tokens
            .strip_prefix(&[Token::Slash])
            .unwrap_or(&self.tokens);
        body.iter()
            .take_while(|token| {
                matches!(token, Token::Slash | Token::Literal { escaped: false, .. })
            })
            .count()
    }

    /// The pattern in the dialect of `ignore::gitignore::GitignoreBuilder::add_line`, as
    /// one line or, where git's literal-prefix rule widens a `**`, two lines whose union
    /// git matches.
    #[must_use]
    pub fn ignore_lines(&self) -> Vec<String> {
        let body = self
            .tokens
            .strip_prefix(&[Token::Slash])
            .unwrap_or(&self.tokens);
        let prefix_len = self.literal_prefix_len();
        // git's match_pathname compares the literal prefix, then matches the rest with
        // wildmatch, where a star run at the very start counts as leading: after a prefix
        // that ends inside a component, `**` followed by `/` or the end acts like a
        // leading `**/`, so `b**/a` matches `ba`, `b/a` and `bx/y/a`.
        let widened = self.is_path_pattern()
            && prefix_len > 0
            && body[prefix_len - 1] != Token::Slash
            && body.get(prefix_len)
                == Some(&Token::Star {
                    widens_after_prefix: true,
                });
        if !widened {
            return vec![self.render(body)];
        }
        let prefix = &body[..prefix_len];
        let rest = &body[prefix_len + 1..];
        let rest = rest.strip_prefix(&[Token::Slash]).unwrap_or(rest);
        let star = Token::Star {
            widens_after_prefix: false,
        };
        // The `**` matches nothing: the prefix runs straight into the rest (`L` + rest),
        // or, at the end of the pattern, anything within the component (`L*`).
        let mut direct = prefix.to_vec();
        if rest.is_empty() {
            direct.push(star.clone());
        }
        direct.extend_from_slice(rest);
        // The `**` matches text ending in `/`: `L*/**/` + rest (or `L*/**` at the end).
        let mut deeper = prefix.to_vec();
        deeper.extend([star, Token::Slash, Token::DoubleStar]);
        if !rest.is_empty() {
            deeper.push(Token::Slash);
            deeper.extend_from_slice(rest);
        }
        vec![self.render(&direct), self.render(&deeper)]
    }

    /// Writes a body in `ignore`'s dialect. A path pattern always gets a leading `/`: git
    /// anchors every pattern holding a `/`, and the widened forms above may have lost it.
    fn render(&self, body: &[Token]) -> String {
        let mut out = String::with_capacity(body.len() + 4);
        if self.negated {
            out.push('!');
        }
        if self.is_path_pattern() {
            out.push('/');
        }
        let last = body.len().saturating_sub(1);
        for (index, token) in body.iter().enumerate() {
            match token {
                Token::Literal { ch, .. } => {
                    push_literal(&mut out, *ch, index == last && !self.dir_only);
                }
                Token::Slash => out.push('/'),
                Token::AnyByte => out.push('?'),
                Token::Star { .. } => out.push('*'),
                Token::DoubleStar => out.push_str("**"),
                Token::Class(class) => push_class(&mut out, *class),
            }
        }
        if self.dir_only {
            out.push('/');
        }
        out
    }
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

/// Writes a byte class in `globset` syntax: `]` first, `-` last, no escapes (a backslash
/// is literal inside `globset` classes), and `/` excluded as git never matches it.
fn push_class(out: &mut String, class: ByteClass) {
    let slash = 1u128 << b'/';
    let members = class.members & !slash & !1; // NUL can never be part of a name
    if class.negated {
        out.push_str("[!");
        push_class_members(out, members | slash);
        out.push(']');
        return;
    }
    match members.count_ones() {
        0 => {
            // git: an empty set never matches. Unreachable from `parse`, which reports
            // such patterns as never matching, but keep the output meaningful: a
            // negated class of everything.
            out.push_str("[!\u{1}-\u{7f}]");
        }
        1 => {
            let byte = u8::try_from(members.trailing_zeros()).unwrap_or(b'?');
            push_literal(out, char::from(byte), false);
        }
        _ if members == (1u128 << b'!') | (1u128 << b'^') => out.push_str("{\\!,\\^}"),
        _ => {
            out.push('[');
            // A leading `!` or `^` would negate the class: start with another member.
            push_class_members(out, members);
            out.push(']');
        }
    }
}

fn push_class_members(out: &mut String, members: u128) {
    let has = |byte: u8| members & (1u128 << byte) != 0;
    if has(b']') {
        out.push(']');
    }
    let mut rest: Vec<(u8, u8)> = Vec::new();
    let mut byte = 1u8;
    while byte < 128 {
        if has(byte) && byte != b']' && byte != b'-' {
            let start = byte;
            while byte + 1 < 128 && has(byte + 1) && byte + 1 != b']' && byte + 1 != b'-' {
                byte += 1;
            }
            rest.push((start, byte));
        }
        byte += 1;
    }
    // Avoid `!` or `^` right after `[` (that would negate): rotate another range first.
    if !has(b']')
        && let Some(position) = rest
            .iter()
            .position(|&(start, _)| start != b'!' && start != b'^')
    {
        rest.rotate_left(position);
    }
    for (start, end) in rest {
        out.push(char::from(start));
        if end > start {
            if end > start + 1 {
                out.push('-');
            }
            out.push(char::from(end));
        }
    }
    if has(b'-') {
        out.push('-');
    }
}
