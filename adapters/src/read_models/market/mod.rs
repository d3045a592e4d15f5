//! Market read models on PostgreSQL: applying the `projections::market`
//! changes set-based, and the queries the API, the CLI and the pipeline's
//! book restore read.

pub mod analytics;
pub mod book;
pub mod health;
pub mod patterns;
pub mod signals;
pub mod symbols;

use anyhow::Context;

/// The physical table at `index` of a projection's `tables`.
pub(crate) fn table<'a>(tables: &'a [String], index: usize, name: &str) -> anyhow::Result<&'a str> {
    tables
        .get(index)
        .map(String::as_str)
        .with_context(|| format!("projection {name} needs table #{index}"))
}

use std::sync::Arc;

use crate::projector::Projection;

/// Every market projection, for `projector::all()`.
pub fn projections() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(symbols::SymbolsProjection),
        Arc::new(patterns::PatternsProjection),
        Arc::new(patterns::MatrixProjection),
        Arc::new(signals::SignalsProjection),
        Arc::new(health::HealthProjection),
        Arc::new(analytics::AnalyticsProjection),
    ]
}
