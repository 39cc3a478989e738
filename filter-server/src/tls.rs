//! TLS 1.3 only, with optional client-certificate authentication, and
//! warnings at start for material that works today but should not: an
//! expired certificate, a private key others can read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{version, RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsFiles;

/// TLS material that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file cannot be read or parsed.
    #[error("{setting} {}: {reason}", path.display())]
    File {
        /// The flag naming the file.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the configuration.
    #[error("TLS: {0}")]
    Config(#[from] tokio_rustls::rustls::Error),
}

fn file_error(setting: &'static str, path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        setting,
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn certs(path: &Path, setting: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| file_error(setting, path, e))?;
    if certs.is_empty() {
        return Err(file_error(setting, path, "no certificate in the file"));
    }
    Ok(certs)
}

/// The acceptors of the listeners: TLS 1.3 and nothing older, the same
/// certificate and client verification; gRPC offers HTTP/2 only, the
/// HTTP listener HTTP/2 and HTTP/1.1.
pub struct Acceptors {
    /// For the gRPC listener.
    pub grpc: TlsAcceptor,
    /// For the HTTP/JSON listener.
    pub http: TlsAcceptor,
}

/// The acceptors for `files` (read and checked once).
pub fn acceptors(files: &TlsFiles) -> Result<Acceptors, TlsError> {
    let config = server_config(files)?;
    let with_alpn = |protocols: &[&[u8]]| {
        let mut config = config.clone();
        config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
        TlsAcceptor::from(Arc::new(config))
    };
    Ok(Acceptors {
        grpc: with_alpn(&[b"h2"]),
        http: with_alpn(&[b"h2", b"http/1.1"]),
    })
}

/// A server configuration that speaks TLS 1.3 and nothing older.
fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let chain = certs(&files.cert, "--tls-cert")?;
    warn_if_expired(&chain[0], &files.cert);
    warn_if_readable_by_others(&files.key);
    let key = PrivateKeyDer::from_pem_file(&files.key)
        .map_err(|e| file_error("--tls-key", &files.key, e))?;
    let provider = Arc::new(default_provider());
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&version::TLS13])?;
    let builder = match &files.client_ca {
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for cert in certs(ca, "--tls-client-ca")? {
                roots
                    .add(cert)
                    .map_err(|e| file_error("--tls-client-ca", ca, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .map_err(|e| file_error("--tls-client-ca", ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    Ok(builder.with_single_cert(chain, key)?)
}

fn warn_if_expired(cert: &CertificateDer<'_>, path: &Path) {
    let Some(not_after) = not_after(cert) else {
        tracing::warn!(file = %path.display(), "cannot read the certificate's expiry date");
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if not_after < now {
        tracing::warn!(
            file = %path.display(),
            expired_days_ago = (now - not_after) / 86_400,
            "the TLS certificate has expired: clients that check it will refuse to connect"
        );
    } else if not_after - now < 14 * 86_400 {
        tracing::warn!(
            file = %path.display(),
            days_left = (not_after - now) / 86_400,
            "the TLS certificate expires soon"
        );
    }
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the TLS private key can be read by other users: chmod 600 it"
                );
            }
        }
    }
}

/// The `notAfter` time of a certificate, in seconds since 1970, read from
/// its DER: Certificate, TBSCertificate, then past the optional version,
/// the serial number, the signature algorithm and the issuer, Validity.
fn not_after(cert: &[u8]) -> Option<i64> {
    let (_, cert_body, _) = tlv(cert)?;
    let (_, tbs, _) = tlv(cert_body)?;
    let mut rest = tbs;
    if rest.first() == Some(&0xA0) {
        rest = tlv(rest)?.2; // [0] version
    }
    for _ in 0..3 {
        rest = tlv(rest)?.2; // serial number, signature algorithm, issuer
    }
    let (_, validity, _) = tlv(rest)?;
    let after_not_before = tlv(validity)?.2;
    let (tag, time, _) = tlv(after_not_before)?;
    parse_time(tag, time)
}

/// One DER element: its tag, its contents and what follows it.
fn tlv(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7F);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |a, &b| a << 8 | usize::from(b));
        (len, &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// UTCTime (`YYMMDDHHMMSSZ`) or GeneralizedTime (`YYYYMMDDHHMMSSZ`).
fn parse_time(tag: u8, time: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(time).ok()?.strip_suffix('Z')?;
    let num = |a: usize, b: usize| s.get(a..b)?.parse::<i64>().ok();
    let (year, at) = match tag {
        0x17 => {
            let yy = num(0, 2)?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, 2)
        }
        0x18 => (num(0, 4)?, 4),
        _ => return None,
    };
    let (month, day) = (num(at, at + 2)?, num(at + 2, at + 4)?);
    let (h, m, sec) = (
        num(at + 4, at + 6)?,
        num(at + 6, at + 8)?,
        num(at + 8, at + 10)?,
    );
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + sec)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_of_a_generated_certificate() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
        params.not_after = rcgen::date_time_ymd(2031, 7, 9);
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        // 2031-07-09T00:00:00Z, from `date -u -d 2031-07-09 +%s`.
        assert_eq!(not_after(cert.der()), Some(1_941_321_600));
        params.not_after = rcgen::date_time_ymd(2049, 12, 31);
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(not_after(cert.der()), Some(2_524_521_600));
        // From 2050 on, certificates carry a GeneralizedTime.
        params.not_after = rcgen::date_time_ymd(2051, 1, 1);
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(not_after(cert.der()), Some(2_556_144_000));
        assert_eq!(not_after(b"not der"), None);
    }

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
