//! Sealing a [`Vault`] for the trip to the client and back:
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`), a random 24-byte
//! nonce per seal, and a header naming the format version and the key.
//!
//! ```text
//! "CFV" | version (1) | key id (8) | nonce (24) | ciphertext + tag (16)
//! ```
//!
//! The header is authenticated with the ciphertext. The plaintext (version
//! 2) is the surrogate seed (a byte 0, or 1 and 32 bytes), the entry count
//! and the entries in order: for each, the kind's name, the original
//! value, and either a byte 0, the label and the number (a placeholder)
//! or a byte 1 and the surrogate. Strings are a 32-bit little-endian
//! length and their bytes. Version 1 (no seed, placeholders only: kind,
//! label, number, original) is still read.

use std::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::finding::Kind;
use crate::redact::HashKey;

use super::surrogate::SEED_LEN;
use super::vault::{Entry, Pseudonym, Vault};

const MAGIC: &[u8; 3] = b"CFV";
const VERSION: u8 = 2;
/// The first format, placeholders only; still opened.
const VERSION_1: u8 = 1;
const ID_LEN: usize = 8;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = MAGIC.len() + 1 + ID_LEN;
/// The shortest key material accepted, in bytes.
const MIN_SECRET: usize = 16;

/// A key that seals and opens vaults.
///
/// Made from secret bytes (at least 16; a file by the same rule as
/// [`HashKey::from_file`]): the cipher key and an 8-byte key id are both
/// derived from them with SHA-256, so the id names the key without
/// revealing it. To rotate, open with the new key and the old ones and
/// seal with the new one.
#[derive(Clone)]
pub struct VaultKey {
    id: [u8; ID_LEN],
    cipher: XChaCha20Poly1305,
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultKey({})", self.id())
    }
}

impl VaultKey {
    /// A key made from `secret`; fails when it has fewer than 16 bytes.
    pub fn new(secret: &[u8]) -> Result<VaultKey, Error> {
        if secret.len() < MIN_SECRET {
            return Err(Error::invalid_option(
                "vault key",
                format!("at least {MIN_SECRET} bytes of key material are needed"),
            ));
        }
        let derive = |purpose: &[u8]| {
            let mut h = Sha256::new();
            h.update(b"contentfilter vault ");
            h.update(purpose);
            h.update(secret);
            h.finalize()
        };
        let mut id = [0; ID_LEN];
        id.copy_from_slice(&derive(b"id")[..ID_LEN]);
        let cipher = XChaCha20Poly1305::new(&derive(b"key"));
        Ok(VaultKey { id, cipher })
    }

    /// A key read from a file: its bytes less one trailing line ending.
    pub fn from_file(path: impl AsRef<Path>) -> Result<VaultKey, Error> {
        let path = path.as_ref();
        let secret = HashKey::from_file(path)?;
        VaultKey::new(secret.as_bytes()).map_err(|e| Error::file_refused(path, e.to_string()))
    }

    /// The key id in hex, as sealed vaults carry it.
    pub fn id(&self) -> String {
        self.id.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Vault {
    /// The vault encrypted and authenticated with `key`, for a client to
    /// hold until the next call. Each seal draws a fresh nonce.
    pub fn seal(&self, key: &VaultKey) -> Vec<u8> {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.push(VERSION);
        header.extend_from_slice(&key.id);
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plain = encode(self);
        let sealed = key
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: &plain,
                    aad: &header,
                },
            )
            .expect("XChaCha20-Poly1305 seals any length this process can hold");
        let mut out = header;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens a sealed vault with whichever of `keys` sealed it. Bytes that
    /// are not a sealed vault, were changed, or were sealed with another
    /// key are an error; there is never a partial vault. The vault opened
    /// has the default limit ([`Vault::with_max_entries`] changes it).
    ///
    /// `keys` is one key (`[&key]`) or all the keys in service
    /// (`&keys`, a `Vec<VaultKey>`), the one sealing now among them.
    pub fn open<'k>(
        keys: impl IntoIterator<Item = &'k VaultKey>,
        sealed: &[u8],
    ) -> Result<Vault, Error> {
        if sealed.len() < HEADER_LEN + NONCE_LEN || &sealed[..MAGIC.len()] != MAGIC {
            return Err(Error::vault_refused("not a sealed vault"));
        }
        let version = sealed[MAGIC.len()];
        if version != VERSION && version != VERSION_1 {
            return Err(Error::vault_refused(
                "a vault format this version cannot read",
            ));
        }
        let (header, rest) = sealed.split_at(HEADER_LEN);
        let id = &header[MAGIC.len() + 1..];
        let key = keys
            .into_iter()
            .find(|k| k.id == id)
            .ok_or_else(|| Error::vault_refused("sealed with a key that is not configured"))?;
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: header,
                },
            )
            .map_err(|_| Error::vault_refused("the vault was changed or damaged"))?;
        decode(version, &plain)
            .ok_or_else(|| Error::vault_refused("the vault's contents are malformed"))
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn encode(vault: &Vault) -> Vec<u8> {
    let mut out = Vec::new();
    match vault.seed() {
        Some(seed) => {
            out.push(1);
            out.extend_from_slice(seed);
        }
        None => out.push(0),
    }
    let entries = vault.entries();
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for e in entries {
        put_str(&mut out, e.kind.as_str());
        put_str(&mut out, &e.original);
        match &e.pseudonym {
            Pseudonym::Placeholder { label, number } => {
                out.push(0);
                put_str(&mut out, label);
                out.extend_from_slice(&number.to_le_bytes());
            }
            Pseudonym::Surrogate(s) => {
                out.push(1);
                put_str(&mut out, s);
            }
        }
    }
    out
}

fn u32_of(b: &mut &[u8]) -> Option<u32> {
    let (n, rest) = b.split_first_chunk::<4>()?;
    *b = rest;
    Some(u32::from_le_bytes(*n))
}

fn str_of<'a>(b: &mut &'a [u8]) -> Option<&'a str> {
    let n = u32_of(b)? as usize;
    if n > b.len() {
        return None;
    }
    let (s, rest) = b.split_at(n);
    *b = rest;
    std::str::from_utf8(s).ok()
}

fn byte_of(b: &mut &[u8]) -> Option<u8> {
    let (&v, rest) = b.split_first()?;
    *b = rest;
    Some(v)
}

/// Reads what [`encode`] wrote (or version 1 wrote); `None` for anything
/// else.
fn decode(version: u8, mut b: &[u8]) -> Option<Vault> {
    let mut vault = Vault::new();
    if version != VERSION_1 {
        match byte_of(&mut b)? {
            0 => {}
            1 => {
                let (seed, rest) = b.split_first_chunk::<SEED_LEN>()?;
                vault.set_seed(*seed);
                b = rest;
            }
            _ => return None,
        }
    }
    let count = u32_of(&mut b)?;
    for _ in 0..count {
        let kind: Kind = str_of(&mut b)?.parse().ok()?;
        let entry = if version == VERSION_1 {
            let label = str_of(&mut b)?.into();
            let number = u32_of(&mut b)?;
            let original = str_of(&mut b)?.into();
            Entry {
                kind,
                original,
                pseudonym: Pseudonym::Placeholder { label, number },
            }
        } else {
            let original = str_of(&mut b)?.into();
            let pseudonym = match byte_of(&mut b)? {
                0 => Pseudonym::Placeholder {
                    label: str_of(&mut b)?.into(),
                    number: u32_of(&mut b)?,
                },
                1 => Pseudonym::Surrogate(str_of(&mut b)?.into()),
                _ => return None,
            };
            Entry {
                kind,
                original,
                pseudonym,
            }
        };
        vault.push(entry);
    }
    b.is_empty().then_some(vault)
}
