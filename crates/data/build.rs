//! Generates the table of built-in banks: every `banks/**/*.jsonl` becomes an entry named by its
//! path under `banks/` without the extension (e.g. `quick/arithmetic`), embedded with
//! `include_bytes!`. A generated table means a new bank file needs no code change.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs, io};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    let mut entries: Vec<_> = fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect(&path, root, out)?;
        } else if path.extension().is_some_and(|e| e == "jsonl") {
            let rel = path
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .with_extension("");
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((name, path));
        }
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    let banks = manifest.join("banks");
    println!("cargo::rerun-if-changed=banks");
    let mut found = Vec::new();
    if banks.is_dir() {
        collect(&banks, &banks, &mut found)?;
    }
    found.sort();
    let mut code = String::from("pub(crate) static BANKS: &[(&str, &[u8])] = &[\n");
    for (name, path) in &found {
        let abs = path.canonicalize()?;
        // `{:?}` writes a valid Rust string literal, escapes included.
        writeln!(
            code,
            "    ({:?}, include_bytes!({:?})),",
            name,
            abs.to_string_lossy()
        )
        .map_err(io::Error::other)?;
    }
    code.push_str("];\n");
    let out = PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?).join("banks.rs");
    fs::write(out, code)
}
