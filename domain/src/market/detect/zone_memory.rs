//! Accepted-zone memory for in-memory de-duplication (ALGORITHMS §2.3).
//!
//! The original compares every candidate with every zone accepted so far
//! (O(n²) over a long series). A zone can only reach a positive overlap
//! ratio with zones it actually intersects, so this memory indexes accepted
//! zones by their low, grouped by the binary exponent of their width: within
//! a group all widths are below `max_width`, so every zone intersecting
//! `[low, high]` has its low in `(low - 2 * max_width, high)`. Only those are
//! compared, with the exact ratio of §2.2. The answer ("does any accepted
//! zone overlap by the threshold or more") is the same as the full scan.

use std::collections::BTreeMap;

use super::overlap_ratio;

/// Zones of one width class, keyed by `(low as bits, insertion number)`.
#[derive(Debug, Default)]
struct WidthClass {
    exponent: u64,
    max_width: f64,
    zones: BTreeMap<(u64, u32), f64>,
}

/// The accepted zones of one direction.
#[derive(Debug)]
pub(super) struct ZoneMemory {
    threshold: f64,
    classes: Vec<WidthClass>,
    inserted: u32,
}

impl ZoneMemory {
    pub(super) fn new(threshold: f64) -> Self {
        ZoneMemory {
            threshold,
            classes: Vec::new(),
            inserted: 0,
        }
    }

    /// Whether any remembered zone overlaps `[low, high]` with a ratio at or
    /// above the threshold. Requires `0 < low < high` (true for every zone
    /// that passed the size filter).
    pub(super) fn overlaps_any(&self, low: f64, high: f64) -> bool {
        self.classes.iter().any(|class| {
            let from = (low - 2.0 * class.max_width).max(0.0).to_bits();
            class
                .zones
                .range((from, 0)..(high.to_bits(), 0))
                .any(|(&(low_bits, _), &zone_high)| {
                    overlap_ratio(low, high, f64::from_bits(low_bits), zone_high) >= self.threshold
                })
        })
    }

    /// Remembers an accepted zone (`0 < low < high`).
    pub(super) fn insert(&mut self, low: f64, high: f64) {
        let width = high - low;
        let exponent = width.to_bits() >> 52;
        let position = match self.classes.iter().position(|c| c.exponent == exponent) {
            Some(position) => position,
            None => {
                self.classes.push(WidthClass {
                    exponent,
                    ..WidthClass::default()
                });
                self.classes.len() - 1
            }
        };
        if let Some(class) = self.classes.get_mut(position) {
            if width > class.max_width {
                class.max_width = width;
            }
            class.zones.insert((low.to_bits(), self.inserted), high);
        }
        self.inserted = self.inserted.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_contained_zone_overlaps_fully() {
        let mut memory = ZoneMemory::new(0.7);
        memory.insert(100.0, 200.0);
        assert!(memory.overlaps_any(120.0, 121.0));
        assert!(memory.overlaps_any(50.0, 400.0));
        assert!(!memory.overlaps_any(200.0, 300.0));
        assert!(!memory.overlaps_any(10.0, 20.0));
    }

    #[test]
    fn the_threshold_is_inclusive() {
        let mut memory = ZoneMemory::new(0.5);
        memory.insert(1.0, 2.0);
        assert!(memory.overlaps_any(1.5, 3.0)); // ratio exactly 0.5
        assert!(!memory.overlaps_any(1.75, 3.0));
    }

    #[test]
    fn narrow_zones_far_below_a_wide_one_are_still_found() {
        let mut memory = ZoneMemory::new(0.7);
        memory.insert(1.0, 1.001);
        memory.insert(0.5, 100.0);
        assert!(memory.overlaps_any(90.0, 91.0));
        assert!(memory.overlaps_any(1.0, 1.0008));
    }

    /// Zones `[low, low * (1 + width)]` crowded into 5 % of price around
    /// `scale`, so that many of them overlap, with a few very wide ones.
    fn zones(
        scale: f64,
        count: std::ops::Range<usize>,
    ) -> impl proptest::strategy::Strategy<Value = Vec<(f64, f64)>> {
        use proptest::prelude::*;
        let width = prop_oneof![8 => 0.0015f64..0.01, 2 => 0.01f64..0.05, 1 => 0.05f64..20.0];
        proptest::collection::vec((0.0f64..0.05, width), count).prop_map(move |v| {
            v.into_iter()
                .map(|(at, w)| (scale * (1.0 + at), scale * (1.0 + at) * (1.0 + w)))
                .collect()
        })
    }

    /// Accepted zones, query zones and the threshold of one case.
    type Case = (Vec<(f64, f64)>, Vec<(f64, f64)>, f64);

    fn case() -> impl proptest::strategy::Strategy<Value = Case> {
        use proptest::prelude::*;
        (
            prop_oneof![Just(3.9e-5), Just(0.09), Just(1.0), Just(42_000.0)],
            0.05f64..1.0,
        )
            .prop_flat_map(|(scale, threshold)| {
                (
                    zones(scale, 0..80),
                    zones(scale, 1..80),
                    prop_oneof![Just(0.7), Just(threshold)],
                )
            })
    }

    proptest::proptest! {
        #[test]
        fn answers_like_a_scan_of_every_accepted_zone((accepted, queries, threshold) in case()) {
            let mut memory = ZoneMemory::new(threshold);
            for &(low, high) in &accepted {
                memory.insert(low, high);
            }
            for &(low, high) in queries.iter().chain(&accepted) {
                let scan = accepted.iter().any(|&(l, h)| overlap_ratio(low, high, l, h) >= threshold);
                proptest::prop_assert_eq!(memory.overlaps_any(low, high), scan);
            }
        }
    }
}
