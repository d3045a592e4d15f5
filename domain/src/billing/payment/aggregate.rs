//! The payment's decisions and state.

use std::collections::BTreeSet;

use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{
    Order, PRICE_CURRENCY, PaymentCommand, PaymentError, PaymentEvent, ProviderUpdate,
    RejectionReason,
};

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    order: Option<Order>,
    seen: BTreeSet<String>,
    completed: bool,
    reversed: bool,
    last_status: Option<String>,
}

impl Payment {
    pub fn order(&self) -> Option<Order> {
        self.order
    }

    pub fn is_completed(&self) -> bool {
        self.completed
    }

    pub fn is_reversed(&self) -> bool {
        self.reversed
    }

    /// The newest provider status, for status pages.
    pub fn last_status(&self) -> Option<&str> {
        self.last_status.as_deref()
    }

    fn judge(
        &self,
        order: Option<Order>,
        amount_cents: u64,
        currency: &str,
        at: time::OffsetDateTime,
    ) -> PaymentEvent {
        let rejected = |reason| PaymentEvent::PaymentRejected {
            reason,
            amount_cents,
            currency: currency.to_owned(),
            at,
        };
        let Some(order) = order else {
            return rejected(RejectionReason::UnknownOrder);
        };
        if !currency.eq_ignore_ascii_case(PRICE_CURRENCY) {
            return rejected(RejectionReason::WrongCurrency);
        }
        if amount_cents < order.choice.price_cents() {
            return rejected(RejectionReason::AmountTooLow);
        }
        PaymentEvent::PaymentCompleted {
            order,
            amount_cents,
            currency: PRICE_CURRENCY.to_owned(),
            at,
        }
    }
}

fn status_label(update: &ProviderUpdate) -> String {
    match update {
        ProviderUpdate::InProgress { status } => status.clone(),
        ProviderUpdate::PartiallyPaid { .. } => "partially_paid".into(),
        ProviderUpdate::Completed { .. } => "completed".into(),
        ProviderUpdate::Failed => "failed".into(),
        ProviderUpdate::Expired => "expired".into(),
        ProviderUpdate::Reversed { .. } => "reversed".into(),
    }
}

impl Aggregate for Payment {
    const TYPE: &'static str = "payment";
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            PaymentCommand::Open { order, now } => match self.order {
                Some(existing) if existing == order => {}
                Some(_) => return Err(PaymentError::OrderMismatch),
                None => {
                    sink.write(PaymentEvent::PaymentOpened { order, at: now }, self)
                        .await
                }
            },
            PaymentCommand::Record {
                provider_event_id,
                update,
                order,
                now,
            } => {
                if self.seen.contains(&provider_event_id) {
                    return Ok(());
                }
                if let (Some(known), Some(claimed)) = (self.order, order)
                    && known != claimed
                {
                    return Err(PaymentError::OrderMismatch);
                }
                let order = self.order.or(order);
                sink.write(
                    PaymentEvent::ProviderEventRecorded {
                        provider_event_id,
                        update: update.clone(),
                        at: now,
                    },
                    self,
                )
                .await;
                let decision = match update {
                    ProviderUpdate::Completed {
                        amount_cents,
                        currency,
                    } if !self.completed && !self.reversed => {
                        Some(self.judge(order, amount_cents, &currency, now))
                    }
                    ProviderUpdate::Reversed { reversal } if !self.reversed => {
                        Some(PaymentEvent::PaymentReversed {
                            reversal,
                            was_completed: self.completed,
                            order,
                            at: now,
                        })
                    }
                    _ => None,
                };
                if let Some(event) = decision {
                    sink.write(event, self).await;
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PaymentEvent::PaymentOpened { order, .. } => self.order = Some(order),
            PaymentEvent::ProviderEventRecorded {
                provider_event_id,
                update,
                ..
            } => {
                self.seen.insert(provider_event_id);
                // A completed payment keeps saying so until reversed.
                if !self.completed || matches!(update, ProviderUpdate::Reversed { .. }) {
                    self.last_status = Some(status_label(&update));
                }
            }
            PaymentEvent::PaymentCompleted { order, .. } => {
                self.order = Some(order);
                self.completed = true;
            }
            PaymentEvent::PaymentRejected { .. } => {}
            PaymentEvent::PaymentReversed { order, .. } => {
                self.order = self.order.or(order);
                self.reversed = true;
            }
        }
    }
}
