//! Suites uploaded with their datasets. Every file is stored once by its SHA-256
//! (`uploads/blobs/HASH`); an upload is laid out as it was sent (`uploads/suites/ID/suite.yaml`
//! and its files, linked to the blobs), so that the suite's relative dataset paths resolve as
//! they did on the uploader's machine. The upload's id is the hash of what was sent and whose it
//! is; a suite may read only files of its own upload.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use touchstone_core::DatasetSource;
use touchstone_suite::LoadedSuite;

use crate::directory::SuiteUpload;
use crate::error::ApiError;
use crate::exchange::{Call, Reply, on_directory};
use crate::{Center, blocking, policy, secrets};

/// Files in one upload, at most.
const MAX_FILES: usize = 256;
/// The suite file's name inside an upload.
const SUITE_FILE: &str = "suite.yaml";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadBody {
    #[serde(default)]
    organisation: Option<String>,
    /// A name for people (the suite file's own `name` is what results show).
    name: String,
    /// The suite file (YAML), as `touchstone eval --suite FILE` reads it.
    suite: String,
    /// The files the suite reads, at the paths it names them by (relative to the suite).
    #[serde(default)]
    files: Vec<UploadFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadFile {
    path: String,
    /// The content as text (JSONL, CSV, JSON, YAML) …
    #[serde(default)]
    text: Option<String>,
    /// … or as base64 (gzip, Parquet).
    #[serde(default)]
    base64: Option<String>,
}

fn refuse(at: String, en: String, zh: &str) -> ApiError {
    ApiError::bad_request(en, zh).at(at)
}

/// A relative path of plain names: no `..`, no root, no hidden or odd names.
fn check_path(path: &str, at: &str) -> Result<PathBuf, ApiError> {
    let bad = || {
        refuse(
            at.to_string(),
            format!(
                "`{path}`: a file's path is relative, made of names of letters, digits, `.`, `_`, `-` separated by `/`, none starting with `.`"
            ),
            "文件路径须为相对路径，由字母、数字、`.`、`_`、`-` 组成，且不以 `.` 开头",
        )
    };
    if path.is_empty() || path.len() > 256 || path == SUITE_FILE {
        return Err(bad());
    }
    let parsed = Path::new(path);
    for component in parsed.components() {
        let Component::Normal(name) = component else {
            return Err(bad());
        };
        let name = name.to_str().ok_or_else(bad)?;
        if name.starts_with('.')
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(bad());
        }
    }
    Ok(parsed.to_path_buf())
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `POST /api/v1/suites`.
pub(crate) async fn upload(center: &Arc<Center>, call: Call) -> Result<Reply, ApiError> {
    let who = call.who()?.clone();
    let body: UploadBody = call.json()?;
    let organisation =
        crate::objects::acting_organisation(center, &who, body.organisation.clone()).await?;
    crate::validate::check_name(&body.name, "name")?;
    if body.files.len() > MAX_FILES {
        return Err(refuse(
            "files".into(),
            format!("at most {MAX_FILES} files"),
            "文件数量超过上限",
        ));
    }
    // Decode and check every file before anything is written.
    let mut files: Vec<Sent> = Vec::new();
    for (i, f) in body.files.iter().enumerate() {
        let at = format!("files[{i}]");
        let path = check_path(&f.path, &format!("{at}.path"))?;
        if files.iter().any(|f| f.path == path) {
            return Err(refuse(
                format!("{at}.path"),
                format!("`{}` is given twice", f.path),
                "文件路径重复",
            ));
        }
        let bytes = match (&f.text, &f.base64) {
            (Some(text), None) => text.clone().into_bytes(),
            (None, Some(b64)) => base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| {
                    refuse(
                        format!("{at}.base64"),
                        format!("not base64: {e}"),
                        "不是有效的 base64",
                    )
                })?,
            _ => {
                return Err(refuse(
                    at,
                    "give a file's content as `text` or as `base64`, one of the two".into(),
                    "文件内容须以 `text` 或 `base64` 之一给出",
                ));
            }
        };
        files.push(Sent {
            sha256: hex_sha256(&bytes),
            path,
            bytes,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    // What was sent and whose it is, hashed: the upload's id.
    let manifest: Vec<Value> = files
        .iter()
        .map(|f| json!({ "path": f.path.to_string_lossy(), "sha256": f.sha256, "bytes": f.bytes.len() }))
        .collect();
    let suite_sha256 = hex_sha256(body.suite.as_bytes());
    let identity = json!({
        "organisation": organisation,
        "name": body.name,
        "suite_sha256": suite_sha256,
        "files": manifest,
    });
    let id = format!("s_{}", &hex_sha256(identity.to_string().as_bytes())[..24]);
    let c = center.clone();
    let (suite_text, name, by) = (body.suite.clone(), body.name.clone(), who.name.clone());
    let (id2, org2) = (id.clone(), organisation.clone());
    let tasks = blocking(move || -> Result<Vec<String>, ApiError> {
        let tasks = materialise(&c.uploads, &id2, &suite_text, &files)?;
        let record = SuiteUpload {
            id: id2.clone(),
            organisation: org2,
            name,
            created_by: by,
            created_at: touchstone_store::now_rfc3339(),
            manifest: json!({ "suite_sha256": suite_sha256, "files": manifest }),
        };
        c.directory.save_suite(&record)?;
        Ok(tasks)
    })
    .await??;
    Ok(Reply::json(
        201,
        json!({ "id": id, "organisation": organisation, "name": body.name, "tasks": tasks }),
    )
    .on(format!("suite:{id}")))
}

/// A file as sent, decoded, with its digest.
struct Sent {
    path: PathBuf,
    bytes: Vec<u8>,
    sha256: String,
}

fn task_names(suite: &LoadedSuite) -> Vec<String> {
    suite.spec.tasks.iter().map(|t| t.name.clone()).collect()
}

/// Lays the upload out in `uploads/suites/ID` and stores its files by hash, once the suite
/// loaded from the laid-out folder and reads nothing outside it; a refused upload leaves
/// nothing behind. An upload with the same id is the same content: laid out once. Returns the
/// suite's task names.
fn materialise(
    uploads: &Path,
    id: &str,
    suite: &str,
    files: &[Sent],
) -> Result<Vec<String>, ApiError> {
    let blobs = uploads.join("blobs");
    let suites = uploads.join("suites");
    std::fs::create_dir_all(&blobs).map_err(ApiError::internal)?;
    std::fs::create_dir_all(&suites).map_err(ApiError::internal)?;
    let folder = suites.join(id);
    if folder.join(SUITE_FILE).is_file() {
        return load_from(&folder).map(|s| task_names(&s));
    }
    // Built beside its place and renamed into it, so that a folder is whole or absent.
    let building = suites.join(format!(
        ".building-{}",
        secrets::new_id("b").map_err(ApiError::internal)?
    ));
    let result = (|| -> Result<Vec<String>, ApiError> {
        let io = ApiError::internal;
        std::fs::create_dir_all(&building).map_err(io)?;
        std::fs::write(building.join(SUITE_FILE), suite).map_err(io)?;
        for f in files {
            let target = building.join(&f.path);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&target, &f.bytes).map_err(io)?;
        }
        let tasks = task_names(&load_from(&building)?);
        // Accepted: each file becomes a link to its blob (written once per content).
        for f in files {
            let target = building.join(&f.path);
            let blob = blobs.join(&f.sha256);
            if !blob.is_file() {
                std::fs::hard_link(&target, &blob)
                    .or_else(|_| std::fs::copy(&target, &blob).map(drop))
                    .map_err(io)?;
            } else {
                std::fs::remove_file(&target).map_err(io)?;
                if std::fs::hard_link(&blob, &target).is_err() {
                    std::fs::copy(&blob, &target).map_err(io)?;
                }
            }
        }
        match std::fs::rename(&building, &folder) {
            // Another request laid out the same upload first.
            Err(_) if folder.join(SUITE_FILE).is_file() => {
                std::fs::remove_dir_all(&building).map_err(io)?
            }
            other => other.map_err(io)?,
        }
        Ok(tasks)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&building);
    }
    result
}

/// Loads the upload in `folder`, refusing a suite that reads anything outside it.
fn load_from(folder: &Path) -> Result<LoadedSuite, ApiError> {
    let canonical = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
    let shown = |message: String| {
        message
            .replace(&canonical.display().to_string(), "<upload>")
            .replace(&folder.display().to_string(), "<upload>")
    };
    let suite = touchstone_suite::load_file(&folder.join(SUITE_FILE))
        .map_err(|e| ApiError::bad_request(shown(e.to_string()), "套件文件无效").at("suite"))?;
    let root = canonical.clone();
    let mut read: Vec<(String, PathBuf)> = Vec::new();
    for task in &suite.spec.tasks {
        if let DatasetSource::Path(p) = &task.dataset.source {
            read.push((format!("task {}", task.name), p.clone()));
        }
        if let Some(from) = &task.prompt.few_shot_from
            && let DatasetSource::Path(p) = &from.dataset.source
        {
            read.push((format!("task {} (few-shot)", task.name), p.clone()));
        }
    }
    for source in &suite.spec.attack_sources {
        read.push(("attack_sources".into(), source.clone()));
    }
    if let Some(profile) = &suite.spec.profile
        && !touchstone_compliance::profile::builtin_names().contains(&profile.as_str())
    {
        read.push(("profile".into(), PathBuf::from(profile)));
    }
    for (what, path) in read {
        let inside = std::fs::canonicalize(&path)
            .map(|p| p.starts_with(&root))
            .unwrap_or(false);
        if !inside {
            return Err(ApiError::bad_request(
                shown(format!(
                    "{what} reads `{}`, which is not a file of this upload: send every file the suite reads in `files`, at the path the suite names",
                    path.display()
                )),
                "套件读取的文件不在本次上传中：请在 `files` 中一并上传",
            )
            .at("suite"));
        }
    }
    Ok(suite)
}

/// The uploaded suite `id` of `organisation`, loaded for a run.
pub fn load(center: &Center, id: &str, organisation: &str) -> Result<LoadedSuite, ApiError> {
    let record = center.directory.suite(id)?;
    match record {
        Some(s) if s.organisation == organisation => {
            load_from(&center.uploads.join("suites").join(&s.id))
        }
        // Another organisation's upload is, to this request, no upload at all.
        _ => Err(ApiError::not_found().at("upload")),
    }
}

/// The uploads `who` may see, for `GET /api/v1/suites`.
pub(crate) async fn visible(
    center: &Arc<Center>,
    who: &policy::Principal,
) -> Result<Value, ApiError> {
    let org = policy::visible_organisation(who).map(str::to_string);
    let uploads = on_directory(center, move |d| d.suites(org.as_deref())).await?;
    Ok(json!(uploads))
}
