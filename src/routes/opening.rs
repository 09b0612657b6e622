//! What makes a new report acceptable, as one pure function: the
//! challenge, the proof of work, the reporter's keys, the report's
//! signature, the chosen recipients and the envelope. No database, no
//! clock: the handler passes the time, and checks the recipients against
//! the desk's with [`Opening::check_active`].

use std::collections::HashSet;

use sotto_envelope::pow::{self, ChallengeKey};
use sotto_envelope::sign::{CaseId, Direction, Signature, VerifyingKey};
use sotto_envelope::{sha256, Recipient};
use sotto_store::{NewCase, NewMessage, RecipientRow};
use sotto_wire::api::OpenCase;
use sotto_wire::CaseState;

use super::checks::{check_envelope, signature_field};
use crate::error::ApiError;

/// A report that passed every check but the desk's recipients.
#[derive(Debug)]
pub struct Opening {
    /// The case id its challenge was issued for.
    pub case: CaseId,
    /// The state it opens in: received, or record-only.
    pub state: CaseState,
    open: OpenCase,
    reporter_x25519: String,
    reporter_ed25519: VerifyingKey,
    signature: Signature,
    /// The envelope's SHA-256, hashed once for every check and the log.
    envelope_hash: [u8; 32],
}

/// Checks a request to open a case, at Unix time `now`, against the
/// server's challenge key and envelope limit, in the order the API
/// documents its errors.
pub fn validate(
    open: OpenCase,
    challenges: &ChallengeKey,
    now: u64,
    max_envelope_bytes: usize,
) -> Result<Opening, ApiError> {
    let challenge = challenges.open(&open.challenge).map_err(|_| {
        ApiError::bad_request(
            "bad_challenge",
            "the challenge is not one this server issued",
        )
    })?;
    if challenge.expires < now {
        return Err(ApiError::bad_request(
            "challenge_expired",
            "the challenge has expired; ask for a new one",
        ));
    }
    if challenge.desk != open.desk {
        return Err(ApiError::bad_request(
            "bad_challenge",
            "the challenge was issued for another desk",
        ));
    }
    let envelope_hash = sha256(&open.envelope);
    if !pow::verify(
        &open.challenge,
        &envelope_hash,
        challenge.difficulty,
        open.pow_nonce,
    ) {
        return Err(ApiError::bad_request(
            "bad_proof_of_work",
            "the proof of work does not solve this challenge for this envelope",
        ));
    }
    let reporter_x25519 = Recipient::parse(&open.reporter_x25519).map_err(|_| {
        ApiError::bad_request("bad_key", "reporter_x25519 is not an age1… recipient")
    })?;
    let reporter_ed25519 = VerifyingKey::parse(&open.reporter_ed25519).map_err(|_| {
        ApiError::bad_request("bad_key", "reporter_ed25519 is not a base64url Ed25519 key")
    })?;
    let signature = signature_field(&open.signature)?;
    reporter_ed25519
        .verify_envelope_digest(
            &challenge.case,
            0,
            Direction::FromReporter,
            &envelope_hash,
            &signature,
        )
        .map_err(|_| {
            ApiError::bad_request("bad_signature", "the report's signature does not verify")
        })?;
    if open.recipients.is_empty() {
        return Err(ApiError::bad_request(
            "no_recipients",
            "choose at least one recipient",
        ));
    }
    let unique: HashSet<&String> = open.recipients.iter().collect();
    if unique.len() != open.recipients.len() {
        return Err(ApiError::bad_request(
            "bad_recipients",
            "a recipient is listed twice",
        ));
    }
    // One stanza per chosen recipient, plus the reporter's own.
    check_envelope(
        &open.envelope,
        open.recipients.len() + 1,
        max_envelope_bytes,
    )?;
    Ok(Opening {
        case: challenge.case,
        state: if open.record_only {
            CaseState::RecordOnly
        } else {
            CaseState::Received
        },
        reporter_x25519: reporter_x25519.to_string(),
        reporter_ed25519,
        signature,
        envelope_hash,
        open,
    })
}

impl Opening {
    /// The desk the report is for.
    pub fn desk(&self) -> &str {
        &self.open.desk
    }

    /// Checks that every chosen recipient is one of the desk's `active`
    /// recipients.
    pub fn check_active(&self, active: &[RecipientRow]) -> Result<(), ApiError> {
        let active: HashSet<&str> = active.iter().map(|r| r.id.as_str()).collect();
        match self
            .open
            .recipients
            .iter()
            .find(|r| !active.contains(r.as_str()))
        {
            Some(unknown) => Err(ApiError::bad_request(
                "unknown_recipient",
                format!(
                    "{unknown} is not a recipient of this desk; GET /v1/desks/{{desk}} lists them"
                ),
            )),
            None => Ok(()),
        }
    }

    /// The case as the store takes it, at the desk `desk_id`, reached by
    /// the handle whose keyed hash is `handle_hash`.
    pub fn new_case(&self, desk_id: i64, handle_hash: [u8; 32]) -> NewCase<'_> {
        NewCase {
            id: self.case.0,
            desk_id,
            handle_hash,
            reporter_x25519: &self.reporter_x25519,
            reporter_ed25519: &self.reporter_ed25519.0,
            recipients: &self.open.recipients,
            state: self.state,
            report: NewMessage {
                seq: 0,
                direction: Direction::FromReporter,
                author: None,
                envelope: &self.open.envelope,
                envelope_hash: self.envelope_hash,
                signature: &self.signature.0,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use sotto_envelope::pow::Challenge;
    use sotto_envelope::sign::SigningKey;
    use sotto_envelope::Identity;
    use zeroize::Zeroizing;

    use super::*;

    const NOW: u64 = 1_800_000_000;
    const MAX: usize = 100_000;

    struct Report {
        key: ChallengeKey,
        open: OpenCase,
        signer: SigningKey,
        case: CaseId,
    }

    /// A report that passes, to two recipients, with a proof of work of
    /// four bits.
    fn report() -> Report {
        let key = ChallengeKey::derive(&[7; 32]);
        let case = CaseId([9; 16]);
        let challenge = key
            .issue(&Challenge {
                case,
                expires: NOW + 60,
                difficulty: 4,
                desk: "default".into(),
            })
            .expect("issue");
        let reporter = Identity::generate();
        let readers = [Identity::generate(), Identity::generate()];
        let envelope = sotto_envelope::encrypt(
            &[
                readers[0].recipient(),
                readers[1].recipient(),
                reporter.recipient(),
            ],
            b"what happened",
        )
        .expect("encrypt");
        let signer = SigningKey::from_seed(Zeroizing::new([3; 32]));
        let signature = signer.sign_envelope(&case, 0, Direction::FromReporter, &envelope);
        let pow_nonce = pow::solve(&challenge, &sha256(&envelope), 4).expect("solve");
        let open = OpenCase {
            desk: "default".into(),
            challenge,
            pow_nonce,
            reporter_x25519: reporter.recipient().to_string(),
            reporter_ed25519: signer.verifying_key().to_string(),
            recipients: vec!["r1".into(), "r2".into()],
            envelope,
            signature: signature.to_string(),
            record_only: false,
        };
        Report {
            key,
            open,
            signer,
            case,
        }
    }

    /// The error code of `report()` changed by `change`, or "ok".
    fn refusal(change: impl FnOnce(&mut OpenCase, &Report)) -> &'static str {
        let r = report();
        let mut open = r.open.clone();
        change(&mut open, &r);
        match validate(open, &r.key, NOW, MAX) {
            Ok(_) => "ok",
            Err(e) => e.code,
        }
    }

    #[test]
    fn a_well_formed_report_opens_its_challenges_case() {
        let r = report();
        let opening = validate(r.open.clone(), &r.key, NOW, MAX).expect("valid");
        assert_eq!(opening.case, r.case);
        assert_eq!(opening.state, CaseState::Received);
        assert_eq!(opening.desk(), "default");
        let stored = opening.new_case(1, [0; 32]);
        assert_eq!(stored.report.envelope, &r.open.envelope[..]);
        assert_eq!(
            stored.report.envelope_hash,
            sha256(&r.open.envelope),
            "the log's hash is the stored envelope's"
        );
    }

    #[test]
    fn a_record_only_report_opens_as_record_only() {
        let r = report();
        let open = OpenCase {
            record_only: true,
            ..r.open
        };
        let opening = validate(open, &r.key, NOW, MAX).expect("valid");
        assert_eq!(opening.state, CaseState::RecordOnly);
    }

    #[test]
    fn a_challenge_from_another_server_is_refused() {
        let other = ChallengeKey::derive(&[8; 32]);
        let forged = |o: &mut OpenCase, r: &Report| {
            let challenge = Challenge {
                case: r.case,
                expires: NOW + 60,
                difficulty: 4,
                desk: "default".into(),
            };
            o.challenge = other.issue(&challenge).expect("issue");
        };
        assert_eq!(refusal(forged), "bad_challenge");
    }

    #[test]
    fn an_expired_challenge_is_refused() {
        let r = report();
        let late = validate(r.open.clone(), &r.key, NOW + 61, MAX).map(|_| ());
        assert_eq!(late.map_err(|e| e.code), Err("challenge_expired"));
    }

    #[test]
    fn a_challenge_for_another_desk_is_refused() {
        assert_eq!(refusal(|o, _| o.desk = "other".into()), "bad_challenge");
    }

    #[test]
    fn a_proof_of_work_for_another_envelope_is_refused() {
        let wrong_nonce = |o: &mut OpenCase, _: &Report| {
            let hash = sha256(&o.envelope);
            o.pow_nonce = (0..)
                .find(|n| !pow::verify(&o.challenge, &hash, 4, *n))
                .expect("a nonce that does not solve the challenge");
        };
        assert_eq!(refusal(wrong_nonce), "bad_proof_of_work");
    }

    #[test]
    fn keys_that_do_not_parse_are_refused() {
        assert_eq!(
            refusal(|o, _| o.reporter_x25519 = "age1nope".into()),
            "bad_key"
        );
        assert_eq!(
            refusal(|o, _| o.reporter_ed25519 = "nope".into()),
            "bad_key"
        );
    }

    #[test]
    fn a_signature_by_another_key_or_for_another_case_is_refused() {
        let stranger = SigningKey::from_seed(Zeroizing::new([4; 32]));
        let by_stranger = |o: &mut OpenCase, r: &Report| {
            let sig = stranger.sign_envelope(&r.case, 0, Direction::FromReporter, &o.envelope);
            o.signature = sig.to_string();
        };
        let for_other_case = |o: &mut OpenCase, r: &Report| {
            let other = CaseId([1; 16]);
            let sig = r
                .signer
                .sign_envelope(&other, 0, Direction::FromReporter, &o.envelope);
            o.signature = sig.to_string();
        };
        // Another envelope, with its proof of work solved: only the
        // signature, made over the first, is wrong.
        let for_other_envelope = |o: &mut OpenCase, _: &Report| {
            o.envelope[40] ^= 1;
            o.pow_nonce = pow::solve(&o.challenge, &sha256(&o.envelope), 4).expect("solve");
        };
        assert_eq!(refusal(by_stranger), "bad_signature");
        assert_eq!(refusal(for_other_case), "bad_signature");
        assert_eq!(refusal(for_other_envelope), "bad_signature");
    }

    #[test]
    fn a_report_to_nobody_or_to_someone_twice_is_refused() {
        assert_eq!(refusal(|o, _| o.recipients.clear()), "no_recipients");
        assert_eq!(
            refusal(|o, _| o.recipients[1] = "r1".into()),
            "bad_recipients"
        );
    }

    #[test]
    fn an_envelope_sealed_to_fewer_recipients_than_chosen_is_refused() {
        assert_eq!(
            refusal(|o, _| o.recipients.push("r3".into())),
            "bad_envelope"
        );
    }

    #[test]
    fn an_envelope_over_the_limit_is_refused() {
        let r = report();
        let small = validate(r.open.clone(), &r.key, NOW, 10).map(|_| ());
        assert_eq!(small.map_err(|e| e.code), Err("too_large"));
    }

    #[test]
    fn a_recipient_who_is_not_active_on_the_desk_is_refused() {
        let r = report();
        let opening = validate(r.open, &r.key, NOW, MAX).expect("valid");
        let row = |id: &str| RecipientRow {
            id: id.into(),
            desk: "default".into(),
            card: String::new(),
            added_on: sotto_wire::Day::parse("2026-12-01").unwrap(),
            removed_on: None,
        };
        assert!(opening.check_active(&[row("r1"), row("r2")]).is_ok());
        let refused = opening.check_active(&[row("r1")]).map_err(|e| e.code);
        assert_eq!(refused, Err("unknown_recipient"));
    }
}
