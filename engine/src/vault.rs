//! Encryption of OAuth tokens at rest: AES-256-GCM with a fresh 96-bit nonce per value.
//!
//! A sealed value is `base64(key_id ‖ nonce ‖ ciphertext+tag)`. The key-id byte lets a new key
//! take over while values sealed under older keys still open (pass those with
//! [`Vault::with_previous_key`]). The tenant id and the provider are the associated data, so a
//! token copied into another tenant's row, or from the Zoho row to the QBO row, fails to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

const NONCE_BYTES: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("the secret key must be exactly 32 bytes, not {0}")]
    KeyLength(usize),
    #[error("the sealed value is malformed")]
    Malformed,
    #[error("the sealed value uses key id {0}, which this vault does not hold")]
    UnknownKey(u8),
    /// Wrong key, wrong tenant or provider, or altered bytes: GCM cannot tell which.
    #[error("the sealed value does not open: altered, or sealed for another tenant or provider")]
    Tampered,
    #[error("the sealed value is not text")]
    NotText,
}

pub struct Vault {
    current_id: u8,
    keys: Vec<(u8, Aes256Gcm)>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<u8> = self.keys.iter().map(|(id, _)| *id).collect();
        f.debug_struct("Vault")
            .field("current_key_id", &self.current_id)
            .field("key_ids", &ids)
            .finish_non_exhaustive()
    }
}

fn cipher(key: &[u8]) -> Result<Aes256Gcm, VaultError> {
    Aes256Gcm::new_from_slice(key).map_err(|_| VaultError::KeyLength(key.len()))
}

/// 32 key bytes from 64 hex digits or base64 (standard or URL-safe, padded or not).
pub fn decode_secret(text: &str) -> Result<Vec<u8>, VaultError> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| {
                u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| VaultError::Malformed)
            })
            .collect::<Result<Vec<u8>, _>>()?
    } else {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
        STANDARD
            .decode(text)
            .or_else(|_| STANDARD_NO_PAD.decode(text))
            .or_else(|_| URL_SAFE.decode(text))
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| VaultError::Malformed)?
    };
    if bytes.len() == 32 {
        Ok(bytes)
    } else {
        Err(VaultError::KeyLength(bytes.len()))
    }
}

fn associated_data(tenant_id: &str, provider: &str) -> Vec<u8> {
    // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
    format!(
        "zqsync-token/v1/{}:{tenant_id}/{}:{provider}",
        tenant_id.len(),
        provider.len()
    )
    .into_bytes()
}

impl Vault {
    /// A vault sealing with `key` (32 bytes, e.g. decoded from `ZQSYNC_SECRET_KEY`) under `key_id`.
    pub fn new(key_id: u8, key: &[u8]) -> Result<Self, VaultError> {
        Ok(Self {
            current_id: key_id,
            keys: vec![(key_id, cipher(key)?)],
        })
    }

    /// A vault from configuration text (e.g. `ZQSYNC_SECRET_KEY`): 32 bytes written as 64 hex
    /// digits or as base64. The text itself is never part of an error.
    pub fn from_secret_text(key_id: u8, text: &str) -> Result<Self, VaultError> {
        Self::new(key_id, &decode_secret(text)?)
    }

    /// Also opens values sealed under an older key (rotation); new values use the current key.
    pub fn with_previous_key(mut self, key_id: u8, key: &[u8]) -> Result<Self, VaultError> {
        let cipher = cipher(key)?;
        self.keys
            .retain(|(id, _)| *id != key_id || *id == self.current_id);
        if key_id != self.current_id {
            self.keys.push((key_id, cipher));
        }
        Ok(self)
    }

    pub fn current_key_id(&self) -> u8 {
        self.current_id
    }

    fn key(&self, key_id: u8) -> Option<&Aes256Gcm> {
        self.keys
            .iter()
            .find(|(id, _)| *id == key_id)
            .map(|(_, c)| c)
    }

    pub fn seal(
        &self,
        tenant_id: &str,
        provider: &str,
        plaintext: &str,
    ) -> Result<String, VaultError> {
        let cipher = self
            .key(self.current_id)
            .ok_or(VaultError::UnknownKey(self.current_id))?;
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(tenant_id, provider);
        let ciphertext = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Malformed)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        sealed.push(self.current_id);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(sealed))
    }

    pub fn open(
        &self,
        tenant_id: &str,
        provider: &str,
        sealed: &str,
    ) -> Result<String, VaultError> {
        let bytes = STANDARD
            .decode(sealed.trim())
            .map_err(|_| VaultError::Malformed)?;
        if bytes.len() < 1 + NONCE_BYTES + 16 {
            return Err(VaultError::Malformed);
        }
        let key_id = bytes[0];
        let cipher = self.key(key_id).ok_or(VaultError::UnknownKey(key_id))?;
        let nonce = Nonce::from_slice(&bytes[1..=NONCE_BYTES]);
        let aad = associated_data(tenant_id, provider);
        let plaintext = cipher
            .decrypt(
                nonce,
                Payload {
                    msg: &bytes[1 + NONCE_BYTES..],
                    aad: &aad,
                },
            )
            .map_err(|_| VaultError::Tampered)?;
        String::from_utf8(plaintext).map_err(|_| VaultError::NotText)
    }

    /// Whether `sealed` was sealed under an older key and should be re-sealed.
    pub fn needs_reseal(&self, sealed: &str) -> bool {
        STANDARD
            .decode(sealed.trim())
            .ok()
            .and_then(|b| b.first().copied())
            .is_some_and(|id| id != self.current_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: [u8; 32] = [7; 32];
    const KEY_B: [u8; 32] = [9; 32];

    #[test]
    fn round_trip_with_fresh_nonces() {
        let vault = Vault::new(1, &KEY_A).expect("vault");
        let a = vault.seal("tenant-1", "qbo", "RT1-secret").expect("seal");
        let b = vault.seal("tenant-1", "qbo", "RT1-secret").expect("seal");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("RT1-secret"));
        assert_eq!(
            vault.open("tenant-1", "qbo", &a).expect("open"),
            "RT1-secret"
        );
        assert!(!format!("{vault:?}").contains('7'));
    }

    #[test]
    fn wrong_tenant_provider_or_altered_bytes_do_not_open() {
        let vault = Vault::new(1, &KEY_A).expect("vault");
        let sealed = vault
            .seal("tenant-1", "zoho", "1000.refresh")
            .expect("seal");
        assert_eq!(
            vault.open("tenant-2", "zoho", &sealed),
            Err(VaultError::Tampered)
        );
        assert_eq!(
            vault.open("tenant-1", "qbo", &sealed),
            Err(VaultError::Tampered)
        );
        let mut bytes = STANDARD.decode(&sealed).expect("base64");
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            vault.open("tenant-1", "zoho", &STANDARD.encode(&bytes)),
            Err(VaultError::Tampered)
        );
        assert_eq!(
            vault.open("tenant-1", "zoho", "not base64!"),
            Err(VaultError::Malformed)
        );
        let other = Vault::new(1, &KEY_B).expect("vault");
        assert_eq!(
            other.open("tenant-1", "zoho", &sealed),
            Err(VaultError::Tampered)
        );
        assert!(matches!(
            Vault::new(1, &[0; 16]),
            Err(VaultError::KeyLength(16))
        ));
    }

    #[test]
    fn secrets_are_read_from_hex_or_base64() {
        let hex = "07".repeat(32);
        let base64 = STANDARD.encode(KEY_A);
        assert_eq!(decode_secret(&hex).expect("hex"), KEY_A.to_vec());
        assert_eq!(decode_secret(&base64).expect("base64"), KEY_A.to_vec());
        let from_hex = Vault::from_secret_text(1, &hex).expect("vault");
        let sealed = from_hex.seal("t", "qbo", "x").expect("seal");
        assert_eq!(
            Vault::from_secret_text(1, &base64)
                .expect("vault")
                .open("t", "qbo", &sealed)
                .expect("open"),
            "x"
        );
        assert_eq!(decode_secret("c2hvcnQ="), Err(VaultError::KeyLength(5)));
        assert_eq!(decode_secret("not a key!"), Err(VaultError::Malformed));
    }

    #[test]
    fn rotation_opens_old_values_and_seals_with_the_new_key() {
        let old = Vault::new(1, &KEY_A).expect("vault");
        let sealed_old = old.seal("t", "qbo", "old token").expect("seal");
        let rotated = Vault::new(2, &KEY_B)
            .expect("vault")
            .with_previous_key(1, &KEY_A)
            .expect("previous");
        assert_eq!(
            rotated.open("t", "qbo", &sealed_old).expect("old opens"),
            "old token"
        );
        assert!(rotated.needs_reseal(&sealed_old));
        let sealed_new = rotated.seal("t", "qbo", "new token").expect("seal");
        assert!(!rotated.needs_reseal(&sealed_new));
        assert_eq!(
            old.open("t", "qbo", &sealed_new),
            Err(VaultError::UnknownKey(2))
        );
    }
}
