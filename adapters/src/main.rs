//! The `cryptolens` binary.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // reqwest is built without a default crypto provider; install ring's
    // before any client exists.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = adapters::cli::Cli::parse();
    match adapters::cli::run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
