//! Each crate's top-level modules form layers: no module imports, directly or through others,
//! a module that imports it (ARCHITECTURE.md, "Layers inside a crate"). A cycle is how a crate
//! starts to become one tangle (the engine's planner, executor and attacks once imported each
//! other), so this test names the cycle and the files to untangle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The first segment of every `crate::` path in `code`, `use crate::{a, b::c}` groups included.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        // `touchstone_crate::x` is not a crate-relative path.
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(first_segment(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            out.insert(first_segment(&item));
        } else {
            out.insert(first_segment(rest));
        }
    }
    out
}

fn first_segment(path: &str) -> String {
    path.trim()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// A crate's code without its unit tests, which may reach anywhere.
fn without_tests(code: &str) -> &str {
    code.split("#[cfg(test)]\nmod tests").next().unwrap_or(code)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module → the top-level modules its code names. `lib.rs` and `main.rs` are the root
/// and may name everything.
fn module_graph(src: &Path) -> Graph {
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            rust_files(&path, files.entry(name).or_default());
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            files.entry(name).or_default().push(path);
        }
    }
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    files
        .iter()
        .map(|(module, paths)| {
            let mut deps = BTreeSet::new();
            for path in paths {
                let code = std::fs::read_to_string(path).unwrap();
                deps.extend(crate_paths(without_tests(&code)));
            }
            deps.retain(|d| d != module && modules.contains(d));
            (module.clone(), deps)
        })
        .collect()
}

/// One cycle of the graph as `a → b → a`, if it has any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_has_a_module_cycle() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut checked = 0;
    let mut cycles = Vec::new();
    for entry in std::fs::read_dir(&crates).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        checked += 1;
        if let Some(cycle) = find_cycle(&module_graph(&src)) {
            cycles.push(format!("{}: {}", src.display(), cycle.join(" → ")));
        }
    }
    assert!(checked > 10, "found only {checked} crates under {crates:?}");
    assert!(
        cycles.is_empty(),
        "module cycles (move what both sides share into a module below them):\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_detector_sees_a_cycle_through_a_use_group() {
    let dir = std::env::temp_dir().join(format!("touchstone-layers-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("execute")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod plan; mod execute; mod attack;").unwrap();
    std::fs::write(dir.join("plan.rs"), "fn f() { crate::execute::go() }").unwrap();
    std::fs::write(
        dir.join("execute/mod.rs"),
        "use crate::{attack::{self, Sent}, Events};",
    )
    .unwrap();
    std::fs::write(
        dir.join("attack.rs"),
        "use touchstone_crate::plan; // not ours\n#[cfg(test)]\nmod tests { use crate::plan; }",
    )
    .unwrap();
    let graph = module_graph(&dir);
    assert_eq!(find_cycle(&graph), None, "{graph:?}");
    std::fs::write(dir.join("attack.rs"), "pub enum Sent { X(crate::plan::P) }").unwrap();
    let graph = module_graph(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        find_cycle(&graph).map(|c| c.join(" → ")),
        Some("attack → plan → execute → attack".to_string())
    );
}
