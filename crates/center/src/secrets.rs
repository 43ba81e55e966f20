//! Passwords, session and token secrets, and the master key that encrypts model API keys.
//!
//! - Passwords: argon2id (19 MiB, 2 passes, 1 lane: OWASP's recommendation) with a random salt,
//!   stored as `argon2id$m,t,p$salt$hash` (hex).
//! - Session ids and API tokens: 32 random bytes; only their SHA-256 is stored, so a copy of
//!   the database opens no session. (They are random, not chosen by people: a fast hash is right.)
//! - Model API keys: ChaCha20-Poly1305 under the center's 32-byte master key, with the model's
//!   id as associated data (a ciphertext moved to another row does not open), a fresh nonce per
//!   key. The master key lives in its own file (mode 0600) beside the database, not in it.

use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the system's random source failed: {0}")]
    Random(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("cannot read the master key {}: {message}", path.display())]
    MasterKey { path: PathBuf, message: String },
    #[error(
        "a stored API key does not open under this center's master key (the key file was replaced, or the row was moved)"
    )]
    Undecryptable,
}

pub fn random_bytes<const N: usize>() -> Result<[u8; N], SecretError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(out)
}

/// A random secret as text (64 hex digits).
pub fn new_secret() -> Result<String, SecretError> {
    Ok(hex::encode(random_bytes::<32>()?))
}

/// A password made for a person to type once and change: 24 hex digits (96 bits).
pub fn new_password() -> Result<String, SecretError> {
    Ok(hex::encode(random_bytes::<12>()?))
}

/// A short random id for stored objects (`u_…`, `m_…`).
pub fn new_id(prefix: &str) -> Result<String, SecretError> {
    Ok(format!("{prefix}_{}", hex::encode(random_bytes::<8>()?)))
}

/// What is stored for a session id or a token secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

const ARGON_M_KIB: u32 = 19 * 1024;
const ARGON_T: u32 = 2;
const ARGON_P: u32 = 1;

fn argon(m: u32, t: u32, p: u32) -> Result<argon2::Argon2<'static>, SecretError> {
    let params =
        argon2::Params::new(m, t, p, Some(32)).map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
    ))
}

pub fn hash_password(password: &str) -> Result<String, SecretError> {
    let salt = random_bytes::<16>()?;
    let mut out = [0u8; 32];
    argon(ARGON_M_KIB, ARGON_T, ARGON_P)?
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .map_err(|e| SecretError::Hash(e.to_string()))?;
    Ok(format!(
        "argon2id${ARGON_M_KIB},{ARGON_T},{ARGON_P}${}${}",
        hex::encode(salt),
        hex::encode(out)
    ))
}

/// Whether `password` matches `stored` (from [`hash_password`]). A malformed stored value
/// matches nothing.
pub fn verify_password(password: &str, stored: &str) -> bool {
    let parts: Vec<&str> = stored.split('$').collect();
    let [kind, params, salt, hash] = parts.as_slice() else {
        return false;
    };
    if *kind != "argon2id" {
        return false;
    }
    let nums: Vec<u32> = params.split(',').filter_map(|n| n.parse().ok()).collect();
    let ([m, t, p], Ok(salt), Ok(expected)) = (
        <[u32; 3]>::try_from(nums.as_slice()).unwrap_or([0, 0, 0]),
        hex::decode(salt),
        hex::decode(hash),
    ) else {
        return false;
    };
    let Ok(argon) = argon(m, t, p) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon
        .hash_password_into(password.as_bytes(), &salt, &mut out)
        .is_err()
    {
        return false;
    }
    constant_time_eq(&out, &expected)
}

/// Compares without stopping at the first difference.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Work the same as a real check, for an unknown user: a login does not reveal which user
/// names exist by answering faster.
pub fn burn_password_check(password: &str) {
    let _ = verify_password(
        password,
        "argon2id$19456,2,1$00000000000000000000000000000000$0000000000000000000000000000000000000000000000000000000000000000",
    );
}

/// The center's master key.
pub struct MasterKey {
    key: [u8; 32],
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

impl MasterKey {
    /// Reads the key file, or creates it (mode 0600) with a new random key.
    pub fn load_or_create(path: &Path) -> Result<MasterKey, SecretError> {
        let err = |message: String| SecretError::MasterKey {
            path: path.to_path_buf(),
            message,
        };
        match touchstone_input::read(path, 1024) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| err("not hex text".into()))?;
                let raw = hex::decode(text.trim()).map_err(|_| err("not hex text".into()))?;
                let key: [u8; 32] = raw
                    .try_into()
                    .map_err(|_| err("not 32 bytes of hex".into()))?;
                Ok(MasterKey { key })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = random_bytes::<32>()?;
                use std::os::unix::fs::OpenOptionsExt;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| err(e.to_string()))?;
                file.write_all(format!("{}\n", hex::encode(key)).as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| err(e.to_string()))?;
                Ok(MasterKey { key })
            }
            Err(e) => Err(err(e.to_string())),
        }
    }

    #[cfg(test)]
    pub fn from_bytes(key: [u8; 32]) -> MasterKey {
        MasterKey { key }
    }

    /// `nonce ‖ ciphertext`, bound to `context` (the owning row's id).
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<Vec<u8>, SecretError> {
        let nonce = random_bytes::<12>()?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.key));
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<String, SecretError> {
        if sealed.len() < 12 {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce.try_into().map_err(|_| SecretError::Undecryptable)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(self.key));
        let plain = cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_and_a_wrong_one_does_not() {
        let stored = hash_password("correct horse").unwrap();
        assert!(stored.starts_with("argon2id$19456,2,1$"));
        assert!(verify_password("correct horse", &stored));
        assert!(!verify_password("correct horsf", &stored));
        assert!(!verify_password("x", "garbage"));
        assert!(!verify_password("x", "argon2id$0,0,0$zz$zz"));
    }

    #[test]
    fn a_sealed_key_opens_only_for_its_row_and_its_master_key() {
        let key = MasterKey::from_bytes([7; 32]);
        let sealed = key.seal("sk-secret", "m_1").unwrap();
        assert!(!sealed.windows(9).any(|w| w == b"sk-secret"));
        assert_eq!(key.open(&sealed, "m_1").unwrap(), "sk-secret");
        assert!(key.open(&sealed, "m_2").is_err());
        assert!(MasterKey::from_bytes([8; 32]).open(&sealed, "m_1").is_err());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(key.open(&flipped, "m_1").is_err());
        assert!(key.open(&sealed[..5], "m_1").is_err());
    }

    #[test]
    fn the_master_key_file_is_created_private_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = MasterKey::load_or_create(&path).unwrap();
        let sealed = a.seal("k", "c").unwrap();
        assert_eq!(b.open(&sealed, "c").unwrap(), "k");
        std::fs::write(&path, "short").unwrap();
        assert!(MasterKey::load_or_create(&path).is_err());
    }
}
