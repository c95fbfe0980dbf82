//! The human form of a report: who, against which label, then one line per writable
//! subtree and the findings.

use crate::policy::Explanation;
use crate::report::Report;
use std::fmt::Write as _;

/// Renders the report as text for a terminal.
#[must_use]
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let image = &report.image;
    let user = &report.user;
    let _ = writeln!(out, "image   {}", image.source);
    let _ = writeln!(
        out,
        "        config {}, {} layers, {} entries",
        image.config_digest, image.layers, image.entries
    );
    for note in &image.notes {
        let _ = writeln!(out, "note    {note}");
    }
    let groups: Vec<String> = user.groups.iter().map(u32::to_string).collect();
    let name = user
        .name
        .as_deref()
        .map(|name| format!(" ({name})"))
        .unwrap_or_default();
    let from = match user.source.as_str() {
        "config" => format!(
            "the image's User `{}`",
            user.configured.as_deref().unwrap_or("")
        ),
        "random" => "--user random (a uid that owns nothing in the image)".to_owned(),
        _ => "--user".to_owned(),
    };
    let _ = writeln!(
        out,
        "user    {}:{}{name}, groups {}, from {from}",
        user.uid,
        user.gid,
        groups.join(",")
    );
    if user.root {
        let _ = writeln!(
            out,
            "        uid 0: the user can write every path of the image"
        );
    }
    let policy = &report.policy;
    if policy.label {
        let _ = writeln!(
            out,
            "policy  label version {}, {}, {}{}",
            policy.label_version.unwrap_or_default(),
            plural(policy.patterns as u64, "pattern", "patterns"),
            plural(policy.redirects as u64, "redirect", "redirects"),
            if policy.read_only_root {
                ": meant for a read-only root"
            } else {
                ""
            }
        );
    } else {
        let _ = writeln!(out, "policy  no group-writable label: nothing is explained");
    }
    for warning in &policy.warnings {
        let _ = writeln!(out, "warning {warning}");
    }
    let _ = writeln!(out);
    render_table(report, &mut out);
    render_findings(report, &mut out);
    out
}

/// One line per writable subtree.
fn render_table(report: &Report, out: &mut String) {
    let rows: Vec<[String; 7]> = report
        .writable
        .iter()
        .map(|subtree| {
            let mut marks = Vec::new();
            if subtree.world_writable {
                marks.push(if subtree.sticky {
                    "world-writable (sticky)".to_owned()
                } else {
                    "WORLD-WRITABLE".to_owned()
                });
            } else if subtree.world_writable_paths > 0 {
                marks.push(format!("{} WORLD-WRITABLE", subtree.world_writable_paths));
            } else if subtree.sticky {
                marks.push("sticky".to_owned());
            }
            if subtree.writable_code_paths > 0 {
                marks.push(format!("{} CODE", subtree.writable_code_paths));
            }
            if subtree.through == "ownership" {
                marks.push("owned (chmod)".to_owned());
            }
            [
                subtree.group.to_owned(),
                subtree.path.clone(),
                format!(
                    "{} {}",
                    if subtree.kind == "directory" {
                        "d"
                    } else {
                        "f"
                    },
                    subtree.mode
                ),
                format!("{}:{}", subtree.uid, subtree.gid),
                counts(subtree.directories, subtree.files),
                match &subtree.explained {
                    Some(Explanation::Pattern { pattern, source }) => {
                        format!("pattern {pattern} ({source})")
                    }
                    Some(Explanation::Redirect { id }) => format!("redirect {id}"),
                    Some(Explanation::TmpBase) => "tmp base of the redirects".to_owned(),
                    None => "UNEXPLAINED".to_owned(),
                },
                marks.join(", "),
            ]
        })
        .collect();
    let header = [
        "GROUP",
        "PATH",
        "MODE",
        "OWNER",
        "WRITABLE",
        "EXPLAINED BY",
        "MARKS",
    ]
    .map(str::to_owned);
    let mut widths = header.clone().map(|cell| cell.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    if rows.is_empty() {
        let _ = writeln!(out, "The user can write nothing in the image.");
    } else {
        for row in std::iter::once(&header).chain(&rows) {
            let mut line = String::new();
            for (cell, width) in row.iter().zip(widths) {
                let _ = write!(line, "{cell:<width$}  ");
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// The writable code by name, and the totals.
fn render_findings(report: &Report, out: &mut String) {
    if !report.writable_code.is_empty() {
        let _ = writeln!(out, "\nwritable code:");
        for code in &report.writable_code {
            let _ = writeln!(out, "  {}: {}", code.path, code.reason);
        }
    }
    let summary = &report.summary;
    let _ = writeln!(
        out,
        "\n{} writable ({}; app {}, layers {}, system {}): {} unexplained, {} world-writable, {} writable code",
        summary.writable,
        counts(summary.directories, summary.files),
        summary.app,
        summary.layers,
        summary.system,
        summary.unexplained,
        summary.world_writable,
        summary.writable_code
    );
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn counts(directories: u64, files: u64) -> String {
    match (directories, files) {
        (0, files) => plural(files, "file", "files"),
        (directories, 0) => plural(directories, "dir", "dirs"),
        (directories, files) => format!(
            "{}, {}",
            plural(directories, "dir", "dirs"),
            plural(files, "file", "files")
        ),
    }
}
