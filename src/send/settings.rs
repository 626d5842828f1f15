//! The SMTP settings of a run: the server, security and sender from `project.yaml`'s
//! `smtp`, with the environment applied (`TMINUS_SMTP_HOST`, `_PORT`, `_USERNAME`,
//! `_PASSWORD`, `_CA_FILE`, `_RETRY_DELAY_MS`, `_TIMEOUT_SECS`), and the retry backoff.
//!
//! Plain text (`security: none`) is refused unless the host — after `TMINUS_SMTP_HOST` is
//! applied — is loopback. Credentials come only from the environment and are never
//! printed: [`Settings`]'s `Debug` leaves the password out.

use std::time::Duration;

use lettre::address::Address;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use crate::model::project::SmtpSecurity;
use crate::project::Project;
use crate::util::is_loopback;

/// How to reach the server; built by [`Settings::from_project`].
#[derive(Clone)]
pub struct Settings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub from: Address,
    username: Option<String>,
    password: Option<String>,
    ca_file: Option<String>,
    pub hello: ClientId,
    pub timeout: Duration,
    pub backoff: Backoff,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .finish_non_exhaustive()
    }
}

/// Retries: `attempts` tries in all, waiting `first`, then twice as long each time, at most
/// `max` between two tries.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub attempts: u32,
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    pub fn delay(&self, retry: u32) -> Duration {
        self.first
            .saturating_mul(2u32.saturating_pow(retry.min(16)))
            .min(self.max)
    }
}

pub const ENV_HOST: &str = "TMINUS_SMTP_HOST";
pub const ENV_PORT: &str = "TMINUS_SMTP_PORT";
pub const ENV_USERNAME: &str = "TMINUS_SMTP_USERNAME";
pub const ENV_PASSWORD: &str = "TMINUS_SMTP_PASSWORD";
pub const ENV_CA_FILE: &str = "TMINUS_SMTP_CA_FILE";
pub const ENV_RETRY_DELAY_MS: &str = "TMINUS_SMTP_RETRY_DELAY_MS";
pub const ENV_TIMEOUT_SECS: &str = "TMINUS_SMTP_TIMEOUT_SECS";

impl Settings {
    /// The settings of `project`, with `env` (normally `std::env::var`) applied.
    pub fn from_project(
        project: &Project,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Settings, String> {
        let smtp = project.smtp.clone().unwrap_or_default();
        let security = smtp.security.unwrap_or(SmtpSecurity::Starttls);
        let host = env(ENV_HOST)
            .filter(|h| !h.trim().is_empty())
            .or(smtp.host)
            .ok_or_else(|| {
                format!("no SMTP server: set `smtp.host` in content/project.yaml or {ENV_HOST}")
            })?;
        let port = match env(ENV_PORT).filter(|p| !p.trim().is_empty()) {
            Some(p) => p
                .trim()
                .parse::<u16>()
                .map_err(|_| format!("{ENV_PORT} must be a port number, not `{p}`"))?,
            None => smtp.port.unwrap_or(match security {
                SmtpSecurity::Starttls => 587,
                SmtpSecurity::Tls => 465,
                SmtpSecurity::None => 25,
            }),
        };
        if security == SmtpSecurity::None && !is_loopback(&host) {
            return Err(format!(
                "`security: none` is only allowed for a loopback host, not `{host}`; use `starttls` or `tls`"
            ));
        }
        let from_text = smtp
            .from
            .ok_or("no sender: set `smtp.from` in content/project.yaml")?;
        let from = from_text
            .parse::<lettre::message::Mailbox>()
            .map_err(|e| format!("`smtp.from` is not an address: {e}"))?
            .email;
        let username = env(ENV_USERNAME).filter(|s| !s.is_empty());
        let password = env(ENV_PASSWORD).filter(|s| !s.is_empty());
        if username.is_some() != password.is_some() {
            return Err(format!(
                "set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither"
            ));
        }
        let first_ms = match env(ENV_RETRY_DELAY_MS) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{ENV_RETRY_DELAY_MS} must be a number of milliseconds"))?,
            None => 1000,
        };
        let timeout = match env(ENV_TIMEOUT_SECS) {
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("{ENV_TIMEOUT_SECS} must be a number of seconds"))?,
            None => 60,
        };
        Ok(Settings {
            host,
            port,
            security,
            from,
            username,
            password,
            ca_file: env(ENV_CA_FILE).filter(|s| !s.is_empty()),
            hello: hello_name(),
            timeout: Duration::from_secs(timeout.max(1)),
            backoff: Backoff {
                attempts: 6,
                first: Duration::from_millis(first_ms),
                max: Duration::from_millis(first_ms.saturating_mul(30))
                    .min(Duration::from_secs(60)),
            },
        })
    }

    pub fn has_credentials(&self) -> bool {
        self.username.is_some()
    }

    /// The user name and password from the environment, when both are set.
    pub(super) fn credentials(&self) -> Option<Credentials> {
        match (&self.username, &self.password) {
            (Some(user), Some(pass)) => Some(Credentials::new(user.clone(), pass.clone())),
            _ => None,
        }
    }

    /// `smtp://host:port` (no credentials), for messages.
    pub fn describe(&self) -> String {
        let scheme = match self.security {
            SmtpSecurity::Starttls => "smtp+starttls",
            SmtpSecurity::Tls => "smtps",
            SmtpSecurity::None => "smtp",
        };
        format!("{scheme}://{}:{}", self.host, self.port)
    }

    pub(super) fn tls_parameters(&self) -> Result<TlsParameters, String> {
        let mut builder = TlsParameters::builder(self.host.clone());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read {ENV_CA_FILE} `{path}`: {e}"))?;
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| format!("{ENV_CA_FILE} `{path}` is not a PEM certificate: {e}"))?;
            builder = builder.add_root_certificate(cert);
        }
        builder
            .build_rustls()
            .map_err(|e| format!("cannot set up TLS: {e}"))
    }
}

/// The name given in EHLO: the machine's host name when it is a plausible domain.
fn hello_name() -> ClientId {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .unwrap_or_default();
    let name = name.trim();
    if !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        ClientId::Domain(name.to_string())
    } else {
        ClientId::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::project::SmtpFile;

    fn project(security: SmtpSecurity, host: &str) -> Project {
        let mut p = crate::load::load(&std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/minimal"
        )))
        .expect("fixture loads");
        p.smtp = Some(SmtpFile {
            host: Some(host.into()),
            port: None,
            security: Some(security),
            from: Some("Go-live <golive@example.com>".into()),
            reply_to: None,
        });
        p
    }

    #[test]
    fn plain_text_only_to_loopback_even_via_the_environment() {
        let p = project(SmtpSecurity::None, "127.0.0.1");
        let none = |_: &str| None;
        let s = Settings::from_project(&p, &none).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 25));
        let elsewhere = |k: &str| (k == ENV_HOST).then(|| "smtp.example.com".to_string());
        let err = Settings::from_project(&p, &elsewhere).unwrap_err();
        assert!(err.contains("loopback"), "{err}");
    }

    #[test]
    fn ports_default_by_security_and_env_overrides() {
        let p = project(SmtpSecurity::Tls, "smtp.example.com");
        let s = Settings::from_project(&p, &|_| None).unwrap();
        assert_eq!(s.port, 465);
        // A reply later than this after the message leaves it in doubt.
        assert_eq!(s.timeout, Duration::from_secs(60));
        let p = project(SmtpSecurity::Starttls, "smtp.example.com");
        let env = |k: &str| match k {
            ENV_PORT => Some("2587".to_string()),
            ENV_USERNAME => Some("robot".to_string()),
            ENV_PASSWORD => Some("s3cret-pw".to_string()),
            _ => None,
        };
        let s = Settings::from_project(&p, &env).unwrap();
        assert_eq!(s.port, 2587);
        assert!(s.has_credentials());
        assert!(!format!("{s:?}").contains("s3cret-pw"));
        let half = |k: &str| (k == ENV_PASSWORD).then(|| "x".to_string());
        assert!(Settings::from_project(&p, &half).is_err());
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let b = Backoff {
            attempts: 6,
            first: Duration::from_millis(100),
            max: Duration::from_millis(500),
        };
        let d: Vec<u128> = (0..5).map(|i| b.delay(i).as_millis()).collect();
        assert_eq!(d, [100, 200, 400, 500, 500]);
    }
}
