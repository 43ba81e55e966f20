//! Human-readable text for `touchstone attacks list` and `touchstone attacks show`.

use unicode_width::UnicodeWidthStr;

use crate::attack::Attack;
use crate::catalogue::Catalogue;
use crate::error::AttackError;

/// A table of every attack: name, family, 中文说明, description. Columns are aligned by display
/// width, so Chinese text (two columns a character) lines up.
pub fn describe_list(catalogue: &Catalogue) -> String {
    let header = ["name", "family", "中文说明", "description"];
    let rows: Vec<[&str; 4]> = catalogue
        .iter()
        .map(|a| {
            [
                a.name.as_str(),
                a.family.as_str(),
                a.description_zh.as_str(),
                a.description_en.as_str(),
            ]
        })
        .collect();
    let mut widths = header.map(UnicodeWidthStr::width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; 4]| {
        for (i, cell) in cells.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < cells.len() {
                out.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        out.push('\n');
    };
    line(header);
    let rules = widths.map(|w| "-".repeat(w));
    line([&rules[0], &rules[1], &rules[2], &rules[3]]);
    for row in rows {
        line(row);
    }
    out
}

/// What `attack` makes of `text` with `seed`: a header naming the attack, then each message of
/// the variant under its role.
pub fn show(attack: &Attack, text: &str, seed: u64) -> Result<String, AttackError> {
    let variant = attack.apply(text, seed)?;
    let mut out = format!(
        "attack: {} (family {}, lang {}, seed {seed}, source {})\n中文说明: {}\ndescription: {}\n",
        attack.name,
        attack.family,
        attack.lang.as_str(),
        attack.source,
        attack.description_zh,
        attack.description_en
    );
    for m in &variant.messages {
        out.push_str(&format!("\n[{}]\n{}\n", m.role.as_str(), m.content));
    }
    Ok(out)
}
