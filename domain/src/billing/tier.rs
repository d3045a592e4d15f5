//! The tier table (PRODUCT §1) as data plus the functions that read it.
//! Every gated path asks [`Tier::policy`]; nothing else hard-codes a limit.

use serde::{Deserialize, Serialize};

use crate::market::PatternType;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    Free,
    Pro,
    Premium,
}

/// A countable allowance: none at all, up to a number, or no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Denied,
    UpTo(u32),
    Unlimited,
}

impl Access {
    pub fn is_allowed(self) -> bool {
        self != Self::Denied
    }

    /// Whether one more is allowed when `used` are already taken.
    pub fn allows_another(self, used: u32) -> bool {
        match self {
            Self::Denied => false,
            Self::UpTo(limit) => used < limit,
            Self::Unlimited => true,
        }
    }

    /// At most how many of a list may be shown (`None`: all).
    pub fn cap(self) -> Option<u32> {
        match self {
            Self::Denied => Some(0),
            Self::UpTo(limit) => Some(limit),
            Self::Unlimited => None,
        }
    }
}

/// Which symbols a tier sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolAccess {
    /// BTC/USDT only.
    BitcoinOnly,
    /// The admin-configurable pro list (BTC, ETH, XRP, BNB, SOL /USDT by default).
    ProList,
    /// Every active symbol.
    AllActive,
}

/// The symbol every tier sees.
pub const FREE_SYMBOL: &str = "BTC/USDT";
/// The pro list until an admin changes it.
pub const DEFAULT_PRO_SYMBOLS: [&str; 5] =
    ["BTC/USDT", "ETH/USDT", "XRP/USDT", "BNB/USDT", "SOL/USDT"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TierPolicy {
    pub symbols: SymbolAccess,
    pub pattern_types: &'static [PatternType],
    /// The dashboard matrix shows everything (else only the tier's symbols and types).
    pub full_matrix: bool,
    /// The patterns page and how many of the newest patterns it lists.
    pub patterns_page: Access,
    pub signals_page: Access,
    pub analytics_page: bool,
    /// Active portfolios.
    pub portfolios: Access,
    /// Trades created per UTC day.
    pub trades_per_day: Access,
    pub backtests: bool,
    pub api_keys: bool,
    /// Notifications delivered per UTC day.
    pub notifications_per_day: Access,
    pub notification_delay_minutes: u32,
}

const FREE: TierPolicy = TierPolicy {
    symbols: SymbolAccess::BitcoinOnly,
    pattern_types: &[PatternType::Imbalance],
    full_matrix: false,
    patterns_page: Access::Denied,
    signals_page: Access::Denied,
    analytics_page: false,
    portfolios: Access::Denied,
    trades_per_day: Access::Denied,
    backtests: false,
    api_keys: false,
    notifications_per_day: Access::UpTo(1),
    notification_delay_minutes: 10,
};

const PRO: TierPolicy = TierPolicy {
    symbols: SymbolAccess::ProList,
    pattern_types: &PatternType::ALL,
    full_matrix: true,
    patterns_page: Access::UpTo(100),
    signals_page: Access::UpTo(50),
    analytics_page: true,
    portfolios: Access::UpTo(1),
    trades_per_day: Access::UpTo(5),
    backtests: false,
    api_keys: false,
    notifications_per_day: Access::UpTo(20),
    notification_delay_minutes: 0,
};

const PREMIUM: TierPolicy = TierPolicy {
    symbols: SymbolAccess::AllActive,
    pattern_types: &PatternType::ALL,
    full_matrix: true,
    patterns_page: Access::Unlimited,
    signals_page: Access::Unlimited,
    analytics_page: true,
    portfolios: Access::Unlimited,
    trades_per_day: Access::Unlimited,
    backtests: true,
    api_keys: true,
    notifications_per_day: Access::Unlimited,
    notification_delay_minutes: 0,
};

impl Tier {
    pub fn policy(self) -> &'static TierPolicy {
        match self {
            Self::Free => &FREE,
            Self::Pro => &PRO,
            Self::Premium => &PREMIUM,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Pro => "pro",
            Self::Premium => "premium",
        }
    }

    /// The tier named `name` (`free`, `pro`, `premium`), if any.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Free, Self::Pro, Self::Premium]
            .into_iter()
            .find(|tier| tier.as_str() == name)
    }
}

impl TierPolicy {
    /// Whether `symbol` is visible, given the current pro list.
    pub fn allows_symbol<S: AsRef<str>>(&self, symbol: &str, pro_list: &[S]) -> bool {
        match self.symbols {
            SymbolAccess::BitcoinOnly => symbol == FREE_SYMBOL,
            SymbolAccess::ProList => pro_list.iter().any(|s| s.as_ref() == symbol),
            SymbolAccess::AllActive => true,
        }
    }

    /// Signal pushes per UTC day (`None`: no limit; `Some(0)`: none).
    pub fn notification_cap(&self) -> Option<u32> {
        self.notifications_per_day.cap()
    }

    /// How long the tier's signal pushes wait before they go out.
    pub fn notification_delay(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.notification_delay_minutes) * 60)
    }

    pub fn allows_pattern(&self, pattern: PatternType) -> bool {
        self.pattern_types.contains(&pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_product_section_one() {
        let free = Tier::Free.policy();
        assert_eq!(free.pattern_types, &[PatternType::Imbalance]);
        assert_eq!(
            (
                free.patterns_page,
                free.signals_page,
                free.portfolios,
                free.trades_per_day
            ),
            (
                Access::Denied,
                Access::Denied,
                Access::Denied,
                Access::Denied
            )
        );
        assert_eq!(
            (free.notifications_per_day, free.notification_delay_minutes),
            (Access::UpTo(1), 10)
        );
        assert!(!free.analytics_page && !free.backtests && !free.api_keys && !free.full_matrix);

        let pro = Tier::Pro.policy();
        assert_eq!(pro.pattern_types.len(), 3);
        assert_eq!(
            (pro.patterns_page, pro.signals_page),
            (Access::UpTo(100), Access::UpTo(50))
        );
        assert_eq!(
            (pro.portfolios, pro.trades_per_day),
            (Access::UpTo(1), Access::UpTo(5))
        );
        assert_eq!(
            (pro.notifications_per_day, pro.notification_delay_minutes),
            (Access::UpTo(20), 0)
        );
        assert!(pro.analytics_page && !pro.backtests && !pro.api_keys);

        let premium = Tier::Premium.policy();
        assert_eq!(premium.patterns_page, Access::Unlimited);
        assert_eq!(premium.trades_per_day, Access::Unlimited);
        assert!(premium.backtests && premium.api_keys);
    }

    #[test]
    fn symbols_follow_the_tier() {
        let pro_list: Vec<String> = DEFAULT_PRO_SYMBOLS
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert!(Tier::Free.policy().allows_symbol("BTC/USDT", &pro_list));
        assert!(!Tier::Free.policy().allows_symbol("ETH/USDT", &pro_list));
        assert!(Tier::Pro.policy().allows_symbol("SOL/USDT", &pro_list));
        assert!(!Tier::Pro.policy().allows_symbol("ADA/USDT", &pro_list));
        assert!(Tier::Premium.policy().allows_symbol("ADA/USDT", &pro_list));
    }

    #[test]
    fn allowances_count() {
        assert!(!Access::Denied.allows_another(0));
        assert!(Access::UpTo(5).allows_another(4));
        assert!(!Access::UpTo(5).allows_another(5));
        assert!(Access::Unlimited.allows_another(u32::MAX));
        assert_eq!(Access::UpTo(100).cap(), Some(100));
        assert_eq!(Access::Unlimited.cap(), None);
        assert!(Tier::Free < Tier::Pro && Tier::Pro < Tier::Premium);
    }
}
