//! The paid plans: prices in USD cents and period lengths (PRODUCT §1).

use serde::{Deserialize, Serialize};

use super::tier::Tier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    Pro,
    Premium,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingCycle {
    Monthly,
    Yearly,
}

/// A plan bought for a cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlanChoice {
    pub plan: Plan,
    pub cycle: BillingCycle,
}

impl Plan {
    pub fn tier(self) -> Tier {
        match self {
            Self::Pro => Tier::Pro,
            Self::Premium => Tier::Premium,
        }
    }
}

impl BillingCycle {
    /// The length of one paid period.
    pub fn period(self) -> time::Duration {
        match self {
            Self::Monthly => time::Duration::days(30),
            Self::Yearly => time::Duration::days(365),
        }
    }
}

impl PlanChoice {
    /// The price in US cents: Pro 19/190, Premium 49/490.
    pub fn price_cents(self) -> u64 {
        match (self.plan, self.cycle) {
            (Plan::Pro, BillingCycle::Monthly) => 1_900,
            (Plan::Pro, BillingCycle::Yearly) => 19_000,
            (Plan::Premium, BillingCycle::Monthly) => 4_900,
            (Plan::Premium, BillingCycle::Yearly) => 49_000,
        }
    }

    /// Whole seconds of `plan` that `cents` buy at this choice's daily rate
    /// (proration: credit for unused time converted into time of another plan).
    pub fn seconds_for_cents(self, cents: u64) -> i64 {
        let period = self.cycle.period().whole_seconds().unsigned_abs();
        let seconds = u128::from(cents) * u128::from(period) / u128::from(self.price_cents());
        i64::try_from(seconds).unwrap_or(i64::MAX)
    }

    /// The value in cents of `remaining` unused time of this choice (rounded down).
    pub fn cents_for(self, remaining: time::Duration) -> u64 {
        let remaining = remaining.whole_seconds().max(0).unsigned_abs();
        let period = self.cycle.period().whole_seconds().unsigned_abs();
        let cents = u128::from(self.price_cents()) * u128::from(remaining) / u128::from(period);
        u64::try_from(cents).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_and_periods_are_the_product_table() {
        let choice = |plan, cycle| PlanChoice { plan, cycle };
        assert_eq!(
            choice(Plan::Pro, BillingCycle::Monthly).price_cents(),
            1_900
        );
        assert_eq!(
            choice(Plan::Pro, BillingCycle::Yearly).price_cents(),
            19_000
        );
        assert_eq!(
            choice(Plan::Premium, BillingCycle::Monthly).price_cents(),
            4_900
        );
        assert_eq!(
            choice(Plan::Premium, BillingCycle::Yearly).price_cents(),
            49_000
        );
        assert_eq!(BillingCycle::Monthly.period(), time::Duration::days(30));
        assert_eq!(BillingCycle::Yearly.period(), time::Duration::days(365));
    }

    #[test]
    fn unused_time_converts_at_daily_rates() {
        let pro = PlanChoice {
            plan: Plan::Pro,
            cycle: BillingCycle::Monthly,
        };
        let premium = PlanChoice {
            plan: Plan::Premium,
            cycle: BillingCycle::Monthly,
        };
        // Half a Pro month is worth 9.50 USD, which buys 950/4900 of a Premium month.
        let credit = pro.cents_for(time::Duration::days(15));
        assert_eq!(credit, 950);
        assert_eq!(premium.seconds_for_cents(credit), 950 * 30 * 86_400 / 4_900);
    }
}
