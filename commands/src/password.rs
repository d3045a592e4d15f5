//! Password hashing: Argon2id with the PRODUCT §2 parameters, computed on
//! the blocking pool with bounded concurrency so hashing never stalls the
//! async runtime and a burst of sign-ins cannot exhaust memory (each hash
//! takes 19 MiB).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("the password hashing pool is shut down")]
    PoolClosed,
}

#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string for `password`.
    async fn hash(&self, password: &str) -> Result<String, HashError>;
    /// Whether `password` matches `phc`. A malformed `phc` never matches.
    async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError>;
    /// Spends the same work as a real verification and always fails, so an
    /// unknown account answers no faster than a known one.
    async fn verify_dummy(&self, password: &str) -> Result<bool, HashError>;
}

/// Argon2id, m = 19456 KiB, t = 2, p = 1.
#[derive(Debug, Clone)]
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    dummy_phc: Arc<str>,
}

pub const ARGON2_MEMORY_KIB: u32 = 19_456;
pub const ARGON2_ITERATIONS: u32 = 2;
pub const ARGON2_PARALLELISM: u32 = 1;

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(
        ARGON2_MEMORY_KIB,
        ARGON2_ITERATIONS,
        ARGON2_PARALLELISM,
        None,
    )
    .map_err(|e| HashError::Hashing(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError::Hashing(e.to_string()))
}

fn verify_blocking(password: &str, phc: &str) -> Result<bool, HashError> {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return Ok(false);
    };
    Ok(argon2()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

impl Argon2Hasher {
    /// `concurrency` hashes may run at once; more wait their turn.
    pub fn new(concurrency: usize) -> Result<Self, HashError> {
        let dummy = "a password nobody has: the salt makes the hash unique";
        Ok(Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy_phc: hash_blocking(dummy)?.into(),
        })
    }

    async fn off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| HashError::PoolClosed)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| HashError::Hashing(e.to_string()))?
    }
}

#[async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_owned();
        self.off_runtime(move || hash_blocking(&password)).await
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        let (password, phc) = (password.to_owned(), phc.to_owned());
        self.off_runtime(move || verify_blocking(&password, &phc))
            .await
    }

    async fn verify_dummy(&self, password: &str) -> Result<bool, HashError> {
        let (password, phc) = (password.to_owned(), self.dummy_phc.to_string());
        self.off_runtime(move || verify_blocking(&password, &phc))
            .await
            .map(|_| false)
    }
}

/// A cheap, deterministic stand-in for tests and benchmarks: "hashes" are
/// `fake$<password>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct FakePasswordHasher;

#[async_trait]
impl PasswordHasher for FakePasswordHasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        Ok(format!("fake${password}"))
    }

    async fn verify(&self, password: &str, phc: &str) -> Result<bool, HashError> {
        Ok(phc.strip_prefix("fake$") == Some(password))
    }

    async fn verify_dummy(&self, _password: &str) -> Result<bool, HashError> {
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn argon2id_hashes_with_the_required_parameters_and_verifies() {
        let hasher = Argon2Hasher::new(2).unwrap();
        let phc = hasher.hash("Correct-Horse-9").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(hasher.verify("Correct-Horse-9", &phc).await.unwrap());
        assert!(!hasher.verify("correct-horse-9", &phc).await.unwrap());
        assert!(!hasher.verify("Correct-Horse-9", "not a phc").await.unwrap());
        assert!(!hasher.verify_dummy("Correct-Horse-9").await.unwrap());
    }
}
