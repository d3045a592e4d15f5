//! `cryptolens projections status|rebuild|verify`.

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::Config;
use crate::postgres;
use crate::projector::{self, rebuild, status};

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Each projection with its checkpoint and lag.
    Status,
    /// Replay from zero into fresh tables and swap them in (blue/green).
    Rebuild { name: String },
    /// Compare the live projection with a fresh replay; exit 1 if any row differs.
    Verify { name: String },
}

pub async fn run(config: &Config, command: ProjectionsCommand) -> anyhow::Result<()> {
    let pool = postgres::connect(&config.database_url, 4).await?;
    match command {
        ProjectionsCommand::Status => {
            println!(
                "{:<24} {:>12} {:>12} {:>12} {:>12}  updated",
                "projection", "position", "seen", "lag events", "lag seconds"
            );
            for projection in projector::all() {
                let s = status::status(&pool, projection.name()).await?;
                let updated = match s.updated_at {
                    Some(at) => at.format(&time::format_description::well_known::Rfc3339)?,
                    None => "never".to_owned(),
                };
                println!(
                    "{:<24} {:>12} {:>12} {:>12} {:>12.1}  {}",
                    s.name, s.last_position, s.events_seen, s.lag_events, s.lag_seconds, updated
                );
            }
            Ok(())
        }
        ProjectionsCommand::Rebuild { name } => {
            let projection = projector::by_name(&name)?;
            let bar = ProgressBar::new(0).with_style(
                ProgressStyle::with_template(
                    "{spinner} rebuilding {msg} [{bar:40}] {pos}/{len} events ({per_sec}, eta {eta})",
                )?
                .progress_chars("=> "),
            );
            bar.set_message(name.clone());
            let report = rebuild::rebuild(
                &pool,
                projection.as_ref(),
                config.projector_batch_size.max(1000),
                &|done, total| {
                    bar.set_length(total);
                    bar.set_position(done);
                },
            )
            .await?;
            bar.finish_and_clear();
            println!(
                "rebuilt {name}: {} events replayed, swapped in at position {}",
                report.events, report.position.pos
            );
            Ok(())
        }
        ProjectionsCommand::Verify { name } => {
            let projection = projector::by_name(&name)?;
            let report = rebuild::verify(
                &pool,
                projection.as_ref(),
                config.projector_batch_size.max(1000),
            )
            .await?;
            for (table, n) in &report.differing_rows {
                println!("{table}: {n} differing rows");
            }
            println!(
                "{name}: {} differing rows in total (at position {})",
                report.total(),
                report.position.pos
            );
            if report.total() > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}
