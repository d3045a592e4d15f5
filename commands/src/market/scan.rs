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
        self.run_job(SCAN_JOB, run_id, instance, metadata, async {
            let symbols = self
                .book
                .listed_symbols()
                .await
                .map_err(PipelineError::Storage)?;
            Ok(futures::stream::iter(symbols)
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
                .await)
        })
        .await
    }

    /// Runs `work` as a job run named `job` with id `run_id`: `JobStarted`,
    /// then `JobFinished` with the reports, or `JobFailed` with the reason.
    pub async fn run_job(
        &self,
        job: &str,
        run_id: Uuid,
        instance: &str,
        metadata: &Metadata,
        work: impl Future<Output = Result<Vec<SymbolReport>, PipelineError>>,
    ) -> Result<Vec<SymbolReport>, PipelineError> {
        let id = run_id.to_string();
        let start = JobCommand::Start {
            job: job.to_owned(),
            instance: instance.to_owned(),
            now: self.clock.now(),
        };
        self.jobs
            .execute(&id, start, metadata)
            .await
            .map_err(|e| job_error(&e))?;
        match work.await {
            Ok(reports) => {
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
            Err(error) => {
                let fail = JobCommand::Fail {
                    reason: error.to_string(),
                    now: self.clock.now(),
                };
                if let Err(failed) = self.jobs.execute(&id, fail, metadata).await {
                    tracing::error!(error = %failed, "recording the failure of a job run failed too");
                }
                Err(error)
            }
        }
    }
}

fn job_error<E: std::error::Error>(error: &CommandError<E>) -> PipelineError {
    PipelineError::Command {
        what: "job run",
        message: error.to_string(),
    }
}
