//! The center's signing keys: an SM2 key pair and an ML-DSA-65 key pair.
//!
//! `DIR/public.json` holds both public keys, their algorithm names and a fingerprint (SHA-256 of
//! the RFC 8785 form of the key material). `DIR/private.json` holds both private keys — the SM2
//! scalar and the ML-DSA-65 seed ξ (FIPS 204 key generation is deterministic from it) — encrypted
//! with ChaCha20-Poly1305 under a key derived from the passphrase with argon2id; the KDF and
//! cipher parameters are written in the file, and everything but the ciphertext is authenticated
//! as associated data. Private keys never appear in `Debug` output.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ml_dsa::{EncodedVerifyingKey, MlDsa65};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{canonical, digest, hex, names};

/// Key files are a few kilobytes; a larger file is not one (and is not read into memory).
const KEY_FILE_BYTES: u64 = touchstone_input::MIB;

pub const PRIVATE_FILE: &str = "private.json";
pub const PUBLIC_FILE: &str = "public.json";
const PRIVATE_FORMAT: &str = "touchstone-private-key/1";
const PLAINTEXT_LAYOUT: &str =
    "SM2 private scalar (32 bytes, big-endian) || ML-DSA-65 seed xi (32 bytes)";
const ARGON2_VERSION: u32 = 0x13;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("refusing to overwrite the existing key file {0} / 拒绝覆盖已有的密钥文件 {0}")]
    Exists(PathBuf),
    #[error("cannot access {path}: {source} / 无法访问 {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is not a valid Touchstone key file: {detail} / {path} 不是有效的 Touchstone 密钥文件"
    )]
    Malformed { path: PathBuf, detail: String },
    #[error(
        "wrong passphrase for {0} (or the key file was altered) / 口令错误（或密钥文件已被改动）：{0}"
    )]
    WrongPassphrase(PathBuf),
    #[error("the passphrase is empty; private keys must be encrypted with a passphrase / 口令为空")]
    EmptyPassphrase,
    #[error("{0} does not match the private key in the same directory / {0} 与同目录的私钥不符")]
    PublicMismatch(PathBuf),
    #[error("invalid public key: {0} / 公钥无效：{0}")]
    InvalidPublicKey(String),
    #[error("invalid private key: {0} / 私钥无效：{0}")]
    InvalidPrivateKey(String),
    #[error("the operating system's random number generator failed: {0} / 系统随机数生成器失败")]
    Random(String),
}

/// The SM2 public key as written in artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sm2PublicKey {
    /// Always `SM2-with-SM3`.
    pub algorithm: String,
    /// Always `1234567812345678`, the default of GB/T 32918.2 / GM/T 0009.
    pub distinguishing_id: String,
    /// Uncompressed SEC1 point `04 ‖ x ‖ y`, lowercase hex.
    pub key: String,
}

/// The ML-DSA-65 public key as written in artifacts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MlDsaPublicKey {
    /// Always `ML-DSA-65`.
    pub algorithm: String,
    /// FIPS 204 pkEncode (1952 bytes), lowercase hex.
    pub key: String,
}

/// Both public keys and their fingerprint: the content of `public.json`, and of every
/// certificate's `public_keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicKeys {
    pub sm2: Sm2PublicKey,
    pub ml_dsa: MlDsaPublicKey,
    /// SHA-256 (lowercase hex) of the RFC 8785 form of `{"ml_dsa": …, "sm2": …}`.
    pub fingerprint: String,
}

/// Decoded verifying keys.
pub(crate) struct Verifiers {
    pub(crate) sm2: sm2::dsa::VerifyingKey,
    pub(crate) ml_dsa: ml_dsa::VerifyingKey<MlDsa65>,
}

#[derive(Serialize)]
struct KeyMaterial<'a> {
    sm2: &'a Sm2PublicKey,
    ml_dsa: &'a MlDsaPublicKey,
}

fn fingerprint_of(sm2: &Sm2PublicKey, ml_dsa: &MlDsaPublicKey) -> String {
    let bytes = canonical::of(&KeyMaterial { sm2, ml_dsa }).expect("key material is plain JSON");
    hex::encode(&digest::sha256(&bytes))
}

impl PublicKeys {
    fn from_verifiers(
        sm2: &sm2::dsa::VerifyingKey,
        ml_dsa: &ml_dsa::VerifyingKey<MlDsa65>,
    ) -> PublicKeys {
        let sm2 = Sm2PublicKey {
            algorithm: names::SM2.to_string(),
            distinguishing_id: names::SM2_DISTINGUISHING_ID.to_string(),
            key: hex::encode(&sm2.to_sec1_bytes()),
        };
        let ml_dsa = MlDsaPublicKey {
            algorithm: names::ML_DSA.to_string(),
            key: hex::encode(&ml_dsa.encode()),
        };
        let fingerprint = fingerprint_of(&sm2, &ml_dsa);
        PublicKeys {
            sm2,
            ml_dsa,
            fingerprint,
        }
    }

    /// Checks names, encodings and the fingerprint, and decodes the keys.
    pub(crate) fn verifiers(&self) -> Result<Verifiers, String> {
        if self.sm2.algorithm != names::SM2 {
            return Err(format!(
                "sm2.algorithm is '{}', expected '{}'",
                self.sm2.algorithm,
                names::SM2
            ));
        }
        if self.sm2.distinguishing_id != names::SM2_DISTINGUISHING_ID {
            return Err(format!(
                "sm2.distinguishing_id is '{}', expected '{}'",
                self.sm2.distinguishing_id,
                names::SM2_DISTINGUISHING_ID
            ));
        }
        if self.ml_dsa.algorithm != names::ML_DSA {
            return Err(format!(
                "ml_dsa.algorithm is '{}', expected '{}'",
                self.ml_dsa.algorithm,
                names::ML_DSA
            ));
        }
        let sm2_bytes = hex::decode(&self.sm2.key).map_err(|e| format!("sm2.key: {e}"))?;
        if sm2_bytes.len() != 65 || sm2_bytes[0] != 0x04 {
            return Err(
                "sm2.key: expected an uncompressed SEC1 point (65 bytes starting 04)".into(),
            );
        }
        let sm2 = sm2::dsa::VerifyingKey::from_sec1_bytes(names::SM2_DISTINGUISHING_ID, &sm2_bytes)
            .map_err(|_| "sm2.key: not a point on the SM2 curve".to_string())?;
        let ml_bytes = hex::decode(&self.ml_dsa.key).map_err(|e| format!("ml_dsa.key: {e}"))?;
        let enc = EncodedVerifyingKey::<MlDsa65>::try_from(ml_bytes.as_slice())
            .map_err(|_| format!("ml_dsa.key: expected 1952 bytes, found {}", ml_bytes.len()))?;
        let ml_dsa = ml_dsa::VerifyingKey::<MlDsa65>::decode(&enc);
        if ml_dsa.encode().as_slice() != ml_bytes.as_slice() {
            return Err("ml_dsa.key: not in canonical encoding".into());
        }
        let want = fingerprint_of(&self.sm2, &self.ml_dsa);
        if self.fingerprint != want {
            return Err(format!(
                "fingerprint is '{}', but the keys' fingerprint is '{want}'",
                self.fingerprint
            ));
        }
        Ok(Verifiers { sm2, ml_dsa })
    }

    /// Parses and checks `public.json` bytes.
    pub fn from_json(bytes: &[u8]) -> Result<PublicKeys, KeyError> {
        let keys: PublicKeys =
            serde_json::from_slice(bytes).map_err(|e| KeyError::InvalidPublicKey(e.to_string()))?;
        keys.verifiers().map_err(KeyError::InvalidPublicKey)?;
        Ok(keys)
    }

    /// Reads a `public.json` (for `verify --pubkey`).
    pub fn load(path: &Path) -> Result<PublicKeys, KeyError> {
        let bytes =
            touchstone_input::read(path, KEY_FILE_BYTES).map_err(|source| KeyError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let keys: PublicKeys = serde_json::from_slice(&bytes).map_err(|e| KeyError::Malformed {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        keys.verifiers().map_err(|detail| KeyError::Malformed {
            path: path.to_path_buf(),
            detail,
        })?;
        Ok(keys)
    }

    /// The bytes of `public.json`: the canonical JSON rules, pretty-printed, with a final newline.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = canonical::to_pretty_vec(&serde_json::to_value(self).expect("plain JSON"));
        out.push(b'\n');
        out
    }
}

/// argon2id cost parameters (stored in `private.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// RFC 9106 §4, second recommended option: 64 MiB, 3 passes, 4 lanes.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 4,
        }
    }
}

impl KdfParams {
    /// Cheap parameters for tests only.
    pub const INSECURE_FOR_TESTS: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    const MAX_ITERATIONS: u32 = 64;
    const MAX_PARALLELISM: u32 = 64;
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KdfSection {
    algorithm: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CipherSection {
    algorithm: String,
    nonce: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PrivateKeyFile {
    format: String,
    fingerprint: String,
    plaintext: String,
    kdf: KdfSection,
    cipher: CipherSection,
    ciphertext: String,
}

impl PrivateKeyFile {
    /// Everything but the ciphertext, canonical: the AEAD's associated data.
    fn associated_data(&self) -> Vec<u8> {
        let mut v = serde_json::to_value(self).expect("plain JSON");
        if let Some(obj) = v.as_object_mut() {
            obj.remove("ciphertext");
        }
        canonical::to_vec(&v)
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out).map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(out)
}

fn derive_key(passphrase: &str, salt: &[u8], p: &KdfParams) -> Result<Zeroizing<[u8; 32]>, String> {
    let params = argon2::Params::new(p.memory_kib, p.iterations, p.parallelism, Some(32))
        .map_err(|e| e.to_string())?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(key)
}

/// The center's two signing keys. `Debug` prints `***` for the private keys.
pub struct KeyPair {
    pub(crate) sm2: sm2::dsa::SigningKey,
    pub(crate) ml_dsa: ml_dsa::SigningKey<MlDsa65>,
    pub(crate) public: PublicKeys,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("fingerprint", &self.public.fingerprint)
            .field("sm2_private", &"***")
            .field("ml_dsa_private", &"***")
            .finish()
    }
}

impl KeyPair {
    /// Fresh keys from the operating system's random number generator.
    pub fn generate() -> Result<KeyPair, KeyError> {
        let seed = Zeroizing::new(random_bytes::<32>()?);
        loop {
            let scalar = Zeroizing::new(random_bytes::<32>()?);
            // A scalar of zero or ≥ n (probability ~2⁻³²) is drawn again.
            if let Ok(keys) = KeyPair::from_secrets(&scalar, &seed) {
                return Ok(keys);
            }
        }
    }

    /// Keys from their secret material: the SM2 private scalar (big-endian, in [1, n−1]) and
    /// the ML-DSA-65 seed ξ. Deterministic; for tests and for loading.
    pub fn from_secrets(
        sm2_scalar: &[u8; 32],
        ml_dsa_seed: &[u8; 32],
    ) -> Result<KeyPair, KeyError> {
        let sm2 = sm2::dsa::SigningKey::from_slice(names::SM2_DISTINGUISHING_ID, sm2_scalar)
            .map_err(|_| {
                KeyError::InvalidPrivateKey("the SM2 private scalar is not in [1, n-1]".into())
            })?;
        let ml_dsa = ml_dsa::SigningKey::<MlDsa65>::from_seed(&(*ml_dsa_seed).into());
        let public =
            PublicKeys::from_verifiers(sm2.verifying_key(), &ml_dsa.expanded_key().verifying_key());
        Ok(KeyPair {
            sm2,
            ml_dsa,
            public,
        })
    }

    pub fn public(&self) -> &PublicKeys {
        &self.public
    }

    pub fn fingerprint(&self) -> &str {
        &self.public.fingerprint
    }

    /// Writes `DIR/private.json` (mode 0600, encrypted with `passphrase`) and `DIR/public.json`,
    /// with the default argon2id parameters. Refuses to overwrite either file.
    pub fn write_dir(&self, dir: &Path, passphrase: &str) -> Result<(), KeyError> {
        self.write_dir_with(dir, passphrase, &KdfParams::default())
    }

    /// [`KeyPair::write_dir`] with explicit argon2id parameters.
    pub fn write_dir_with(
        &self,
        dir: &Path,
        passphrase: &str,
        kdf: &KdfParams,
    ) -> Result<(), KeyError> {
        if passphrase.is_empty() {
            return Err(KeyError::EmptyPassphrase);
        }
        std::fs::create_dir_all(dir).map_err(|source| KeyError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let private_path = dir.join(PRIVATE_FILE);
        let public_path = dir.join(PUBLIC_FILE);
        for p in [&private_path, &public_path] {
            if p.symlink_metadata().is_ok() {
                return Err(KeyError::Exists(p.clone()));
            }
        }

        let salt = random_bytes::<16>()?;
        let nonce = random_bytes::<12>()?;
        let mut file = PrivateKeyFile {
            format: PRIVATE_FORMAT.to_string(),
            fingerprint: self.public.fingerprint.clone(),
            plaintext: PLAINTEXT_LAYOUT.to_string(),
            kdf: KdfSection {
                algorithm: names::KDF.to_string(),
                version: ARGON2_VERSION,
                memory_kib: kdf.memory_kib,
                iterations: kdf.iterations,
                parallelism: kdf.parallelism,
                salt: hex::encode(&salt),
            },
            cipher: CipherSection {
                algorithm: names::CIPHER.to_string(),
                nonce: hex::encode(&nonce),
            },
            ciphertext: String::new(),
        };
        let key = derive_key(passphrase, &salt, kdf).map_err(|detail| KeyError::Malformed {
            path: private_path.clone(),
            detail,
        })?;
        let mut plaintext = Zeroizing::new(Vec::with_capacity(64));
        plaintext.extend_from_slice(&self.sm2.to_bytes());
        plaintext.extend_from_slice(self.ml_dsa.as_seed().as_slice());
        let aad = file.associated_data();
        let cipher = ChaCha20Poly1305::new(&Key::from(*key));
        let ciphertext = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| KeyError::Malformed {
                path: private_path.clone(),
                detail: "encryption failed".into(),
            })?;
        file.ciphertext = hex::encode(&ciphertext);

        let mut private_bytes =
            canonical::to_pretty_vec(&serde_json::to_value(&file).expect("plain JSON"));
        private_bytes.push(b'\n');
        write_new(&private_path, &private_bytes, 0o600)?;
        write_new(&public_path, &self.public.to_bytes(), 0o644)?;
        Ok(())
    }

    /// Reads `DIR/private.json`, decrypts it with `passphrase`, and checks it against
    /// `DIR/public.json` when that file is present.
    pub fn load_dir(dir: &Path, passphrase: &str) -> Result<KeyPair, KeyError> {
        let path = dir.join(PRIVATE_FILE);
        let bytes =
            touchstone_input::read(&path, KEY_FILE_BYTES).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })?;
        let malformed = |detail: String| KeyError::Malformed {
            path: path.clone(),
            detail,
        };
        let file: PrivateKeyFile =
            serde_json::from_slice(&bytes).map_err(|e| malformed(e.to_string()))?;
        if file.format != PRIVATE_FORMAT {
            return Err(malformed(format!(
                "format '{}', expected '{PRIVATE_FORMAT}'",
                file.format
            )));
        }
        if file.kdf.algorithm != names::KDF || file.kdf.version != ARGON2_VERSION {
            return Err(malformed(format!(
                "unsupported KDF '{}' version {}",
                file.kdf.algorithm, file.kdf.version
            )));
        }
        if file.cipher.algorithm != names::CIPHER {
            return Err(malformed(format!(
                "unsupported cipher '{}'",
                file.cipher.algorithm
            )));
        }
        if file.plaintext != PLAINTEXT_LAYOUT {
            return Err(malformed(format!(
                "unsupported plaintext layout '{}'",
                file.plaintext
            )));
        }
        let p = KdfParams {
            memory_kib: file.kdf.memory_kib,
            iterations: file.kdf.iterations,
            parallelism: file.kdf.parallelism,
        };
        if p.memory_kib > KdfParams::MAX_MEMORY_KIB
            || p.iterations > KdfParams::MAX_ITERATIONS
            || p.parallelism > KdfParams::MAX_PARALLELISM
        {
            return Err(malformed(format!(
                "argon2id parameters out of range: {p:?}"
            )));
        }
        let salt = hex::decode(&file.kdf.salt).map_err(|e| malformed(format!("kdf.salt: {e}")))?;
        let nonce = hex::decode_array::<12>(&file.cipher.nonce)
            .map_err(|e| malformed(format!("cipher.nonce: {e}")))?;
        let ciphertext =
            hex::decode(&file.ciphertext).map_err(|e| malformed(format!("ciphertext: {e}")))?;
        let key = derive_key(passphrase, &salt, &p).map_err(malformed)?;
        let cipher = ChaCha20Poly1305::new(&Key::from(*key));
        let plaintext = Zeroizing::new(
            cipher
                .decrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &ciphertext,
                        aad: &file.associated_data(),
                    },
                )
                .map_err(|_| KeyError::WrongPassphrase(path.clone()))?,
        );
        if plaintext.len() != 64 {
            return Err(malformed(format!(
                "decrypted {} bytes, expected 64",
                plaintext.len()
            )));
        }
        let mut scalar = Zeroizing::new([0u8; 32]);
        let mut seed = Zeroizing::new([0u8; 32]);
        scalar.copy_from_slice(&plaintext[..32]);
        seed.copy_from_slice(&plaintext[32..]);
        let keys = KeyPair::from_secrets(&scalar, &seed).map_err(|e| malformed(e.to_string()))?;
        if keys.public.fingerprint != file.fingerprint {
            return Err(malformed(
                "the decrypted keys do not match the file's fingerprint".into(),
            ));
        }
        let public_path = dir.join(PUBLIC_FILE);
        if public_path.exists() {
            let public = PublicKeys::load(&public_path)?;
            if public != keys.public {
                return Err(KeyError::PublicMismatch(public_path));
            }
        }
        Ok(keys)
    }
}

fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), KeyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut f = options.open(path).map_err(|source| {
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            KeyError::Exists(path.to_path_buf())
        } else {
            KeyError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    })?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|source| KeyError::Io {
            path: path.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sm2::dsa::signature::Verifier as _;

    /// GB/T 32918.2-2016 Appendix A.2 (also GM/T 0003.5-2012; OpenSSL test/sm2_internal_test.c
    /// uses the same example): SM2 signature on the recommended 256-bit curve, ID
    /// "1234567812345678", message "message digest", private key d_A, public key P_A, and (r, s)
    /// computed with the random k = 59276E27…BC21.
    #[test]
    fn sm2_known_answer_gbt32918() {
        let d = hex::decode_array::<32>(
            "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8",
        )
        .unwrap();
        let px = "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020";
        let py = "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";
        let r = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3";
        let s = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa";
        let sk = sm2::dsa::SigningKey::from_slice(names::SM2_DISTINGUISHING_ID, &d).unwrap();
        assert_eq!(
            hex::encode(&sk.verifying_key().to_sec1_bytes()),
            format!("04{px}{py}")
        );
        let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(
            names::SM2_DISTINGUISHING_ID,
            &hex::decode(&format!("04{px}{py}")).unwrap(),
        )
        .unwrap();
        let sig =
            sm2::dsa::Signature::from_slice(&hex::decode(&format!("{r}{s}")).unwrap()).unwrap();
        assert!(vk.verify(b"message digest", &sig).is_ok());
        assert!(vk.verify(b"message digesT", &sig).is_err());
        let other_id =
            sm2::dsa::VerifyingKey::from_sec1_bytes("ALICE123@YAHOO.COM", &vk.to_sec1_bytes())
                .unwrap();
        assert!(other_id.verify(b"message digest", &sig).is_err());
    }

    #[test]
    fn debug_hides_private_keys() {
        let keys = KeyPair::from_secrets(&[7u8; 32], &[9u8; 32]).unwrap();
        let dbg = format!("{keys:?}");
        assert!(dbg.contains("***"), "{dbg}");
        assert!(!dbg.contains(&hex::encode(&[7u8; 32])), "{dbg}");
        assert!(!dbg.contains(&hex::encode(&keys.sm2.to_bytes())), "{dbg}");
        assert!(
            !dbg.contains(&hex::encode(keys.ml_dsa.as_seed().as_slice())),
            "{dbg}"
        );
    }

    #[test]
    fn public_keys_validate_and_name_algorithms() {
        let keys = KeyPair::from_secrets(&[7u8; 32], &[9u8; 32]).unwrap();
        let p = keys.public().clone();
        p.verifiers().unwrap();
        assert_eq!(p.sm2.algorithm, "SM2-with-SM3");
        assert_eq!(p.ml_dsa.algorithm, "ML-DSA-65");
        let back = PublicKeys::from_json(&p.to_bytes()).unwrap();
        assert_eq!(back, p);
        let mut bad = p.clone();
        bad.fingerprint = "00".repeat(32);
        assert!(bad.verifiers().is_err());
        let mut upper = p.clone();
        upper.sm2.key = upper.sm2.key.to_uppercase();
        assert!(upper.verifiers().is_err());
    }
}
