use cqrs_es::test::TestFramework;
use time::macros::datetime;
use uuid::Uuid;

use super::*;

type ClaimTest = TestFramework<Claim>;

const ADA: Uuid = Uuid::from_u128(1);
const BOB: Uuid = Uuid::from_u128(2);

fn reserved(owner: Uuid) -> ClaimEvent {
    ClaimEvent::ClaimReserved {
        owner,
        at: datetime!(2026-01-01 00:00 UTC),
    }
}

fn reserve(owner: Uuid, minutes_later: i64) -> ClaimCommand {
    ClaimCommand::Reserve {
        owner,
        now: datetime!(2026-01-01 00:00 UTC) + time::Duration::minutes(minutes_later),
    }
}

#[test]
fn a_free_value_can_be_reserved() {
    ClaimTest::with(())
        .given_no_previous_events()
        .when(reserve(ADA, 0))
        .then_expect_events(vec![reserved(ADA)]);
}

#[test]
fn a_fresh_reservation_blocks_others() {
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(reserve(BOB, 14))
        .then_expect_error(ClaimError::Taken);
}

#[test]
fn a_confirmed_claim_blocks_others_forever() {
    ClaimTest::with(())
        .given(vec![
            reserved(ADA),
            ClaimEvent::ClaimConfirmed { owner: ADA },
        ])
        .when(reserve(BOB, 60 * 24 * 365))
        .then_expect_error(ClaimError::Taken);
}

#[test]
fn a_lapsed_reservation_can_be_taken_over() {
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(reserve(BOB, 15))
        .then_expect_events(vec![ClaimEvent::ClaimReserved {
            owner: BOB,
            at: datetime!(2026-01-01 00:15 UTC),
        }]);
}

#[test]
fn reserving_again_as_the_same_owner_changes_nothing() {
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(reserve(ADA, 1))
        .then_expect_events(vec![]);
}

#[test]
fn only_the_reserving_owner_can_confirm() {
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(ClaimCommand::Confirm { owner: BOB })
        .then_expect_error(ClaimError::NotReservedByOwner);
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(ClaimCommand::Confirm { owner: ADA })
        .then_expect_events(vec![ClaimEvent::ClaimConfirmed { owner: ADA }]);
}

#[test]
fn a_released_value_is_free_again() {
    ClaimTest::with(())
        .given(vec![
            reserved(ADA),
            ClaimEvent::ClaimReleased { owner: ADA },
        ])
        .when(reserve(BOB, 1))
        .then_expect_events(vec![ClaimEvent::ClaimReserved {
            owner: BOB,
            at: datetime!(2026-01-01 00:01 UTC),
        }]);
}

#[test]
fn releasing_someone_elses_claim_does_nothing() {
    ClaimTest::with(())
        .given(vec![reserved(ADA)])
        .when(ClaimCommand::Release { owner: BOB })
        .then_expect_events(vec![]);
}
