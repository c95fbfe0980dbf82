//! The exact text of every message of the gitignore dialect that reaches a person (in the
//! build's failures and warnings, and the audit's), one snapshot each in `snapshots/`.

// Integration tests link every dependency of the package but use none of them.
#![allow(unused_crate_dependencies)]

use group_writable_gitignore::git_pattern::NeverMatches;
use group_writable_gitignore::matcher::TooComplex;

/// Every reason a line never matches; the match makes a new one a compile error here.
fn never_matches() -> Vec<(&'static str, NeverMatches)> {
    let all = [
        NeverMatches::Empty,
        NeverMatches::UnclosedBracket,
        NeverMatches::UnknownCharacterClass,
        NeverMatches::EmptyBracket,
        NeverMatches::TrailingBackslash,
        NeverMatches::LeadingEscapedSlash,
        NeverMatches::EmptyComponent,
    ];
    all.into_iter()
        .map(|reason| {
            let name = match reason {
                NeverMatches::Empty => "never_matches_empty",
                NeverMatches::UnclosedBracket => "never_matches_unclosed_bracket",
                NeverMatches::UnknownCharacterClass => "never_matches_unknown_character_class",
                NeverMatches::EmptyBracket => "never_matches_empty_bracket",
                NeverMatches::TrailingBackslash => "never_matches_trailing_backslash",
                NeverMatches::LeadingEscapedSlash => "never_matches_leading_escaped_slash",
                NeverMatches::EmptyComponent => "never_matches_empty_component",
            };
            (name, reason)
        })
        .collect()
}

#[test]
fn every_message_reads_exactly_as_its_snapshot() {
    let mut messages: Vec<(&str, String)> = never_matches()
        .into_iter()
        .map(|(name, reason)| (name, reason.explanation().to_owned()))
        .collect();
    messages.push((
        "too_complex",
        TooComplex {
            patterns: 5000,
            detail: "the compiled automaton exceeds its size limit".to_owned(),
        }
        .to_string(),
    ));
    for (name, text) in messages {
        insta::assert_snapshot!(name, text);
    }
}
