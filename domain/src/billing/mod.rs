//! What a user may use, and what it costs: the tier table of PRODUCT §1 as
//! data ([`tier`]), the paid plans ([`plan`]), and the subscription
//! aggregate that decides a user's tier at any moment ([`subscription`]).

pub mod payment;
pub mod plan;
pub mod subscription;
pub mod tier;

pub use plan::{BillingCycle, Plan, PlanChoice};
pub use tier::{Access, DEFAULT_PRO_SYMBOLS, FREE_SYMBOL, SymbolAccess, Tier, TierPolicy};
