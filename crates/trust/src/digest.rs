//! SHA-256 and SM3 digests, lowercase hex.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use sm3::Digest as _;

/// Both digests of one byte string, lowercase hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Digests {
    pub sha256: String,
    pub sm3: String,
}

pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

pub fn sm3(data: &[u8]) -> [u8; 32] {
    let out = sm3::Sm3::digest(data);
    let mut a = [0u8; 32];
    a.copy_from_slice(&out);
    a
}

impl Digests {
    pub fn of_bytes(data: &[u8]) -> Digests {
        Digests {
            sha256: crate::hex::encode(&sha256(data)),
            sm3: crate::hex::encode(&sm3(data)),
        }
    }

    /// Streams `reader` through both hashes.
    pub fn of_reader(mut reader: impl Read) -> std::io::Result<Digests> {
        let mut a = sha2::Sha256::new();
        let mut b = sm3::Sm3::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            a.update(&buf[..n]);
            b.update(&buf[..n]);
        }
        Ok(Digests {
            sha256: crate::hex::encode(&a.finalize()),
            sm3: crate::hex::encode(&b.finalize()),
        })
    }

    /// Streams the file at `path` (constant memory).
    pub fn of_file(path: &Path) -> std::io::Result<Digests> {
        Digests::of_reader(touchstone_input::open(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GB/T 32905-2016 Appendix A, examples 1 and 2.
    #[test]
    fn sm3_known_answers() {
        assert_eq!(
            Digests::of_bytes(b"abc").sm3,
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        assert_eq!(
            Digests::of_bytes("abcd".repeat(16).as_bytes()).sm3,
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
    }

    /// FIPS 180-2 example.
    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            Digests::of_bytes(b"abc").sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_matches_one_shot() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, &data).unwrap();
        assert_eq!(Digests::of_file(&p).unwrap(), Digests::of_bytes(&data));
    }
}
