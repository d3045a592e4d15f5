//! Parsed value objects of an account: construct them with `parse`, and a
//! value that exists is valid.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An account's id (UUID v7, chosen by the caller at registration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(Uuid);

impl AccountId {
    pub fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    pub fn parse(text: &str) -> Option<Self> {
        Uuid::parse_str(text).ok().map(Self)
    }

    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why an email address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is required")]
    Empty,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("is not a valid email address")]
    Malformed,
}

/// An email address, trimmed and normalised to lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let email = text.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(EmailError::Malformed);
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Self(email))
        } else {
            Err(EmailError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why a username was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameError {
    #[error("must be 3 to 30 characters")]
    Length,
    #[error("may contain only letters A-Z, digits and underscores")]
    Characters,
}

/// A username: 3-30 of `[A-Za-z0-9_]`, shown as typed, unique regardless of case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(text: &str) -> Result<Self, UsernameError> {
        let name = text.trim();
        if !(3..=30).contains(&name.chars().count()) {
            return Err(UsernameError::Length);
        }
        if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(UsernameError::Characters);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness is decided on.
    pub fn normalized(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// Why a password was refused (PRODUCT §2 policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least 8 characters")]
    TooShort,
    #[error("must be at most 128 characters")]
    TooLong,
    #[error("must contain a lower-case letter")]
    NoLowercase,
    #[error("must contain an upper-case letter")]
    NoUppercase,
    #[error("must contain a digit")]
    NoDigit,
    #[error("is too common")]
    Common,
}

const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// A plain-text password that satisfies the policy. It never leaves the
/// process: only its Argon2id hash is stored. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    pub fn parse(text: &str) -> Result<Self, PasswordError> {
        let length = text.chars().count();
        if length < 8 {
            return Err(PasswordError::TooShort);
        }
        if length > 128 {
            return Err(PasswordError::TooLong);
        }
        if !text.chars().any(char::is_lowercase) {
            return Err(PasswordError::NoLowercase);
        }
        if !text.chars().any(char::is_uppercase) {
            return Err(PasswordError::NoUppercase);
        }
        if !text.chars().any(|c| c.is_ascii_digit()) {
            return Err(PasswordError::NoDigit);
        }
        let lowered = text.to_lowercase();
        if COMMON_PASSWORDS
            .lines()
            .map(str::trim)
            .any(|common| !common.is_empty() && common == lowered)
        {
            return Err(PasswordError::Common);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// One refused field, named as the API names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Every refused field of a registration at once, so a form can show them all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid registration: {}", .fields.iter().map(|f| f.field).collect::<Vec<_>>().join(", "))]
pub struct RegistrationInvalid {
    pub fields: Vec<FieldError>,
}

/// A registration request whose every field parsed.
#[derive(Debug, Clone)]
pub struct Registration {
    pub email: Email,
    pub username: Username,
    pub password: Password,
}

impl Registration {
    pub fn parse(email: &str, username: &str, password: &str) -> Result<Self, RegistrationInvalid> {
        let email = Email::parse(email);
        let username = Username::parse(username);
        let password = Password::parse(password);
        match (email, username, password) {
            (Ok(email), Ok(username), Ok(password)) => Ok(Self {
                email,
                username,
                password,
            }),
            (email, username, password) => {
                let mut fields = Vec::new();
                if let Err(e) = email {
                    fields.push(FieldError {
                        field: "email",
                        message: e.to_string(),
                    });
                }
                if let Err(e) = username {
                    fields.push(FieldError {
                        field: "username",
                        message: e.to_string(),
                    });
                }
                if let Err(e) = password {
                    fields.push(FieldError {
                        field: "password",
                        message: e.to_string(),
                    });
                }
                Err(RegistrationInvalid { fields })
            }
        }
    }
}
