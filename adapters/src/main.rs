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
        // A closed pipe (`cryptolens events tail | head`) is a normal end.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
