//! `scripts/system-deps` decides what to install by the files the build really loads. A tree
//! that has only `libclang-cpp` (the C++ interface library Debian images ship, which clang-sys
//! cannot use) must ask for `libclang-dev`; a tree with `libclang.so` or `libclang-N.so` must not.
//! bubblewrap is detected by the executable the sandbox runs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/system-deps")
}

/// What the script would install, with the library search rooted at `root`.
fn missing_under(root: &Path) -> Vec<String> {
    missing_with(root, &[])
}

fn missing_with(root: &Path, options: &[&str]) -> Vec<String> {
    let out = Command::new("bash")
        .arg(script())
        .arg("--check")
        .args(options)
        .env("TOUCHSTONE_SYSROOT", root)
        .env_remove("LIBCLANG_PATH")
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "system-deps --check failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn touch(root: &Path, file: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, b"").unwrap();
}

#[test]
fn libclang_cpp_alone_asks_for_libclang_dev() {
    let root = tempfile::tempdir().unwrap();
    // What the fresh Debian 12 image has: the C++ interface library only.
    touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
    touch(root.path(), "usr/lib/x86_64-linux-gnu/libclang-cpp.so.14");
    assert!(
        missing_under(root.path()).contains(&"libclang-dev".to_string()),
        "{:?}",
        missing_under(root.path())
    );
    // An empty tree too.
    let empty = tempfile::tempdir().unwrap();
    assert!(missing_under(empty.path()).contains(&"libclang-dev".to_string()));
}

#[test]
fn the_library_clang_sys_loads_is_enough() {
    for file in [
        "usr/lib/llvm-14/lib/libclang.so",
        "usr/lib/x86_64-linux-gnu/libclang-14.so",
        "usr/lib/llvm-16/lib/libclang-16.so",
    ] {
        let root = tempfile::tempdir().unwrap();
        touch(root.path(), "usr/lib/llvm-14/lib/libclang-cpp.so.14");
        touch(root.path(), file);
        assert!(
            !missing_under(root.path()).contains(&"libclang-dev".to_string()),
            "{file} should satisfy the libclang check"
        );
    }
}

#[test]
fn bubblewrap_is_asked_for_until_its_binary_is_where_the_sandbox_looks() {
    let root = tempfile::tempdir().unwrap();
    assert!(missing_under(root.path()).contains(&"bubblewrap".to_string()));
    // A file that is not executable is not a bubblewrap the sandbox can run.
    touch(root.path(), "usr/bin/bwrap");
    assert!(missing_under(root.path()).contains(&"bubblewrap".to_string()));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.path().join("usr/bin/bwrap"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    assert!(!missing_under(root.path()).contains(&"bubblewrap".to_string()));
}

#[test]
fn the_browser_pieces_are_asked_for_only_with_browser_and_found_by_their_files() {
    use std::os::unix::fs::PermissionsExt;
    let browser = ["chromium", "chromium-driver", "fonts-noto-cjk"];
    let root = tempfile::tempdir().unwrap();
    let plain = missing_under(root.path());
    assert!(
        browser.iter().all(|p| !plain.contains(&p.to_string())),
        "{plain:?}"
    );
    let wanted = missing_with(root.path(), &["--browser"]);
    assert!(
        browser.iter().all(|p| wanted.contains(&p.to_string())),
        "{wanted:?}"
    );
    // Present but not executable is not a browser the test can start; a font of another
    // script is not a CJK font.
    touch(root.path(), "usr/bin/chromium");
    touch(root.path(), "usr/bin/chromedriver");
    touch(
        root.path(),
        "usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    );
    let wanted = missing_with(root.path(), &["--browser"]);
    assert!(
        browser.iter().all(|p| wanted.contains(&p.to_string())),
        "{wanted:?}"
    );
    for bin in ["usr/bin/chromium", "usr/bin/chromedriver"] {
        std::fs::set_permissions(
            root.path().join(bin),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    touch(
        root.path(),
        "usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    );
    let wanted = missing_with(root.path(), &["--browser"]);
    assert!(
        browser.iter().all(|p| !wanted.contains(&p.to_string())),
        "{wanted:?}"
    );
}

#[test]
fn an_unknown_option_is_refused() {
    let out = Command::new("bash")
        .arg(script())
        .arg("--chromium")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --chromium"));
}
