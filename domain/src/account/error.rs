//! Why an account command was refused.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the account is already registered")]
    AlreadyRegistered,
    #[error("no such account")]
    NotRegistered,
    #[error("the link is invalid or was already used")]
    InvalidToken,
    #[error("the link has expired")]
    TokenExpired,
    #[error("the address is already verified")]
    AlreadyVerified,
    #[error("the password is wrong")]
    WrongPassword,
    #[error("two-factor authentication is already enabled")]
    TwoFactorAlreadyEnabled,
    #[error("two-factor authentication is not enabled")]
    TwoFactorNotEnabled,
    #[error("an admin cannot change their own role or deactivate themselves")]
    CannotActOnSelf,
    #[error("the account is deactivated")]
    Deactivated,
}
