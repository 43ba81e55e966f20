//! Dual signatures (SM2 + ML-DSA-65) over one message, and their strict verification.

use ml_dsa::{EncodedSignature, MlDsa65};
use serde::{Deserialize, Serialize};
use sm2::dsa::signature::{Signer as _, Verifier as _};

use crate::hex;
use crate::keys::{KeyPair, Verifiers};
use crate::names;

/// One signature over the canonical bytes of what it signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureEntry {
    /// `SM2-with-SM3` or `ML-DSA-65`.
    pub algorithm: String,
    /// The fingerprint of the [`crate::PublicKeys`] that verify it.
    pub key_fingerprint: String,
    /// Lowercase hex: SM2 as r ‖ s (64 bytes), ML-DSA-65 as FIPS 204 sigEncode (3309 bytes).
    pub value: String,
}

/// Signs `msg` with both keys: `[SM2, ML-DSA-65]`, in that order. Both are deterministic (SM2
/// with RFC 6979-style nonces, ML-DSA in its deterministic variant with an empty context), so the
/// same message and keys always give the same bytes.
pub(crate) fn sign_both(keys: &KeyPair, msg: &[u8]) -> Vec<SignatureEntry> {
    let sm2_sig: sm2::dsa::Signature = keys.sm2.sign(msg);
    let ml_sig = keys
        .ml_dsa
        .expanded_key()
        .sign_deterministic(msg, &[])
        .expect("an empty context is always accepted");
    let fingerprint = keys.public.fingerprint.clone();
    vec![
        SignatureEntry {
            algorithm: names::SM2.to_string(),
            key_fingerprint: fingerprint.clone(),
            value: hex::encode(&sm2_sig.to_bytes()),
        },
        SignatureEntry {
            algorithm: names::ML_DSA.to_string(),
            key_fingerprint: fingerprint,
            value: hex::encode(&ml_sig.encode()),
        },
    ]
}

/// Why a pair of signatures was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SigFailure {
    Missing(&'static str),
    Unexpected(String),
    WrongKey(&'static str),
    Invalid(&'static str),
}

/// Requires exactly `[SM2, ML-DSA-65]`, both naming `fingerprint`, both verifying `msg`.
pub(crate) fn verify_both(
    v: &Verifiers,
    fingerprint: &str,
    msg: &[u8],
    sigs: &[SignatureEntry],
) -> Result<(), SigFailure> {
    let expected = [names::SM2, names::ML_DSA];
    let in_order = sigs.len() == expected.len()
        && sigs
            .iter()
            .zip(expected)
            .all(|(s, want)| s.algorithm == want);
    if !in_order {
        if let Some(want) = expected
            .iter()
            .find(|want| !sigs.iter().any(|s| s.algorithm == **want))
        {
            return Err(SigFailure::Missing(want));
        }
        // All present: something extra, duplicated or out of order.
        let odd = sigs
            .iter()
            .enumerate()
            .find(|(i, s)| expected.get(*i) != Some(&s.algorithm.as_str()))
            .map(|(_, s)| s.algorithm.clone())
            .unwrap_or_default();
        return Err(SigFailure::Unexpected(odd));
    }
    for (s, alg) in sigs.iter().zip(expected) {
        if s.key_fingerprint != fingerprint {
            return Err(SigFailure::WrongKey(alg));
        }
    }

    let sm2_ok = hex::decode(&sigs[0].value)
        .ok()
        .and_then(|b| sm2::dsa::Signature::from_slice(&b).ok())
        .is_some_and(|sig| v.sm2.verify(msg, &sig).is_ok());
    if !sm2_ok {
        return Err(SigFailure::Invalid(names::SM2));
    }
    let ml_ok = hex::decode(&sigs[1].value)
        .ok()
        .and_then(|b| EncodedSignature::<MlDsa65>::try_from(b.as_slice()).ok())
        .and_then(|enc| ml_dsa::Signature::<MlDsa65>::decode(&enc))
        .is_some_and(|sig| v.ml_dsa.verify_with_context(msg, &[], &sig));
    if !ml_ok {
        return Err(SigFailure::Invalid(names::ML_DSA));
    }
    Ok(())
}
