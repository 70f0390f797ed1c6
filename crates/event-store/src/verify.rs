//! Walking the hash chain.

use crate::error::Result;
use crate::event::Position;
use crate::hash::{Hash, HashInput};
use crate::store::EventStore;

/// The result of checking the whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Every event's hash matches and positions run 1..=count without gaps.
    Intact { events: u64, head: Hash },
    /// The first position at which the log does not check out.
    Broken { position: Position, reason: String },
}

/// Recomputes every hash from the start of the log and compares it with the
/// stored one, and checks the head row agrees with the last event.
pub async fn verify(store: &dyn EventStore) -> Result<Verification> {
    const BATCH: usize = 10_000;
    let mut previous = Hash::GENESIS;
    let mut cursor = Position::START;
    loop {
        let batch = store.read_all(cursor, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for event in &batch {
            if event.position != cursor.next() {
                return Ok(Verification::Broken {
                    position: cursor.next(),
                    reason: format!(
                        "position {} is missing (next stored is {})",
                        cursor.next(),
                        event.position
                    ),
                });
            }
            let expected = HashInput::from(event).chain(&previous);
            if expected != event.hash {
                return Ok(Verification::Broken {
                    position: event.position,
                    reason: format!(
                        "stored hash {} does not match recomputed {}",
                        event.hash, expected
                    ),
                });
            }
            previous = event.hash;
            cursor = event.position;
        }
    }
    let head = store.head().await?;
    if head.position != cursor || head.hash != previous {
        return Ok(Verification::Broken {
            position: cursor.next().min(head.position.max(cursor)),
            reason: format!(
                "head says position {} hash {}, the log ends at position {} hash {}",
                head.position, head.hash, cursor, previous
            ),
        });
    }
    Ok(Verification::Intact {
        events: cursor.0,
        head: previous,
    })
}
