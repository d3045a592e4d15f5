//! The market scan job: fetch and process every listed symbol, recorded as
//! a job run.

use domain::job::{JobCommand, SymbolReport};
use domain::market::Symbol;
use futures::StreamExt;
use uuid::Uuid;

use super::{MarketPipeline, PipelineError};
use crate::store::EventStores;
use crate::{CommandError, Metadata};

/// The job name of the scan (also its advisory-lock key in the adapters).
pub const SCAN_JOB: &str = "market-scan";

impl<S: EventStores> MarketPipeline<S> {
    /// Fetch, store, aggregate, detect and update the book of one symbol.
    pub async fn scan_symbol(
        &self,
        symbol: &Symbol,
        report: &mut SymbolReport,
        metadata: &Metadata,
    ) -> Result<(), PipelineError> {
        self.fetch_new(symbol, report).await?;
        self.process(symbol, report, metadata).await
    }

    /// One run of the scan over every listed symbol, as a job run with id
    /// `run_id`: `JobStarted`, then `JobFinished` with a report per symbol
    /// (a symbol's failure is reported in its entry, the others carry on),
    /// or `JobFailed` when the run as a whole could not proceed.
    #[tracing::instrument(skip_all, fields(%run_id))]
    pub async fn run_scan(
        &self,
        run_id: Uuid,
        instance: &str,
        metadata: &Metadata,
    ) -> Result<Vec<SymbolReport>, PipelineError> {
        let id = run_id.to_string();
        let start = JobCommand::Start {
            job: SCAN_JOB.to_owned(),
            instance: instance.to_owned(),
            now: self.clock.now(),
        };
        self.jobs
            .execute(&id, start, metadata)
            .await
            .map_err(|e| job_error(&e))?;
        let symbols = match self.book.listed_symbols().await {
            Ok(symbols) => symbols,
            Err(error) => {
                let reason = format!("listing the symbols failed: {error}");
                self.fail(&id, &reason, metadata).await;
                return Err(PipelineError::Storage(error));
            }
        };
        let reports: Vec<SymbolReport> = futures::stream::iter(symbols)
            .map(|symbol| async move {
                let mut report = SymbolReport::new(&symbol);
                if let Err(error) = self.scan_symbol(&symbol, &mut report, metadata).await {
                    tracing::warn!(%symbol, error = %error, "scanning a symbol failed");
                    report.error = Some(error.to_string());
                }
                report
            })
            .buffered(self.options.symbol_concurrency.max(1))
            .collect()
            .await;
        let finish = JobCommand::Finish {
            symbols: reports.clone(),
            now: self.clock.now(),
        };
        self.jobs
            .execute(&id, finish, metadata)
            .await
            .map_err(|e| job_error(&e))?;
        Ok(reports)
    }

    async fn fail(&self, id: &str, reason: &str, metadata: &Metadata) {
        let fail = JobCommand::Fail {
            reason: reason.to_owned(),
            now: self.clock.now(),
        };
        if let Err(error) = self.jobs.execute(id, fail, metadata).await {
            tracing::error!(error = %error, "recording the failure of a job run failed too");
        }
    }
}

fn job_error<E: std::error::Error>(error: &CommandError<E>) -> PipelineError {
    PipelineError::Command {
        what: "job run",
        message: error.to_string(),
    }
}
