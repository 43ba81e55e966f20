//! A cheap check of the GGUF header before a file reaches llama.cpp, so that a wrong file gives
//! a clear error instead of whatever llama.cpp makes of it.

use std::io::Read;
use std::path::Path;

use crate::LocalError;

const MAGIC: &[u8; 4] = b"GGUF";

/// Check that `path` starts with the GGUF magic and a version llama.cpp reads; return the version.
pub fn check(path: &Path) -> Result<u32, LocalError> {
    let io = |source| LocalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = touchstone_input::open(path).map_err(io)?;
    // magic (4) + version (4) + tensor count (8) + key/value count (8)
    let mut header = [0u8; 24];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        }
    }
    if read < 4 || &header[..4] != MAGIC {
        return Err(LocalError::NotGguf {
            path: path.to_path_buf(),
            found: describe(&header[..read.min(4)]),
        });
    }
    if read < header.len() {
        return Err(LocalError::NotGguf {
            path: path.to_path_buf(),
            found: format!("a truncated header of {read} bytes"),
        });
    }
    let version = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    // Version 1 is long obsolete; a byte-swapped (big-endian) file shows up as a huge number.
    if !(2..=3).contains(&version) {
        return Err(LocalError::UnsupportedGgufVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    Ok(version)
}

fn describe(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "nothing (the file is empty)".into();
    }
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("bytes {}", hex.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, bytes).unwrap();
        f
    }

    #[test]
    fn accepts_v3_header() {
        let mut h = b"GGUF".to_vec();
        h.extend(3u32.to_le_bytes());
        h.extend([0u8; 16]);
        let f = write(&h);
        assert_eq!(check(f.path()).unwrap(), 3);
    }

    #[test]
    fn rejects_other_files() {
        let f = write(b"<!DOCTYPE html><html>");
        let err = check(f.path()).unwrap_err();
        assert!(matches!(err, LocalError::NotGguf { .. }), "{err}");
        assert!(err.to_string().contains("3c 21 44 4f"), "{err}");
        let empty = write(b"");
        assert!(
            check(empty.path())
                .unwrap_err()
                .to_string()
                .contains("empty")
        );
        let short = write(b"GGUF\x03\x00");
        assert!(matches!(
            check(short.path()),
            Err(LocalError::NotGguf { .. })
        ));
    }

    #[test]
    fn rejects_unknown_versions() {
        let mut h = b"GGUF".to_vec();
        h.extend(0x0300_0000u32.to_le_bytes());
        h.extend([0u8; 16]);
        let f = write(&h);
        assert!(matches!(
            check(f.path()),
            Err(LocalError::UnsupportedGgufVersion {
                version: 0x0300_0000,
                ..
            })
        ));
    }

    #[test]
    fn missing_file_is_io_error_with_path() {
        let err = check(Path::new("/nonexistent/x.gguf")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/x.gguf"));
    }
}
