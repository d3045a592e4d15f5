//! The RabbitMQ connection: kept open by a supervisor task that reconnects
//! with backoff, and reported by the readiness check. (Publishing and
//! consuming arrive with the notifications feature.)

use std::sync::Arc;
use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use tokio::sync::RwLock;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Default)]
pub struct Broker {
    connection: Arc<RwLock<Option<Connection>>>,
}

impl Broker {
    pub async fn is_connected(&self) -> bool {
        self.connection
            .read()
            .await
            .as_ref()
            .is_some_and(|c| c.status().connected())
    }

    /// Connects, and reconnects whenever the connection is lost, until shutdown.
    pub async fn run(self, url: String, name: String, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(500);
        loop {
            let properties = ConnectionProperties::default()
                .with_connection_name(name.clone().into())
                .enable_auto_recover();
            let connected = tokio::select! {
                _ = shutdown.cancelled() => return,
                result = Connection::connect(&url, properties) => result,
            };
            match connected {
                Ok(connection) => {
                    tracing::info!("connected to RabbitMQ");
                    backoff = Duration::from_millis(500);
                    *self.connection.write().await = Some(connection);
                    loop {
                        tokio::select! {
                            _ = shutdown.cancelled() => {
                                if let Some(c) = self.connection.write().await.take() {
                                    let _ = c.close(200, "shutting down".into()).await;
                                }
                                return;
                            }
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        }
                        let closed = self
                            .connection
                            .read()
                            .await
                            .as_ref()
                            .is_none_or(|c| c.status().closed() || c.status().errored());
                        if closed {
                            tracing::warn!("RabbitMQ connection lost; reconnecting");
                            self.connection.write().await.take();
                            break;
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = backoff.as_millis() as u64, "cannot connect to RabbitMQ");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }
}
