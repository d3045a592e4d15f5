//! Capabilities the use cases need from the outside world.

use std::sync::Mutex;

use time::OffsetDateTime;

pub use crate::password::PasswordHasher;

/// The current time.
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FakeClock(Mutex<OffsetDateTime>);

impl FakeClock {
    pub fn at(now: OffsetDateTime) -> Self {
        Self(Mutex::new(now))
    }

    pub fn advance(&self, by: time::Duration) {
        if let Ok(mut now) = self.0.lock() {
            *now += by;
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        self.0
            .lock()
            .map(|now| *now)
            .unwrap_or_else(|poisoned| *poisoned.into_inner())
    }
}

/// A failure of a port's backing service.
pub type PortError = Box<dyn std::error::Error + Send + Sync>;

/// Where each account's TOTP secret is kept (sealed at rest by the
/// adapter). Whether 2FA is *on* is the account aggregate's business: a
/// secret stored for an account without `TwoFactorEnrolled` is an
/// unconfirmed enrolment.
#[async_trait::async_trait]
pub trait TotpSecrets: Send + Sync {
    async fn load(&self, account: uuid::Uuid) -> Result<Option<Vec<u8>>, PortError>;
    async fn store(&self, account: uuid::Uuid, secret: &[u8]) -> Result<(), PortError>;
    async fn delete(&self, account: uuid::Uuid) -> Result<(), PortError>;
}

/// In-memory secrets for tests.
#[derive(Debug, Default)]
pub struct MemTotpSecrets(Mutex<std::collections::HashMap<uuid::Uuid, Vec<u8>>>);

#[async_trait::async_trait]
impl TotpSecrets for MemTotpSecrets {
    async fn load(&self, account: uuid::Uuid) -> Result<Option<Vec<u8>>, PortError> {
        Ok(self
            .0
            .lock()
            .map_err(|_| "poisoned")?
            .get(&account)
            .cloned())
    }

    async fn store(&self, account: uuid::Uuid, secret: &[u8]) -> Result<(), PortError> {
        self.0
            .lock()
            .map_err(|_| "poisoned")?
            .insert(account, secret.to_vec());
        Ok(())
    }

    async fn delete(&self, account: uuid::Uuid) -> Result<(), PortError> {
        self.0.lock().map_err(|_| "poisoned")?.remove(&account);
        Ok(())
    }
}
